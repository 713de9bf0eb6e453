#!/usr/bin/env bash
# Runs wick's op benchmark and PyTorch's in the same run and prints the ratios.
# usage: bench/run.sh [path/to/wick]     (PyTorch from Debian's /usr/bin/python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=${1:-$here/../build/wick}
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Both sides use the same number of threads (default: all cores).
export WICK_BENCH_THREADS=${WICK_BENCH_THREADS:-$(nproc)}
echo "threads: $WICK_BENCH_THREADS for both (WICK_BENCH_THREADS)"
"$wick" "$here/ops.lua" > "$tmp/wick.tsv"
"$py" "$here/ops_torch.py" > "$tmp/torch.tsv"

# start-up: best of 10 runs of an empty program
startup() { local best=999; for _ in $(seq 10); do
  local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
  local ms=$(( (t1 - t0) / 1000000 )); (( ms < best )) && best=$ms; done; echo "$best"; }
ws=$(startup "$wick" -e '')
ts=$(startup "$py" -c 'import torch')

awk -F'\t' -v ws="$ws" -v ts="$ts" '
  NR == FNR { torch[$1] = $2; next }
  FNR == 1 { printf "%-14s %12s %12s %10s\n", "op", "wick (us)", "torch (us)", "speedup" }
  { printf "%-14s %12.2f %12.2f %9.2fx\n", $1, $2, torch[$1], torch[$1] / $2 }
  END { printf "%-14s %12d %12d %9.0fx\n", "startup (ms)", ws, ts, ts / (ws + 0.5) }
' "$tmp/torch.tsv" "$tmp/wick.tsv"
echo "speedup = torch time / wick time (higher is better for wick)"
