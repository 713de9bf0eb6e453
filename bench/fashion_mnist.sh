#!/usr/bin/env bash
# Training throughput of wick vs PyTorch on Fashion-MNIST (small_cnn and mlp 784-256-128-10,
# batch 64, SGD + momentum), same data, same thread count, measured in the same run.
# usage: bench/fashion_mnist.sh [path/to/wick] [--quick] [--eval] [--threads T]
#   default: one epoch per model; --quick: 100 steps per model.  PyTorch: Debian's /usr/bin/python3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=$here/../build/wick
if [[ $# -gt 0 && $1 != --* ]]; then wick=$1; shift; fi
py=${PYTHON:-/usr/bin/python3}
threads=$(nproc)
args=()
while (($#)); do
  case $1 in
    --quick) args+=(--steps 100) ;;
    --eval) args+=(--eval) ;;
    --threads) threads=$2; shift ;;
    *) echo "usage: $0 [wick] [--quick] [--eval] [--threads T]" >&2; exit 2 ;;
  esac
  shift
done
args+=(--threads "$threads")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "threads: $threads (wick and torch)"
"$wick" "$here/fashion_mnist.lua" "${args[@]}" > "$tmp/wick.tsv"
"$py" "$here/fashion_mnist_torch.py" "${args[@]}" > "$tmp/torch.tsv"

awk -F'\t' '
  NR == FNR { torch[$1] = $2; tacc[$1] = $5; next }
  FNR == 1 { printf "%-10s %7s %14s %14s %8s", "model", "steps", "wick (smp/s)", "torch (smp/s)", "ratio"
             if ($5 != "") printf " %9s %9s", "wick acc", "torch acc"
             printf "\n" }
  { printf "%-10s %7d %14.1f %14.1f %7.2fx", $1, $3, $2, torch[$1], $2 / torch[$1]
    if ($5 != "") printf " %9.4f %9.4f", $5, tacc[$1]
    printf "\n" }
' "$tmp/torch.tsv" "$tmp/wick.tsv"
echo "ratio = wick samples/s / torch samples/s (higher is better for wick)"
