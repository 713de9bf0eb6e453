#!/usr/bin/env bash
# SummaryWriter speed: wick vs torch.utils.tensorboard (Debian's /usr/bin/python3 with the PyPI
# tensorboard package) and tensorboardX (PyPI), measured in the same run.
# usage: bench/tb.sh [path/to/wick] [events]   (installs the peers under build/pydeps-tb*)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
wick=${1:-$root/build/wick}
n=${2:-100000}
tb=$root/build/pydeps-tb
tbx=$root/build/pydeps-tbx
[[ -d $tb/tensorboard ]] || python3 -m pip install --quiet --target "$tb" tensorboard
[[ -d $tbx/tensorboardX ]] || python3 -m pip install --quiet --target "$tbx" tensorboardX
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$wick" "$here/tb.lua" "$tmp/wick" "$n" > "$tmp/wick.tsv"
PYTHONPATH=$tb /usr/bin/python3 "$here/tb_peers.py" torch "$n" > "$tmp/torch.tsv" 2>/dev/null || true
PYTHONPATH=$tbx python3 "$here/tb_peers.py" tensorboardX "$n" > "$tmp/tbx.tsv" 2>/dev/null || true

awk -F'\t' '
  FILENAME ~ /torch/ { torch[$1] = $2; next }
  FILENAME ~ /tbx/ { tbx[$1] = $2; next }
  FNR == 1 { printf "%-26s %14s %14s %14s\n", "metric", "wick", "torch", "tensorboardX" }
  { printf "%-26s %14s %14s %14s\n", $1, $2, torch[$1], tbx[$1] }
' "$tmp/torch.tsv" "$tmp/tbx.tsv" "$tmp/wick.tsv"
echo "events/s: higher is better; add_histogram: lower is better ($n events)"
