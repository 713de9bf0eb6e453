#!/usr/bin/env bash
# The CPU speed table (docs/perf.md): wick and PyTorch (Debian's /usr/bin/python3) one after the
# other in the same run, same thread count, and the ratio torch time / wick time.
# usage: bench/perf.sh [path/to/wick] [--layers] [--fmnist STEPS]
#   --layers: also each distinct conv layer of resnet18 (batch 16, 64x64), forward and fwd+bwd
#   --fmnist STEPS: also STEPS steps of the Fashion-MNIST small_cnn training loop (real data,
#                   bench/fashion_mnist.lua; 0 = one whole epoch); default 100 when the data exist
# WICK_BENCH_THREADS sets both sides' threads (default 2); WICK_BENCH_ONLY=<Lua pattern> runs
# only the rows whose name matches.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=$here/../build/wick
if [[ $# -gt 0 && $1 != --* ]]; then wick=$1; shift; fi
py=${PYTHON:-/usr/bin/python3}
export WICK_BENCH_THREADS=${WICK_BENCH_THREADS:-2}
data=/usr/share/datasets/fashion-mnist
args=() fm=100
[[ -d $data ]] || fm=-1
while (($#)); do
  case $1 in
    --layers) args+=(--layers) ;;
    --fmnist) fm=$2; shift ;;
    *) echo "usage: $0 [wick] [--layers] [--fmnist STEPS]" >&2; exit 2 ;;
  esac
  shift
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "threads: $WICK_BENCH_THREADS (wick and torch); $(uptime | sed 's/.*load/load/')"
"$wick" info 2>/dev/null | grep -E '^(CPU|conv) ' || true
"$wick" "$here/perf.lua" ${args[@]+"${args[@]}"} > "$tmp/wick.tsv"
"$py" "$here/perf_torch.py" ${args[@]+"${args[@]}"} > "$tmp/torch.tsv"
if (( fm >= 0 )) && [[ -z ${WICK_BENCH_ONLY:-} ]]; then
  # samples/s of the real training loop, turned into microseconds per 64-sample step
  fa=(--steps "$fm" --models small_cnn --threads "$WICK_BENCH_THREADS")
  "$wick" "$here/fashion_mnist.lua" "${fa[@]}" | awk -F'\t' '{ printf "fmnist_small_cnn\t%.3f\n", 64e6 / $2 }' >> "$tmp/wick.tsv"
  "$py" "$here/fashion_mnist_torch.py" "${fa[@]}" | awk -F'\t' '{ printf "fmnist_small_cnn\t%.3f\n", 64e6 / $2 }' >> "$tmp/torch.tsv"
fi

awk -F'\t' '
  NR == FNR { torch[$1] = $2; next }
  FNR == 1 { printf "%-32s %12s %12s %8s\n", "row", "wick (us)", "torch (us)", "ratio" }
  { printf "%-32s %12.1f %12.1f %7.2fx\n", $1, $2, torch[$1], torch[$1] / $2 }
' "$tmp/torch.tsv" "$tmp/wick.tsv"
echo "ratio = torch time / wick time (higher is better for wick); $(uptime | sed 's/.*load/load/')"
