#!/usr/bin/env bash
# Checks the bundle of spec/gpu/bundle.sh here, before any device time is spent: a fresh copy of
# it, run through spec/gpu/device.sh under `env -i` with only /usr/bin:/bin on PATH, the system's
# Lua modules off the paths, and CUDA libraries found the way the device finds them (through a
# python whose `nvidia` package holds them, simulated with links into /usr/local/cuda). Asserts:
# wick and its Lua modules load from the bundle (LD_DEBUG, strace), `wick info` runs, every GPU
# spec file loads and reports pending without a device, and the CPU-twin runs (WICK_GPU_TWIN=cpu)
# pass with the carried busted.
# As root, it runs in a private mount namespace that also hides what the GPU machine lacks: the
# system's copies of every library in the bundle's lib/, its Lua module folders and the loader
# cache (so the CUDA libraries can come only from the simulated wheels, and gcc's runtime from
# lib-fallback), and checks that a bundle missing liblua is refused there.
# usage: spec/gpu/bundle_check.sh [bundle folder, default build-bundle]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
src=${1:-build-bundle}
[[ -f $src/wick-gpu.tar.gz ]] || { echo "no $src/wick-gpu.tar.gz: run spec/gpu/bundle.sh first" >&2; exit 1; }
if [[ $(id -u) -eq 0 && -z ${WICK_BUNDLE_CHECK_NS:-} ]] && unshare -m true 2>/dev/null; then
  exec unshare -m env WICK_BUNDLE_CHECK_NS=1 bash "$0" "$@"
fi
hidden=0
if [[ ${WICK_BUNDLE_CHECK_NS:-} == 1 ]]; then
  for name in $(tar -tzf "$src/wick-gpu.tar.gz" | sed -n 's,^\./lib/,,p'); do
    for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
      [[ -e $d/$name ]] && mount --bind /dev/null "$(readlink -f "$d/$name")"
    done
  done
  for d in /usr/share/lua /usr/local/share/lua /usr/lib/x86_64-linux-gnu/lua /usr/local/lib/lua; do
    [[ -d $d ]] && mount -t tmpfs none "$d"
  done
  mount --bind /dev/null /etc/ld.so.cache
  hidden=1
  echo "== system copies of the bundle's libraries, Lua modules and the loader cache hidden"
