#!/usr/bin/env bash
# The one command for a lent GPU machine: unpacks the bundle made here by spec/gpu/bundle.sh
# (carried as build-bundle), finds the machine's CUDA libraries (its CUDA install and PyTorch's
# nvidia-* wheels), prints the machine, runs spec/gpu/run.sh with the prebuilt wick (every GPU
# spec, then bench/gpu against the machine's PyTorch) and leaves under $OUT: device.log (all of
# the output), summary.txt and gpu-logs.tar.gz (one log per spec file, the benchmark table).
# usage (device tool): carry ["build-bundle"], command "bash spec/gpu/device.sh"
#   env: WICK_BUNDLE (the bundle folder, default build-bundle), WICK_GPU_PYTHON (the python whose
#        nvidia wheels hold cuDNN/NCCL/cuBLAS, default python3), WICK_GPU_CUDA_DIRS (folders
#        searched first, ':'-separated), WICK_GPU_NO_BENCH=1 (skip the benchmark),
#        WICK_GPU_BENCH_SIZE (full or tiny, default full), WICK_GPU_UNPACK (default /tmp/wick-gpu),
#        WICK_GPU_DEADLINE (s for run.sh, default what is left of 330 s), WICK_GPU_SPEC_TIMEOUT
#        (s per spec file, default 120), WICK_GPU_BENCH_TIMEOUT (default 150); others, such as
#        WICK_GPU_TWIN=cpu, reach the specs unchanged
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
OUT=${OUT:-$root/build-gpu-out}
mkdir -p "$OUT"
t0=$(date +%s)
say() { echo "[device.sh $(( $(date +%s) - t0 ))s] $*"; }
die() { say "STOP: $*"; echo "STOP: $*" > "$OUT/summary.txt"; exit 1; }
ldconfig=$(command -v ldconfig || ls /sbin/ldconfig /usr/sbin/ldconfig 2>/dev/null | head -1)
# the loader cache's 64-bit entries, read once (grep -q on a live pipe would kill it: pipefail)
ldc=$([[ -n $ldconfig ]] && "$ldconfig" -p 2>/dev/null | grep 'x86-64')
in_cache() { grep -q "^[[:space:]]*$1 " <<< "$ldc"; }
cache_path() { awk -v l="$1" '$1 == l {print $NF; exit}' <<< "$ldc"; }

# " (version N)" of a CUDA library, asked through python's ctypes; nothing when that fails
lib_version() {
  [[ -n ${py:-} ]] || return 0
  "$py" - "$1" "$2" <<'EOF' 2>/dev/null
import ctypes, sys
name, path = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(path)
v = ctypes.c_int()
if name.startswith("libcudnn"):
    print(" (version %d)" % lib.cudnnGetVersion(), end="")
elif name.startswith("libnccl") and lib.ncclGetVersion(ctypes.byref(v)) == 0:
    print(" (version %d)" % v.value, end="")
elif name.startswith("libcudart") and lib.cudaRuntimeGetVersion(ctypes.byref(v)) == 0:
    print(" (version %d)" % v.value, end="")
EOF
}

