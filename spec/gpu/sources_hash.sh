#!/usr/bin/env bash
# Prints one hash of what a prebuilt wick must match: the sources compiled into it (src, kernels,
# cmake, the top CMakeLists.txt) and the Lua library it loads (lua). spec/gpu/bundle.sh records
# it, spec/gpu/bundle_check.sh and spec/gpu/device.sh compare it with the tree they run in.
set -euo pipefail
cd "$(dirname "$0")/../.."
find src kernels cmake lua CMakeLists.txt -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16
