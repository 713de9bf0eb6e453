"""The PyTorch side of bench/perf.lua: the same rows, sizes, threads and output format."""
import os
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(int(os.environ.get("WICK_BENCH_THREADS", "2")))
ONLY = os.environ.get("WICK_BENCH_ONLY")
LAYERS = "--layers" in sys.argv[1:]


def bench(name, fn, iters):
    if ONLY and not re.search(ONLY.replace("%", "\\"), name):
        return
    fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters)
    print(f"{name}\t{best * 1e6:.3f}", flush=True)


def small_cnn(cin=1, size=28):
    side = size // 4
    return nn.Sequential(
        nn.Conv2d(cin, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, 10))


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def stepper(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


torch.manual_seed(0)
bench("cnn_step", stepper(small_cnn(3, 32), torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))), 10)
bench("small_cnn_step", stepper(small_cnn(), torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))), 10)
bench("mlp_step", stepper(mlp(), torch.randn(64, 784), torch.randint(0, 10, (64,))), 200)

torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
x, y = torch.randn(16, 3, 64, 64), torch.randint(0, 10, (16,))


def rn_fwd():
    with torch.no_grad():
        model(x)


bench("resnet18_fwd", rn_fwd, 2)
bench("resnet18_fwd_bwd", stepper(model, x, y), 1)

n = 4 * 1024 * 1024
a, b = torch.randn(n), torch.randn(n)
bench("add_4M", lambda: a + b, 50)
bench("mul_4M", lambda: a * b, 50)
bench("relu_4M", lambda: a.relu(), 50)
bench("sum_4M", lambda: a.sum(), 50)
bench("exp_4M", lambda: a.exp(), 20)
bench("tanh_4M", lambda: a.tanh(), 20)
bench("sigmoid_4M", lambda: a.sigmoid(), 20)
bench("gelu_4M", lambda: F.gelu(a), 20)
pos = a.abs() + 0.5
bench("log_4M", lambda: pos.log(), 20)
m = torch.randn(2048, 2048)
bench("softmax_2048", lambda: m.softmax(1), 20)
bench("log_softmax_2048", lambda: m.log_softmax(1), 20)
bench("sum_rows_2048", lambda: m.sum(1), 50)

if LAYERS:
    convs = [
        ("conv1_7x7_3_64", 3, 64, 7, 2, 3, 64),
        ("l1_3x3_64_64", 64, 64, 3, 1, 1, 16),
        ("l2a_3x3_64_128_s2", 64, 128, 3, 2, 1, 16),
        ("l2b_3x3_128_128", 128, 128, 3, 1, 1, 8),
        ("l2d_1x1_64_128_s2", 64, 128, 1, 2, 0, 16),
        ("l3a_3x3_128_256_s2", 128, 256, 3, 2, 1, 8),
        ("l3b_3x3_256_256", 256, 256, 3, 1, 1, 4),
        ("l4a_3x3_256_512_s2", 256, 512, 3, 2, 1, 4),
        ("l4b_3x3_512_512", 512, 512, 3, 1, 1, 2),
    ]
    for name, cin, cout, k, s, p, hw in convs:
        xx = torch.randn(16, cin, hw, hw, requires_grad=True)
        w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_()
        with torch.no_grad():
            g = torch.randn(F.conv2d(xx, w, None, s, p).shape)

        def fwd():
            with torch.no_grad():
                F.conv2d(xx, w, None, s, p)

        def fwd_bwd():
            xx.grad = w.grad = None
            F.conv2d(xx, w, None, s, p).backward(g)
        bench(f"layer_{name}_fwd", fwd, 3)
        bench(f"layer_{name}_fwd_bwd", fwd_bwd, 2)
