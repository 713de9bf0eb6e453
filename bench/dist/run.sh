#!/usr/bin/env bash
# Distributed benchmarks, wick vs PyTorch 1.13 (Debian /usr/bin/python3) in the same run:
#  1. all_reduce bus bandwidth, 4 KiB ... 64 MiB, 2 ranks, Gloo over loopback
#     (`wick run -n 2 allreduce.lua` vs torch.distributed gloo via mp.spawn), with the ratio;
#  2. launcher start-up to the first completed collective, 2 ranks (startup.py).
# The Fashion-MNIST -n 2 vs -n 1 benchmark is fmnist.sh.
# usage: bench/dist/run.sh [path/to/wick] [max_bytes = 67108864] [seconds per size = 0.5]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wick=${1:-$here/../../build/wick}
wick=$(realpath "$wick")
max=${2:-67108864}
budget=${3:-0.5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" # wick run -n N's run directories go here

echo "== all_reduce bus bandwidth, 2 ranks, f32 sum (GB/s; bus bw = bytes/time * 2(n-1)/n)"
"$wick" run -n 2 "$here/allreduce.lua" "$max" "$budget" | sed 's/^\[0\] //' >wick.txt
OMP_NUM_THREADS=1 /usr/bin/python3 "$here/allreduce_torch.py" 2 "$max" "$budget" >torch.txt
printf '%10s %12s %12s %10s %10s %8s\n' bytes wick_us torch_us wick_GB/s torch_GB/s ratio
join <(grep '^allreduce' wick.txt | awk '{print $2, $3, $4}' | sort -k1,1) \
     <(grep '^allreduce' torch.txt | awk '{print $2, $3, $4}' | sort -k1,1) | sort -n |
  awk '{ printf "%10d %12.1f %12.1f %10.3f %10.3f %8.2f\n", $1, $2 * 1e6, $4 * 1e6, $3, $5, $3 / $5 }'

echo
echo "== start-up to the first completed collective, 2 ranks"
/usr/bin/python3 "$here/startup.py" "$wick" 5
