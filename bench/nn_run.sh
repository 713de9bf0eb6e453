#!/usr/bin/env bash
# Runs the nn layer benchmark in wick and in PyTorch in the same run and prints the ratios.
# usage: bench/nn_run.sh [path/to/wick]   (PyTorch from Debian's /usr/bin/python3;
# WICK_BENCH_THREADS sets the threads of both, default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=${1:-$here/../build/wick}
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "threads: ${WICK_BENCH_THREADS:-2} (wick and torch)"
"$wick" "$here/nn_ops.lua" > "$tmp/wick.tsv"
"$py" "$here/nn_ops_torch.py" > "$tmp/torch.tsv"

awk -F'\t' '
  NR == FNR { torch[$1] = $2; next }
  FNR == 1 { printf "%-18s %12s %12s %10s\n", "op", "wick (us)", "torch (us)", "speedup" }
  { printf "%-18s %12.2f %12.2f %9.2fx\n", $1, $2, torch[$1], torch[$1] / $2 }
' "$tmp/torch.tsv" "$tmp/wick.tsv"
echo "speedup = torch time / wick time (higher is better for wick)"
