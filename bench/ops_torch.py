"""The PyTorch side of bench/ops.lua: same ops, same sizes, same output format."""
import os
import time

import torch


def bench(name, fn, iters):
    fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters)
    print(f"{name}\t{best * 1e6:.3f}")


torch.set_num_threads(int(os.environ.get("WICK_BENCH_THREADS", os.cpu_count())))
torch.manual_seed(0)
a, b = torch.randn(16, 32), torch.randn(16, 32)
bt = torch.randn(32, 16)
with torch.no_grad():
    bench("small_add", lambda: a + b, 20000)
    bench("small_mul", lambda: a * b, 20000)
    bench("small_matmul", lambda: a.matmul(bt), 20000)
    bench("small_sum", lambda: a.sum(), 20000)
    n = 4 * 1024 * 1024
    x, y = torch.randn(n), torch.randn(n)
    bench("large_add", lambda: x + y, 50)
    bench("large_mul", lambda: x * y, 50)
    bench("large_relu", lambda: x.relu(), 50)
    bench("large_sum", lambda: x.sum(), 50)
    m1, m2 = torch.randn(1024, 1024), torch.randn(1024, 1024)
    bench("sgemm_1024", lambda: m1.matmul(m2), 10)
