"""The PyTorch side of bench/fashion_mnist.lua: the same models, data, batch size, optimizer and
thread count; prints one line per model in the same format.
usage: /usr/bin/python3 bench/fashion_mnist_torch.py [--steps N] [--threads T] [--eval]
       [--models small_cnn,mlp] [--data-dir DIR]"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(root, split):
    prefix = "train" if split == "train" else "t10k"

    def find(name):
        for p in (os.path.join(root, name), os.path.join(root, name + ".gz")):
            if os.path.exists(p):
                return p
        raise SystemExit("cannot find %s in %s (apt-get install dataset-fashion-mnist)" % (name, root))

    x = read_idx(find(prefix + "-images-idx3-ubyte"))
    y = read_idx(find(prefix + "-labels-idx1-ubyte"))
    # torchvision's ToTensor(): f32 [N, 1, 28, 28] in [0, 1]
    return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def run(name, x, y, tx, ty, args):
    torch.manual_seed(args.seed)
    model = small_cnn() if name == "small_cnn" else mlp()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    perm = torch.randperm(x.shape[0])
    nb = (x.shape[0] + args.batch_size - 1) // args.batch_size
    steps = min(nb, args.steps) if args.steps else nb
    warm = 5 if args.steps else 0  # quick mode: skip start-up effects
    seen, t0 = 0, None
    for step in range(steps + warm):
        if step == warm:
            t0, seen = time.perf_counter(), 0
        idx = perm[(step % nb) * args.batch_size:(step % nb + 1) * args.batch_size]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        seen += yb.shape[0]
    elapsed = time.perf_counter() - t0
    line = "%s\t%.1f\t%d\t%.4f" % (name, seen / elapsed, steps, loss.item())
    if args.eval:
        model.eval()
        with torch.no_grad():
            correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                          for i in range(0, tx.shape[0], 1000))
        line += "\t%.4f" % (correct / tx.shape[0])
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=0, help="train steps per model (0: one epoch)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--models", default="small_cnn,mlp")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", action="store_true", help="also print test accuracy")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x, y = load(args.data_dir, "train")
    tx, ty = load(args.data_dir, "test") if args.eval else (None, None)
    for name in args.models.split(","):
        run(name, x, y, tx, ty, args)


if __name__ == "__main__":
    main()
