#!/usr/bin/env bash
# Frozen backbone vs fully trainable, in wick and in PyTorch (Debian's /usr/bin/python3):
# forward and backward+step time per training step, and the speed-up freezing gives each.
# usage: bench/frozen.sh [path/to/wick]   (WICK_BENCH_THREADS sets the threads of both, default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=${1:-$here/../build/wick}
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "threads: ${WICK_BENCH_THREADS:-2} (wick and torch); times in ms per step, best of 5 rounds"
"$wick" "$here/frozen.lua" > "$tmp/wick.tsv"
"$py" "$here/frozen_torch.py" > "$tmp/torch.tsv"

awk -F'\t' '
  NR == FNR { tf[$1 "|" $2] = $3; tb[$1 "|" $2] = $4; next }
  { wf[$1 "|" $2] = $3; wb[$1 "|" $2] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
  END {
    printf "%-20s %-7s %10s %10s %10s %10s\n", "case", "mode", "wick fwd", "wick b+s", "torch fwd", "torch b+s"
    for (i = 1; i <= n; i++) {
      c = order[i]
      for (j = 1; j <= 2; j++) {
        m = j == 1 ? "full" : "frozen"; k = c "|" m
        printf "%-20s %-7s %10.2f %10.2f %10.2f %10.2f\n", c, m, wf[k] / 1000, wb[k] / 1000, tf[k] / 1000, tb[k] / 1000
      }
      printf "%-20s speed-up of backward+step from freezing: wick %.2fx, torch %.2fx; whole step: wick %.2fx, torch %.2fx\n", c,
        wb[c "|full"] / wb[c "|frozen"], tb[c "|full"] / tb[c "|frozen"],
        (wf[c "|full"] + wb[c "|full"]) / (wf[c "|frozen"] + wb[c "|frozen"]),
        (tf[c "|full"] + tb[c "|full"]) / (tf[c "|frozen"] + tb[c "|frozen"])
    }
  }
' "$tmp/torch.tsv" "$tmp/wick.tsv"
