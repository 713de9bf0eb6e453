#!/usr/bin/env bash
# Fashion-MNIST epoch time with DDP: `wick run -n 2` vs `wick run -n 1` of recipes/fashion_mnist.lua
# (batch 64 per rank, so -n 2 takes half the steps with twice the global batch). The machine's
# cores are split between the ranks (-n 1: T threads, -n 2: T/2 each) so both use the same CPU.
# usage: bench/dist/fmnist.sh [path/to/wick] [--model mlp|small_cnn] [--subset N] [--threads T]
#   prints the epoch's training time of each (from the recipe's samples/s) and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
wick=$root/build/wick
if [[ $# -gt 0 && $1 != --* ]]; then wick=$(realpath "$1"); shift; fi
model=mlp
threads=$(nproc)
subset=()
while (($#)); do
  case $1 in
    --model) model=$2; shift ;;
    --subset) subset=(train_subset="$2"); shift ;;
    --threads) threads=$2; shift ;;
    *) echo "usage: $0 [wick] [--model mlp|small_cnn] [--subset N] [--threads T]" >&2; exit 2 ;;
  esac
  shift
done
half=$(( threads / 2 > 0 ? threads / 2 : 1 ))
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT

# run N THREADS -> "samples/s samples" of the epoch, from rank 0's epoch line
run() {
  local out
  out=$(cd "$root" && WICK_RUNS_DIR=$runs "$wick" run -n "$1" recipes/fashion_mnist.lua model="$model" \
    threads="$2" log_every=0 log_images=0 checkpoint=false "${subset[@]}" 2>&1) || { echo "$out" >&2; exit 1; }
  local sps batches
  sps=$(sed -n 's/.*epoch 1\/1 .* \([0-9.]*\) samples\/s.*/\1/p' <<<"$out")
  batches=$(sed -n 's/.* \([0-9]*\) training batches.*/\1/p' <<<"$out")
  echo "$sps $batches"
}

read -r sps1 b1 < <(run 1 "$threads")
read -r sps2 b2 < <(run 2 "$half")
n=60000; if ((${#subset[@]})); then n=${subset[0]#train_subset=}; fi
awk -v s1="$sps1" -v s2="$sps2" -v b1="$b1" -v b2="$b2" -v n="$n" -v t="$threads" -v h="$half" -v m="$model" 'BEGIN {
  t1 = n / s1; t2 = n / s2
  printf "model %s, %d training images, batch 64 per rank\n", m, n
  printf "%-28s %8s %10s %12s\n", "", "steps", "epoch (s)", "samples/s"
  printf "%-28s %8d %10.2f %12.0f\n", "-n 1 (" t " threads)", b1, t1, s1
  printf "%-28s %8d %10.2f %12.0f\n", "-n 2 (" h " threads each)", b2, t2, s2
  printf "ratio epoch(-n 2) / epoch(-n 1): %.2f\n", t2 / t1
}'
