#!/bin/sh
# Runs the CUDA kernels (kernels/*.cu) on the host under the emulator in this directory and
# compares every backend slot with the CPU backend: the GPU-less check of their index arithmetic
# and semantics (spec/gpu/ops_spec.lua is the real test, on a GPU). Needs g++ (C++20), python3,
# the CUDA headers and a configured build for libwickcore.a; takes a minute or two.
# usage: spec/gpu/emu/run.sh [BUILD_DIR]   (default: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build}
[ -f "$build/libwickcore.a" ] || { echo "run.sh: no $build/libwickcore.a (build wick first)" >&2; exit 2; }
cuda=${CUDA_HOME:-/usr/local/cuda}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$here/rewrite.py" "$root/kernels" "$out"
flags="-O1 -w -I$here -I$here/shim -I$root/src -I$root/kernels -I$cuda/include"
for f in binary unary reduce index random cumulative; do
  g++ -std=c++20 $flags -c "$out/$f.cpp" -o "$out/$f.o"
done
g++ -std=c++20 $flags -c "$here/emu_globals.cpp" -o "$out/emu_globals.o"
gcc -std=c11 $flags -c "$here/driver.c" -o "$out/driver.o"
blas=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
# oneDNN, when the build found it (the CPU backend's convolutions use it)
dnnl=$(sed -n 's/^WICK_DNNL_LIBRARY:FILEPATH=\(\/.*\)$/\1/p' "$build/CMakeCache.txt" 2>/dev/null || true)
g++ -o "$out/emu_test" "$out"/*.o "$build/libwickcore.a" $dnnl -fopenmp $blas -lm -lpthread
"$out/emu_test"
