#!/usr/bin/env bash
# Prepares, on a development machine with the CUDA toolkit, what a lent GPU machine needs to run
# spec/gpu/device.sh: wick built for sm_90 (H100/H200) plus every non-CUDA shared library it links
# and the Lua test framework (busted and its modules, from Debian's .debs), packed as one tarball.
# The GPU machine has the CUDA libraries itself (device.sh finds them); nothing CUDA is carried.
# usage: spec/gpu/bundle.sh            (run here, needs network for apt-get download)
#   env: WICK_BUNDLE_DIR (default build-bundle), WICK_BUNDLE_BUILD (default build-gpu-sm90),
#        WICK_CUDA_ARCH (default 90), JOBS (default 2)
# Output: $WICK_BUNDLE_DIR/wick-gpu.tar.gz and MANIFEST.txt; pass the folder as the device call's
# `carry` and run `bash spec/gpu/device.sh` there (docs/cuda.md, "Running on a lent GPU").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${WICK_BUNDLE_DIR:-build-bundle}
build=${WICK_BUNDLE_BUILD:-build-gpu-sm90}
arch=${WICK_CUDA_ARCH:-90}
jobs=${JOBS:-2}
limit_mib=48   # the device call carries 64 MiB with the working tree: leave room for the tree

# Libraries the device machine brings itself: glibc, the CUDA driver and runtime libraries.
# gcc's runtime, zlib and ncurses' tinfo go to lib-fallback: device.sh uses them only when the
# system lacks them (a newer system libstdc++ must win, cuDNN may need it).
is_system() { [[ $1 =~ ^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libresolv\.) ]]; }
is_cuda() { [[ $1 =~ ^lib(cuda|cudart|cudnn|nccl|cublas|cublasLt|nvrtc|nvJitLink)[._] ]]; }
is_fallback() { [[ $1 =~ ^lib(stdc\+\+|gcc_s|gomp|z|tinfo)\. ]]; }

echo "== build wick with CUDA for sm_$arch ($build, -j$jobs)"
export PATH=/usr/local/cuda/bin:$PATH
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$root")}
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
            -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
gen=()
command -v ninja >/dev/null && [[ ! -f $build/Makefile ]] && gen=(-G Ninja)
# no build RPATH: on the device every library comes from LD_LIBRARY_PATH, as device.sh sets it
mkdir -p "$build"
cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DWICK_CUDA=ON \
  "-DCMAKE_CUDA_ARCHITECTURES=$arch" -DCMAKE_SKIP_BUILD_RPATH=ON "${launcher[@]}" > "$build/bundle-configure.log" 2>&1 \
  || { tail -30 "$build/bundle-configure.log"; exit 1; }
