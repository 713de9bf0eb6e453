"""The PyTorch side of bench/nn_ops.lua: same layers, sizes, threads and output format."""
import os
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("WICK_BENCH_THREADS", "2")))


def bench(name, fn, iters):
    fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters)
    print(f"{name}\t{best * 1e6:.3f}")


torch.manual_seed(0)
B = 64
x1 = torch.randn(B, 1, 28, 28)
w1, b1 = torch.randn(32, 1, 3, 3, requires_grad=True), torch.randn(32, requires_grad=True)
x2 = torch.randn(B, 32, 14, 14, requires_grad=True)
w2, b2 = torch.randn(64, 32, 3, 3, requires_grad=True), torch.randn(64, requires_grad=True)
g1, g2 = torch.randn(B, 32, 28, 28), torch.randn(B, 64, 14, 14)
p1 = torch.randn(B, 32, 28, 28, requires_grad=True)
p2 = torch.randn(B, 64, 14, 14, requires_grad=True)
gp1, gp2 = torch.randn(B, 32, 14, 14), torch.randn(B, 64, 7, 7)
logits, target = torch.randn(B, 10, requires_grad=True), torch.randint(0, 10, (B,))


def clear(*ts):
    for t in ts:
        t.grad = None


with torch.no_grad():
    bench("conv1_fwd", lambda: F.conv2d(x1, w1, b1, padding=1), 20)
    bench("conv2_fwd", lambda: F.conv2d(x2, w2, b2, padding=1), 10)
    bench("maxpool1_fwd", lambda: F.max_pool2d(p1, 2), 20)
    bench("maxpool2_fwd", lambda: F.max_pool2d(p2, 2), 20)


def conv1():
    clear(w1, b1)
    F.conv2d(x1, w1, b1, padding=1).backward(g1)


def conv2():
    clear(x2, w2, b2)
    F.conv2d(x2, w2, b2, padding=1).backward(g2)


def pool1():
    clear(p1)
    F.max_pool2d(p1, 2).backward(gp1)


def pool2():
    clear(p2)
    F.max_pool2d(p2, 2).backward(gp2)


def relu1():
    clear(p1)
    p1.relu().backward(g1)


def xent():
    clear(logits)
    F.cross_entropy(logits, target).backward()


bench("conv1_fwd_bwd", conv1, 10)
bench("conv2_fwd_bwd", conv2, 5)
bench("maxpool1_fwd_bwd", pool1, 10)
bench("maxpool2_fwd_bwd", pool2, 10)
bench("relu1_fwd_bwd", relu1, 10)
bench("xent_fwd_bwd", xent, 1000)
