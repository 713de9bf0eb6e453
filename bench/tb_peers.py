"""The peers' side of bench/tb.lua: torch.utils.tensorboard or tensorboardX, same workload."""
import sys
import tempfile
import time

import numpy as np

which, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100000
if which == "torch":
    from torch.utils.tensorboard import SummaryWriter
else:
    from tensorboardX import SummaryWriter

d = tempfile.mkdtemp()
w = SummaryWriter(d)
t0 = time.perf_counter()
for i in range(1, n + 1):
    w.add_scalar("train/loss", 1 / i, i)
t1 = time.perf_counter()
w.close()
t2 = time.perf_counter()
print(f"add_scalar_calls_per_s\t{n / (t1 - t0):.0f}")
print(f"add_scalar_written_per_s\t{n / (t2 - t0):.0f}")
v = np.random.default_rng(0).standard_normal(1000000).astype(np.float32)
h = SummaryWriter(d + "-hist")
best = float("inf")
try:
    for step in range(1, 6):
        s = time.perf_counter()
        h.add_histogram("weights", v, step)
        best = min(best, time.perf_counter() - s)
    print(f"add_histogram_1M_ms\t{best * 1e3:.2f}")
except Exception as e:  # Debian's torch 1.13 add_histogram fails with newer numpy
    print(f"add_histogram_1M_ms\tn/a ({type(e).__name__})", file=sys.stdout)
h.close()