grep -E '✓|✗' "$build/bundle-configure.log"
grep -q 'NCCL /' "$build/bundle-configure.log" || { echo "bundle.sh: NCCL was not found: the device run needs it" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target wick

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/lib-fallback" "$stage/lua/share" "$stage/lua/lib" "$stage/debs"
cp "$build/wick" "$stage/bin/wick"
strip --strip-debug "$stage/bin/wick" 2>/dev/null || true

echo "== shared libraries (ldd)"
manifest=$stage/MANIFEST.txt
{
  echo "wick GPU bundle, made $(date -u '+%Y-%m-%d %H:%M UTC') on $(. /etc/os-release; echo "$PRETTY_NAME") by spec/gpu/bundle.sh"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src kernels cmake CMakeLists.txt 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "cuda: $(nvcc --version | grep -o 'release [0-9.]*' | head -1), architectures $arch"
  echo "sources: $(bash spec/gpu/sources_hash.sh)"
  inc=/usr/local/cuda/include
  hdr() { awk -v k="$2" '$1 == "#define" && $2 == k {print $3; exit}' "$inc/$1"; }
  echo "built against: libcudart.so.13 $(hdr cuda_runtime_api.h CUDART_VERSION)" \
    "libcudnn.so.9 $(( $(hdr cudnn_version.h CUDNN_MAJOR) * 10000 + $(hdr cudnn_version.h CUDNN_MINOR) * 100 + $(hdr cudnn_version.h CUDNN_PATCHLEVEL) ))" \
    "libnccl.so.2 $(hdr nccl.h NCCL_VERSION_CODE)"
} > "$manifest"
ld_cuda=/usr/local/cuda/lib64:/usr/local/cuda/lib
missing=$(LD_LIBRARY_PATH=$ld_cuda ldd "$stage/bin/wick" | grep 'not found' || true)
[[ -z $missing ]] || { echo "bundle.sh: unresolved libraries: $missing" >&2; exit 1; }
echo "libraries (carried ones with their Debian package):" >> "$manifest"
while read -r name _ path _; do
  [[ $path == /* ]] || continue
  if is_system "$name" || is_cuda "$name"; then
    echo "  $name: from the device machine" >> "$manifest"; continue
  fi
  dest=lib; is_fallback "$name" && dest=lib-fallback
  cp -L "$path" "$stage/$dest/$name"
  pkg=?
  for p in "$path" "$(readlink -f "$path")" "$(readlink -f "$path" | sed 's,^/usr/lib/,/lib/,')"; do
    pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $pkg ]] && break || pkg=?
  done
  echo "  $name: $dest/ ($pkg)" >> "$manifest"
done < <(LD_LIBRARY_PATH=$ld_cuda ldd "$stage/bin/wick")
# the highest glibc symbol version wick and lib/ need: device.sh checks the device has it (the
# fallback libraries are used only on a system without them, so they do not count)
need=$(objdump -T "$stage"/bin/wick "$stage"/lib/* 2>/dev/null \
  | grep -o 'GLIBC_[0-9.]*' | sort -t. -k1,1 -k2,2n -u | tail -1)
echo "glibc needed: ${need#GLIBC_}" >> "$manifest"
echo "$need" > "$stage/GLIBC_NEEDED"

echo "== Lua test framework (apt-get download + dpkg -x)"
# busted and what it requires; lua-yaml/lua-inifile are cliargs' (config files), lfs/system/term C
# modules resolve Lua's API against wick itself (it exports it)
debs=(lua-busted lua-cliargs lua-dkjson lua-filesystem lua-luassert lua-mediator lua-penlight
      lua-say lua-system lua-term lua-inifile lua-yaml)
(cd "$stage/debs" && apt-get download "${debs[@]}" 2>&1 | grep -v '^Get:\|unsandboxed' || true)
for f in "$stage"/debs/*.deb; do dpkg -x "$f" "$stage/debs/x"; done
cp -rL "$stage/debs/x/usr/share/lua/5.4/." "$stage/lua/share/"
cp -rL "$stage/debs/x/usr/lib/x86_64-linux-gnu/lua/5.4/." "$stage/lua/lib/"
echo "lua modules: ${debs[*]} ($(cd "$stage/debs" && ls *.deb | sed 's/_all.deb\|_amd64.deb//' | tr '\n' ' '))" >> "$manifest"
rm -rf "$stage/debs"
# lua-yaml's C module links libyaml: already carried for wick when wick links it
for so in $(find "$stage/lua/lib" -name '*.so'); do
  for dep in $(objdump -p "$so" | awk '/NEEDED/ {print $2}'); do
    is_system "$dep" || [[ -e $stage/lib/$dep || -e $stage/lib-fallback/$dep ]] \
      || { echo "bundle.sh: $so needs $dep, not carried" >&2; exit 1; }
  done
done

{
  echo "files:"
  (cd "$stage" && find bin lib lib-fallback lua/lib -type f | sort | xargs du -b | awk '{printf "  %10d %s\n", $1, $2}')
  echo "  lua/share: $(find "$stage/lua/share" -name '*.lua' | wc -l) Lua files"
} >> "$manifest"

echo "== pack"
rm -rf "$out"; mkdir -p "$out"
tar -C "$stage" -czf "$out/wick-gpu.tar.gz" .
cp "$manifest" "$out/MANIFEST.txt"
size=$(du -b "$out/wick-gpu.tar.gz" | cut -f1)
echo "tarball: $(( size / 1024 / 1024 )) MiB (limit ${limit_mib} MiB); unpacked: $(du -sh "$stage" | cut -f1)"
cat "$out/MANIFEST.txt"
(( size < limit_mib * 1024 * 1024 )) || { echo "bundle.sh: the bundle is over ${limit_mib} MiB" >&2; exit 1; }
echo "bundle ready: $out (carry it; command: bash spec/gpu/device.sh)"