# everything runs inside main, whose output goes to the terminal and to $OUT/device.log
main() {
say "== machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "os:      $( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || uname -s), kernel $(uname -r), $(nproc) CPUs"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
echo "glibc:   ${glibc:-unknown}"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>&1 | sed 's/^/gpu:     /'
  echo "driver:  $(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -1) (the newest CUDA the driver takes)"
else
  echo "gpu:     nvidia-smi not found"
fi
nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
echo "nvcc:    ${nvcc:-none} $([[ -n $nvcc ]] && "$nvcc" --version | grep -o 'release [0-9.]*' | head -1)"
py=${WICK_GPU_PYTHON:-python3}
# the image's PyTorch lives in /opt/torch/.venv: use it when python3 on PATH has no torch
if [[ -z ${WICK_GPU_PYTHON:-} ]] && ! python3 -c 'import torch' 2>/dev/null && [[ -x /opt/torch/.venv/bin/python3 ]]; then
  py=/opt/torch/.venv/bin/python3
fi
if command -v "$py" >/dev/null; then
  echo "python:  $(command -v "$py") $("$py" -c 'import sys; print(sys.version.split()[0])' 2>&1)"
  echo "torch:   $("$py" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "gpu:", torch.cuda.is_available())' 2>&1 | tail -1)"
else
  echo "python:  $py not found"; py=
fi

say "== bundle"
bundle=${WICK_BUNDLE:-$root/build-bundle}
[[ -f $bundle/wick-gpu.tar.gz ]] || die "no $bundle/wick-gpu.tar.gz: run spec/gpu/bundle.sh here and carry build-bundle"
u=${WICK_GPU_UNPACK:-/tmp/wick-gpu}
rm -rf "$u" && mkdir -p "$u" && tar -C "$u" -xzf "$bundle/wick-gpu.tar.gz" || die "cannot unpack the bundle into $u"
head -4 "$u/MANIFEST.txt"
want=$(sed -n 's/^sources: //p' "$u/MANIFEST.txt")
have=$(bash spec/gpu/sources_hash.sh 2>/dev/null || echo unknown)
if [[ $want != "$have" ]]; then
  say "WARNING: the bundle was made from other sources or Lua ($want) than this tree's ($have):"
  say "WARNING: results may not be this tree's; rerun spec/gpu/bundle.sh and bundle_check.sh here"
fi
need=$(sed 's/GLIBC_//' "$u/GLIBC_NEEDED")
if [[ -n $glibc && $(printf '%s\n%s\n' "$need" "$glibc" | sort -t. -k1,1n -k2,2n | head -1) != "$need" ]]; then
  say "WARNING: the bundle needs glibc $need, this machine has $glibc"
fi

say "== CUDA libraries"
# every shared library of the CUDA stack that wick links or loads, found in: WICK_GPU_CUDA_DIRS,
# the nvidia-* wheels of $py (the ones PyTorch uses, so both sides of the benchmark share them),
# the CUDA install, then the system's loader cache
# (nvrtc and nvJitLink: cuDNN's run-time compiled engines load them when present)
want_libs=(libcudart.so.13 libcudnn.so.9 libnccl.so.2 libcublas.so.13 libcublasLt.so.13)
optional_libs=(libnvrtc.so.13 libnvJitLink.so.13)
dirs=()
IFS=: read -r -a extra <<< "${WICK_GPU_CUDA_DIRS:-}"
for d in "${extra[@]}"; do [[ -n $d ]] && dirs+=("$d"); done
if [[ -n $py ]]; then
  while read -r d; do [[ -n $d ]] && dirs+=("$d"); done < <("$py" - <<'EOF' 2>/dev/null
import os
try:
    import nvidia
except ImportError:
    raise SystemExit
for base in list(nvidia.__path__):
    for top, subdirs, files in os.walk(base):
        if any(".so" in f for f in files):
            print(top)
EOF
)
fi
cuda_home=${CUDA_HOME:-/usr/local/cuda}
dirs+=("$cuda_home/lib64" "$cuda_home/lib" "$cuda_home/targets/x86_64-linux/lib")
ldpath=()
mkdir -p "$u/cuda-lib"
for lib in "${want_libs[@]}" "${optional_libs[@]}"; do
  # candidates in search order; the first not older than what wick was built against wins
  cands=() seen=" "
  c=$(cache_path "$lib")
  for f in "${dirs[@]/%//$lib}" ${c:+"$c"}; do
    [[ -e $f ]] || continue
    r=$(readlink -f "$f")
    [[ $seen == *" $r "* ]] || { cands+=("$f"); seen+="$r "; }
  done
  if [[ ${#cands[@]} -eq 0 ]]; then
    [[ " ${want_libs[*]} " == *" $lib "* ]] && echo "  $lib: NOT FOUND" || echo "  $lib: not found (optional)"
    continue
  fi
  built=$(sed -n 's/^built against: //p' "$u/MANIFEST.txt" | grep -o "$lib [0-9]*" | cut -d' ' -f2)
  hit= v=
  for c in "${cands[@]}"; do
    cv=$(lib_version "$lib" "$c")
    n=${cv//[!0-9]/}
    if [[ -z $built || -z $n || $n -ge $built ]]; then hit=$c v=$cv; break; fi
    echo "  $lib: skipped $(readlink -f "$c")$cv (wick was built against $built)"
  done
  if [[ -z $hit ]]; then
    hit=${cands[0]} v=$(lib_version "$lib" "$hit")
    say "WARNING: every $lib found is older than the $built wick was built against: using the first"
  fi
  r=$(readlink -f "$hit")
  echo "  $lib: $hit$([[ $r != "$hit" ]] && echo " -> $r")$v"
  ln -sf "$r" "$u/cuda-lib/$lib"
  # cuDNN opens its sub-libraries by name: they must come from the same folder as it
  if [[ $lib == libcudnn.so.9 ]]; then
    for f in "$(dirname "$hit")"/libcudnn_*.so.9; do [[ -e $f ]] && ln -sf "$(readlink -f "$f")" "$u/cuda-lib/"; done
  fi
  d=$(dirname "$hit")
  [[ " ${ldpath[*]:-} " == *" $d "* ]] || ldpath+=("$d")
done
# the chosen libraries first (cuda-lib), then their folders, where cuDNN finds its sub-libraries
ldpath=("$u/cuda-lib" "${ldpath[@]}")
# the driver: normally in the loader cache; on some images only under /usr/local/nvidia
drv=$(cache_path libcuda.so.1)
if [[ -z $drv ]]; then
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [[ -e $d/libcuda.so.1 ]] && { ldpath+=("$d"); drv="$d/libcuda.so.1 (not in the loader cache)"; break; }
  done
fi
echo "  libcuda.so.1: ${drv:-not found (no driver: wick will see no device)}"

# the bundle's libraries first; gcc's runtime, zlib and tinfo only where the system lacks them
libpath=$u/lib
mkdir -p "$u/lib-missing"
for f in "$u"/lib-fallback/*; do
  [[ -e $f ]] || continue
  n=$(basename "$f")
  if ! in_cache "$n"; then
    ln -sf "$f" "$u/lib-missing/$n"; echo "  $n: carried copy (the system has none)"
  fi
done
libpath=$libpath:$u/lib-missing
for d in "${ldpath[@]}"; do libpath=$libpath:$d; done

# one wrapper: everything that runs wick (the specs, their subprocesses, the benchmark) gets the
# bundle's paths, the benchmark's python keeps its own environment
cat > "$u/wick" <<EOF
#!/bin/sh
export LD_LIBRARY_PATH='$libpath'
export LUA_PATH='$u/lua/share/?.lua;$u/lua/share/?/init.lua'
export LUA_CPATH='$u/lua/lib/?.so'
export WICK_LUA_DIR='$root/lua'
exec '$u/bin/wick' "\$@"
EOF
chmod +x "$u/wick"
echo "LD_LIBRARY_PATH=$libpath"
deps=$(LD_LIBRARY_PATH=$libpath ldd "$u/bin/wick" 2>&1)
if grep -q 'not found' <<< "$deps"; then
  grep 'not found' <<< "$deps"
  die "wick's libraries are not all found (above)"
fi
grep -E 'cudart|cudnn|nccl|lua|openblas|gloo|stdc' <<< "$deps" | sed 's/^\s*/  loads /'
"$u/wick" -v || die "the prebuilt wick does not start"
"$u/wick" info 2>&1 | sed 's/^/  /'

say "== spec/gpu/run.sh"
log=$u/logs
rm -rf "$log"
bench=()
[[ ${WICK_GPU_NO_BENCH:-0} == 1 ]] && bench=(--no-bench)
# the whole call is sized for ~6 minutes: the spec files together, then the benchmark
WICK_GPU_PREBUILT=$u/wick WICK_GPU_LOG=$log PYTHON=${py:-python3} \
  WICK_GPU_SPEC_TIMEOUT=${WICK_GPU_SPEC_TIMEOUT:-120} WICK_GPU_BENCH_TIMEOUT=${WICK_GPU_BENCH_TIMEOUT:-150} \
  WICK_GPU_DEADLINE=${WICK_GPU_DEADLINE:-$(( 330 - ($(date +%s) - t0) ))} \
  bash spec/gpu/run.sh "${bench[@]}" --bench-size "${WICK_GPU_BENCH_SIZE:-full}" | tee "$u/run.txt"
rc=${PIPESTATUS[0]}

{
  sed -n '/== machine/,/== bundle/p' "$OUT/device.log" | grep -v '== bundle'
  sed -n '/== CUDA libraries/,/^LD_LIBRARY_PATH/p' "$OUT/device.log" | grep -v '^LD_LIBRARY_PATH'
  head -4 "$u/MANIFEST.txt"
  sed -n '/=== SUMMARY/,$p' "$u/run.txt"
} > "$OUT/summary.txt"
{ echo; echo "device.sh: run.sh exit $rc after $(( $(date +%s) - t0 )) s"; } >> "$OUT/summary.txt"
cp "$u/MANIFEST.txt" "$log/" 2>/dev/null
tar -C "$u" -czf "$OUT/gpu-logs.tar.gz" logs run.txt MANIFEST.txt 2>/dev/null
say "done (exit $rc): $OUT/device.log, summary.txt, gpu-logs.tar.gz"
return "$rc"
}

main 2>&1 | tee "$OUT/device.log"
exit "${PIPESTATUS[0]}"
