# All-reduce latency and bus bandwidth of PyTorch's gloo backend, the same measurement as
# allreduce.lua: rank 0 prints "allreduce BYTES SECONDS_PER_OP BUSBW_GBPS", the median over the
# timed ops. Used by bench/dist/run.sh.
# usage: /usr/bin/python3 bench/dist/allreduce_torch.py [nprocs = 2] [max_bytes] [seconds per size]
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, n, port, max_bytes, budget):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=n)
    nbytes = 4096
    while nbytes <= max_bytes:
        t = torch.ones(nbytes // 4)
        dist.all_reduce(t)
        t0 = time.perf_counter()
        dist.all_reduce(t)
        est = torch.tensor([max(5, min(1000, int(budget / max(time.perf_counter() - t0, 1e-6))))])
        dist.broadcast(est, 0)
        iters = int(est.item())
        dist.barrier()
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - t0)
        dt = sorted(times)[iters // 2]
        if rank == 0:
            print(f"allreduce {nbytes} {dt:.9f} {nbytes / dt * 2 * (n - 1) / n / 1e9:.4f}", flush=True)
        nbytes *= 4
    dist.destroy_process_group()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    max_bytes = int(sys.argv[2]) if len(sys.argv) > 2 else 64 << 20
    budget = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(worker, args=(n, port, max_bytes, budget), nprocs=n)
