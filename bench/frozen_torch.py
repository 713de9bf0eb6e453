"""The PyTorch side of bench/frozen.lua: the same models, freezing, sizes, threads and output."""
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(int(os.environ.get("WICK_BENCH_THREADS", "2")))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


CASES = [
    ("resnet18 b16 64x64", 2, (16, 3, 64, 64), lambda: torchvision.models.resnet18(num_classes=10), "fc", None),
    ("small_cnn b256", 5, (256, 1, 28, 28), small_cnn, None, ("0.", "3.")),
]


def run(case, frozen):
    name, iters, shape, build, keep, freeze = case
    torch.manual_seed(0)
    model = build()
    if frozen:
        for n, p in model.named_parameters():
            if keep is not None:
                p.requires_grad_(n.startswith(keep + "."))
            else:
                p.requires_grad_(not n.startswith(freeze))
        if keep is not None:  # frozen BatchNorm in eval mode, as wick's bn_eval
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))

    def step():
        opt.zero_grad()
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        t1 = time.perf_counter()
        loss.backward()
        opt.step()
        return t1 - t0, time.perf_counter() - t1

    step()
    best_f = best_b = float("inf")
    for _ in range(5):
        f = b = 0.0
        for _ in range(iters):
            df, db = step()
            f, b = f + df, b + db
        best_f, best_b = min(best_f, f / iters), min(best_b, b / iters)
    print(f"{name}\t{'frozen' if frozen else 'full'}\t{best_f * 1e6:.0f}\t{best_b * 1e6:.0f}")


for case in CASES:
    run(case, False)
    run(case, True)
