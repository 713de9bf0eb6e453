#!/usr/bin/env bash
# The GPU check in one command, for a machine with a CUDA GPU: configures and builds wick with
# CUDA in build-gpu, runs every GPU spec (spec/gpu/*_spec.lua: each CUDA op against its CPU
# twin, autograd, the allocator, NCCL at world size 1, DDP on NCCL, DataParallel, Pipeline),
# then the GPU benchmark against PyTorch (bench/gpu/run.sh), and prints a summary. Sized to
# finish within about 6 minutes on one H100. Exit status: non-zero when a build or spec failed.
# On a lent machine, spec/gpu/device.sh runs this with a wick prebuilt by spec/gpu/bundle.sh.
# usage: spec/gpu/run.sh [--no-bench] [--bench-size full|tiny]
#   env: WICK_GPU_BUILD (build dir, default build-gpu), WICK_CUDA_ARCH (default: the GPU's own),
#        JOBS (default 16), PYTHON (a python with torch for the benchmark),
#        WICK_GPU_PREBUILT (a wick to use instead of building), WICK_GPU_LOG (logs, default
#        $WICK_GPU_BUILD/gpu-check), WICK_GPU_SPEC_TIMEOUT (s per spec file, default 240),
#        WICK_GPU_BENCH_TIMEOUT (s, default 300), WICK_GPU_DEADLINE (s for the whole run, default
#        none: spec files get what is left after WICK_GPU_BENCH_RESERVE s, default 120, for the
#        benchmark, and a spec file with under 10 s left is not run)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${WICK_GPU_BUILD:-build-gpu}
jobs=${JOBS:-16}
bench=1
bench_size=full
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-bench) bench=0 ;;
    --bench-size) bench_size=$2; shift ;;
    *) echo "spec/gpu/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
t_start=$(date +%s)
log=${WICK_GPU_LOG:-$build/gpu-check}
prebuilt=${WICK_GPU_PREBUILT:-}
spec_timeout=${WICK_GPU_SPEC_TIMEOUT:-240}
bench_timeout=${WICK_GPU_BENCH_TIMEOUT:-300}
deadline=${WICK_GPU_DEADLINE:-0}
bench_reserve=${WICK_GPU_BENCH_RESERVE:-120}
mkdir -p "$log"
summary=()
status=0
stamp() { echo "[$(( $(date +%s) - t_start ))s] $*"; }
# seconds a step may take: at most $1, and within the deadline less $2 kept for later steps
allow() {
  local t=$1
  if [[ $deadline -gt 0 ]]; then
    local left=$(( deadline - ($(date +%s) - t_start) - $2 ))
    (( left < t )) && t=$left
  fi
  echo "$t"
}

echo "== GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>&1 | head -4
if [[ -n $prebuilt ]]; then
  wick=$prebuilt
  [[ -x $wick ]] || { echo "SUMMARY: WICK_GPU_PREBUILT=$wick is not an executable"; exit 1; }
  stamp "== prebuilt wick: $wick (no build)"
else
  arch=${WICK_CUDA_ARCH:-}
  if [[ -z $arch ]]; then
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
    [[ $arch =~ ^[0-9]+$ ]] || arch="80;90"
  fi

  stamp "== configure + build ($build, CUDA architectures $arch, -j$jobs)"
  if ! cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWICK_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch" \
       > "$log/configure.log" 2>&1; then
    tail -30 "$log/configure.log"; echo "SUMMARY: configure failed"; exit 1
  fi
  grep -E '✓|✗' "$log/configure.log"
  if ! cmake --build "$build" -j"$jobs" > "$log/build.log" 2>&1; then
    grep -E 'error|Error' "$log/build.log" | head -40; echo "SUMMARY: build failed"; exit 1
  fi
  wick=$root/$build/wick
  stamp "built $wick"
fi
"$wick" info 2>/dev/null | head -20

stamp "== GPU specs"
for spec in spec/gpu/*_spec.lua; do
  name=$(basename "$spec" _spec.lua)
  out=$log/$name.log
  t0=$(date +%s)
  limit=$(allow "$spec_timeout" $(( bench ? bench_reserve : 0 )))
  if (( limit < 10 )); then
    status=1
    summary+=("$(printf '%-16s %-46s %4ss  %s' "$name" "not run: out of time" 0 FAILED)")
    stamp "$name: not run (out of time)"
    continue
  fi
  WICK_BIN=$wick timeout "$limit" "$wick" spec/run.lua "$spec" > "$out" 2>&1
  rc=$?
  line=$(grep -E '^specs: ' "$out" | tail -1)
  [[ -n $line ]] || line="no result (exit $rc)"
  [[ $rc -eq 124 ]] && line="$line, timed out after ${limit}s"
  if [[ $rc -ne 0 ]]; then
    status=1
    grep -vE '^\s*$' "$out" | grep -E -A12 'Failure|Error|error' | head -60
  fi
  summary+=("$(printf '%-16s %-46s %4ss  %s' "$name" "$line" "$(( $(date +%s) - t0 ))" "$([[ $rc -eq 0 ]] && echo ok || echo FAILED)")")
  stamp "$name: $line"
done

if [[ $bench -eq 1 ]]; then
  limit=$(allow "$bench_timeout" 0)
  stamp "== GPU benchmark (bench/gpu/run.sh --size $bench_size, at most ${limit}s)"
  if (( limit < 10 )); then
    echo "benchmark not run: out of time" | tee "$log/bench.txt"; status=1
  else
    timeout "$limit" bash bench/gpu/run.sh "$wick" --device cuda --size "$bench_size" 2>&1 | tee "$log/bench.txt"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "benchmark failed or timed out"; status=1; }
  fi
fi

echo
echo "==================== SUMMARY ($(( $(date +%s) - t_start )) s) ===================="
nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1
for s in "${summary[@]}"; do echo "$s"; done
# why tests were pending (on a GPU machine, "no CUDA device" here means the device was not seen)
pending=$(awk '/^Pending -> /{p=2; next} p && --p == 0' "$log"/*.log 2>/dev/null \
  | sed -E 's/^[^ ]*:[0-9]+: //' | sort | uniq -c | sort -rn)
[[ -n $pending ]] && { echo "pending, by reason:"; echo "$pending"; }
n_gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if [[ $n_gpus -gt 0 ]] && grep -q ' no CUDA device$' <<< "$pending"; then
  echo "nvidia-smi lists $n_gpus GPU(s), but specs saw no CUDA device"; status=1
fi
[[ $bench -eq 1 && -f $log/bench.txt ]] && cat "$log/bench.txt"
echo "result: $([[ $status -eq 0 ]] && echo PASS || echo FAIL)   (logs: $log)"
exit $status