fi
tmp=$(mktemp -d /tmp/wick-bundle-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

cp -r "$src" "$tmp/bundle"
check "the bundle matches this tree's sources and Lua (else rerun spec/gpu/bundle.sh)" \
  "[[ \"\$(sed -n 's/^sources: //p' $src/MANIFEST.txt)\" == \"\$(bash spec/gpu/sources_hash.sh)\" ]]"
# the device's python wheels: nvidia/<name>/lib/<the CUDA stack's libraries>
cuda=${CUDA_HOME:-/usr/local/cuda}
for pair in cudnn:libcudnn nccl:libnccl cu13:libcudart cu13:libcublas; do
  mkdir -p "$tmp/py/nvidia/${pair%%:*}/lib"
  for f in "$cuda"/lib64/"${pair#*:}"*.so.* "$cuda"/lib/"${pair#*:}"*.so.*; do
    [[ -e $f ]] && ln -sf "$(readlink -f "$f")" "$tmp/py/nvidia/${pair%%:*}/lib/$(basename "$f")"
  done
done
clean=(env -i PATH=/usr/bin:/bin HOME="$tmp" LANG=C.UTF-8 PYTHONPATH="$tmp/py"
       WICK_BUNDLE="$tmp/bundle" WICK_GPU_UNPACK="$tmp/u" WICK_GPU_PYTHON=/usr/bin/python3
       CUDA_HOME=/nonexistent)

echo "== device.sh without a GPU (every spec pending)"
"${clean[@]}" OUT="$tmp/out1" WICK_GPU_NO_BENCH=1 bash spec/gpu/device.sh > "$tmp/run1.txt" 2>&1
rc=$?
check "device.sh exits 0 ($rc)" '[[ $rc -eq 0 ]]'
for f in device.log summary.txt gpu-logs.tar.gz; do check "\$OUT/$f written" "[[ -s $tmp/out1/$f ]]"; done
check "CUDA libraries found in the python's nvidia wheels" \
  "grep -q '^  libcudnn.so.9: $tmp/py/nvidia/cudnn/lib/' $tmp/run1.txt && grep -q '^  libnccl.so.2: $tmp/py/nvidia/nccl/lib/' $tmp/run1.txt && grep -q '^  libcudart.so.13: $tmp/py/nvidia/cu13/lib/' $tmp/run1.txt && ! grep -q 'NOT FOUND' $tmp/run1.txt"
check "wick info runs" "grep -q 'no CUDA device' $tmp/run1.txt"
n_specs=$(ls spec/gpu/*_spec.lua | wc -l)
check "all $n_specs spec files ran and none failed" \
  "[[ \$(grep -cE '^\S+ +specs: [0-9]+ passed, 0 failed, [0-9]+ skipped .* ok$' $tmp/out1/summary.txt) -eq $n_specs ]]"
check "the CUDA comparisons are pending, not run" "grep -qE '^ops +specs: 0 passed, 0 failed, [1-9]' $tmp/out1/summary.txt"
check "pending reason is 'no CUDA device'" \
  "mkdir -p $tmp/logs1 && tar -C $tmp/logs1 -xzf $tmp/out1/gpu-logs.tar.gz && grep -q 'no CUDA device' $tmp/logs1/logs/ops.log"

echo "== libraries and Lua modules come from the bundle"
w=$tmp/u/wick
"${clean[@]}" LD_DEBUG=libs "$w" info > "$tmp/ld.txt" 2>&1
for l in liblua5.4.so.0 libyaml-0.so.2 libedit.so.2 libopenblas.so.0 libgloo.so.0 libgfortran.so.5; do
  check "$l loaded from the bundle" "grep -q 'calling init: $tmp/u/lib/$l\$' $tmp/ld.txt"
done
check "libcudart and cuDNN loaded as device.sh chose them" \
  "grep -q 'calling init: $tmp/u/cuda-lib/libcudart.so.13' $tmp/ld.txt && grep -q 'calling init: $tmp/u/cuda-lib/libcudnn.so.9' $tmp/ld.txt"
if command -v strace >/dev/null; then
  "${clean[@]}" strace -f -e trace=openat -o "$tmp/strace.txt" "$w" spec/run.lua spec/gpu/ops_spec.lua > /dev/null 2>&1
  check "busted read from the bundle" "grep -q '$tmp/u/lua/share/busted/runner.lua' $tmp/strace.txt"
  check "lfs.so read from the bundle" "grep -q '$tmp/u/lua/lib/lfs.so' $tmp/strace.txt"
  check "nothing opened under /usr/share/lua or /usr/lib/*/lua" \
    "[[ \$(grep -E '\"/usr/(share|local/share|lib/x86_64-linux-gnu)/lua' $tmp/strace.txt | grep -vc ENOENT) -eq 0 ]]"
  check "no system liblua/libopenblas/libyaml opened" \
    "[[ \$(grep -E '\"/(usr/)?lib/x86_64-linux-gnu/(liblua|libopenblas|libyaml|libgloo|libedit)' $tmp/strace.txt | grep -vc ENOENT) -eq 0 ]]"
fi

if [[ $hidden -eq 1 ]]; then
  check "gcc's runtime taken from lib-fallback (no loader cache)" "grep -q 'libstdc++.so.6: carried copy' $tmp/run1.txt"
  echo "== a bundle without liblua is refused where the system has none"
  mkdir -p "$tmp/neg/s" "$tmp/neg/b"
  tar -C "$tmp/neg/s" -xzf "$src/wick-gpu.tar.gz" && rm "$tmp/neg/s/lib/liblua5.4.so.0"
  tar -C "$tmp/neg/s" -czf "$tmp/neg/b/wick-gpu.tar.gz" .
  "${clean[@]}" OUT="$tmp/out3" WICK_BUNDLE="$tmp/neg/b" WICK_GPU_UNPACK="$tmp/neg/u" WICK_GPU_NO_BENCH=1 \
    bash spec/gpu/device.sh > "$tmp/run3.txt" 2>&1
  rc=$?
  check "device.sh stops ($rc) and says why" "[[ $rc -ne 0 ]] && grep -q '^STOP: ' $tmp/out3/summary.txt"
fi

echo "== a CUDA library older than wick's headers is skipped or named"
mkdir -p "$tmp/old/s" "$tmp/old/b"
tar -C "$tmp/old/s" -xzf "$src/wick-gpu.tar.gz"
sed -i -E 's/(libcudnn.so.9) [0-9]+/\1 999999/' "$tmp/old/s/MANIFEST.txt"
tar -C "$tmp/old/s" -czf "$tmp/old/b/wick-gpu.tar.gz" .
"${clean[@]}" OUT="$tmp/out4" WICK_BUNDLE="$tmp/old/b" WICK_GPU_UNPACK="$tmp/old/u" WICK_GPU_NO_BENCH=1 \
  bash spec/gpu/device.sh > "$tmp/run4.txt" 2>&1
check "device.sh warns that every cuDNN found is older" \
  "grep -q 'WARNING: every libcudnn.so.9 found is older than the 999999 wick was built against' $tmp/run4.txt"

echo "== CPU-twin runs (WICK_GPU_TWIN=cpu) with the carried busted"
"${clean[@]}" OUT="$tmp/out2" WICK_GPU_NO_BENCH=1 WICK_GPU_TWIN=cpu bash spec/gpu/device.sh > "$tmp/run2.txt" 2>&1
rc=$?
check "device.sh exits 0 ($rc)" '[[ $rc -eq 0 ]]'
for s in ops nn device; do
  check "$s: twin comparisons pass" "grep -qE '^$s +specs: [1-9][0-9]* passed, 0 failed' $tmp/out2/summary.txt"
done
echo "== bench/gpu/run.sh (cpu, tiny) with the wrapper, torch from /usr/bin/python3 if it has it"
"${clean[@]}" PYTHON=/usr/bin/python3 bash bench/gpu/run.sh "$w" --device cpu --size tiny > "$tmp/bench.txt" 2>&1
check "the benchmark's wick side runs" "grep -qE '^gpt_step +[0-9.]+ ms' $tmp/bench.txt"
if "${clean[@]}" /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  check "the benchmark's torch side runs and is joined" "grep -qE '^gpt_step +[0-9.]+ ms +[0-9.]+ +[0-9.]+' $tmp/bench.txt"
fi

echo
sed -n '/SUMMARY/,/result/p' "$tmp/out2/summary.txt"
if [[ $fails -ne 0 ]]; then
  echo "bundle_check: $fails check(s) failed; outputs:"; tail -40 "$tmp/run1.txt"; exit 1
fi
echo "bundle_check: all checks passed"
