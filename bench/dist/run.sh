#!/usr/bin/env bash
# Distributed benchmarks, wick vs PyTorch 1.13 (Debian /usr/bin/python3) in the same run:
#  1. all_reduce latency (median) and bus bandwidth, 4 KiB ... 64 MiB, f32 sum, at 2 ranks (and
#     4 where the machine has 4 cores): wick over shared memory (chosen by itself on one host),
#     wick over Gloo (WICK_DIST_SHM=0) and PyTorch's gloo (mp.spawn), with the speed-ups over
#     PyTorch and the issue's targets (16 MiB >= 5x PyTorch, 64 KiB <= 50 us);
#  2. launcher start-up to the first completed collective, 2 ranks (startup.py);
#  3. the DDP Fashion-MNIST epoch at -n 2 vs -n 1 on the same cores (fmnist.sh; skipped with
#     BENCH_DIST_FMNIST=0, shortened with BENCH_DIST_SUBSET=N images).
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
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# allreduce N: the three measurements one after the other, then the table
allreduce() {
  local n=$1
  echo
  echo "== all_reduce, $n ranks, f32 sum: median latency (us), bus bandwidth (GB/s; bytes/time * 2(n-1)/n)"
  "$wick" run -n "$n" "$here/allreduce.lua" "$max" "$budget" | sed 's/^\[0\] //' >shm.txt
  WICK_DIST_SHM=0 "$wick" run -n "$n" "$here/allreduce.lua" "$max" "$budget" | sed 's/^\[0\] //' >gloo.txt
  OMP_NUM_THREADS=1 /usr/bin/python3 "$here/allreduce_torch.py" "$n" "$max" "$budget" >torch.txt
  echo "wick transports: $(grep '^transport' shm.txt | cut -d' ' -f2) and $(grep '^transport' gloo.txt | cut -d' ' -f2)"
  printf '%9s %10s %10s %10s %9s %9s %9s %8s %8s\n' bytes shm_us wgloo_us torch_us shm_GB/s wgloo_GB/s torch_GB/s shm_x wgloo_x
  join <(grep '^allreduce' shm.txt | awk '{print $2, $3, $4}' | sort -k1,1) \
       <(grep '^allreduce' gloo.txt | awk '{print $2, $3, $4}' | sort -k1,1) |
    join - <(grep '^allreduce' torch.txt | awk '{print $2, $3, $4}' | sort -k1,1) | sort -n |
    awk '{ printf "%9d %10.1f %10.1f %10.1f %9.3f %9.3f %9.3f %8.2f %8.2f\n",
             $1, $2 * 1e6, $4 * 1e6, $6 * 1e6, $3, $5, $7, $6 / $2, $6 / $4
           if ($1 == 65536) lat = $2 * 1e6
           if ($1 == 16777216) x16 = $6 / $2 }
         END { if (lat) printf "target 64 KiB <= 50 us: wick-shm %.1f us (%s)\n", lat, (lat <= 50 ? "met" : "not met")
               if (x16) printf "target 16 MiB >= 5x PyTorch gloo: wick-shm %.2fx (%s)\n", x16, (x16 >= 5 ? "met" : "not met") }'
}

allreduce 2
if (($(nproc) >= 4)); then allreduce 4; fi

echo
echo "== start-up to the first completed collective, 2 ranks"
/usr/bin/python3 "$here/startup.py" "$wick" 5

if [[ ${BENCH_DIST_FMNIST:-1} != 0 ]]; then
  echo
  echo "== DDP Fashion-MNIST epoch, -n 2 vs -n 1 on the same cores (shared memory)"
  "$here/fmnist.sh" "$wick" ${BENCH_DIST_SUBSET:+--subset "$BENCH_DIST_SUBSET"}
fi
