#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one for a bounded time from
# generated seeds plus the inputs of spec/fuzz/regress/ (past failures, kept as regression tests).
#   spec/fuzz/run.sh              # 60 s per target
#   WICK_FUZZ_SECONDS=600 spec/fuzz/run.sh
# Exits non-zero if any target crashes, leaks or times out; the input is kept in build-fuzz/crashes.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${WICK_FUZZ_SECONDS:-60}
build=${WICK_FUZZ_BUILD:-build-fuzz}

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DWICK_FUZZ=ON \
  -DWICK_CUDA=OFF -DWICK_GLOO=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target fuzz_safetensors fuzz_torchload fuzz_pickle >/dev/null

rm -rf "$build/seeds"
/usr/bin/python3 spec/fuzz/seeds.py "$build/seeds"
mkdir -p "$build/crashes"
status=0
for target in safetensors torchload pickle; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  inputs=("$corpus" "$build/seeds/$target")
  [ -d "spec/fuzz/regress/$target" ] && inputs+=("spec/fuzz/regress/$target")
  echo "== fuzz_$target: ${secs}s"
  if ! "$build/spec/fuzz/fuzz_$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/crashes/$target-" "${inputs[@]}" \
      >"$build/fuzz_$target.log" 2>&1; then
    echo "== fuzz_$target FAILED (input kept in $build/crashes/):"
    tail -60 "$build/fuzz_$target.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz_$target.log" | tr '\n' ' '
    echo
  fi
done
exit $status
