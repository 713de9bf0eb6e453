#!/usr/bin/env bash
# Prints one hash of the sources compiled into the wick binary (src, kernels, cmake, the top
# CMakeLists.txt): spec/gpu/bundle.sh records it, spec/gpu/device.sh compares it with the tree
# it runs in, so a prebuilt binary older than the sources is noticed.
set -euo pipefail
cd "$(dirname "$0")/../.."
find src kernels cmake CMakeLists.txt -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16
