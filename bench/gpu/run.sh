#!/usr/bin/env bash
# The GPU benchmark: wick's side (gpu.lua) and PyTorch's (gpu_torch.py) on the same device in
# the same run, joined into one table of ratios. Without torch, wick's side is still printed.
# usage: bench/gpu/run.sh [path/to/wick] [--device cuda|cpu] [--size full|tiny] [--only a,b]
#   ratio: wick / torch for GB/s and TFLOP/s, torch / wick for step times (>= 1: wick as fast);
#   "of copy": the kernel's bandwidth as a fraction of the copy bandwidth PyTorch measures.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=$here/../../build/wick
if [[ $# -gt 0 && $1 != --* ]]; then wick=$1; shift; fi
args=("$@")
[[ " ${args[*]:-} " == *" --device "* ]] || args+=(--device cuda)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# a Python with torch: $PYTHON, else the first of python3, /usr/bin/python3 that imports it
py=${PYTHON:-}
if [[ -z $py ]]; then
  for c in python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
  done
fi

"$wick" "$here/gpu.lua" "${args[@]}" > "$tmp/wick.tsv"
wick_rc=$?
if [[ -n $py ]]; then
  "$py" "$here/gpu_torch.py" "${args[@]}" > "$tmp/torch.tsv" 2> "$tmp/torch.err" || {
    echo "torch side failed:"; tail -5 "$tmp/torch.err"; }
  if grep -q '^torch not available' "$tmp/torch.tsv"; then
    grep '^torch not available' "$tmp/torch.tsv"; : > "$tmp/torch.tsv"
  else
    echo "torch: $("$py" -c 'import torch; print(torch.__version__)') ($py)"
  fi
else
  echo "torch not available (no python3 imports torch; set PYTHON)"
  : > "$tmp/torch.tsv"
fi

awk -F'\t' '
  FILENAME == ARGV[1] { torch[$1] = $2; next }
  FNR == 1 { printf "%-10s %12s %12s %8s %14s %14s\n", "metric", "wick", "torch", "ratio", "wick of copy", "torch of copy" }
  {
    t = ($1 in torch) ? torch[$1] : ""
    ratio = "-"; wf = "-"; tf = "-"
    if (t != "" && t > 0 && $2 > 0) ratio = sprintf("%.2f", $3 == "ms" ? t / $2 : $2 / t)
    if ($3 == "GB/s" && $1 != "copy" && ("copy" in torch) && torch["copy"] > 0) {
      wf = sprintf("%.0f%%", 100 * $2 / torch["copy"]); tf = sprintf("%.0f%%", 100 * t / torch["copy"])
    }
    printf "%-10s %12s %12s %8s %14s %14s\n", $1, sprintf("%.2f %s", $2, $3), t == "" ? "-" : sprintf("%.2f", t), ratio, wf, tf
  }
' "$tmp/torch.tsv" "$tmp/wick.tsv"
exit $wick_rc
