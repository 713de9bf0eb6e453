"""PyTorch's side of the GPU benchmark: the same metrics, sizes and models as bench/gpu/gpu.lua,
printed as "metric<TAB>value<TAB>unit" lines. Prints "torch not available" (and exits 0) when
torch cannot be imported, so that bench/gpu/run.sh still reports wick's side.
usage: python3 bench/gpu/gpu_torch.py [--device cuda|cpu] [--size full|tiny] [--only copy,...]
"""
import argparse
import math
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch not available")
    sys.exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", default="full", choices=["full", "tiny"])
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    dev = args.device
    if dev.startswith("cuda") and not torch.cuda.is_available():
        print("torch not available (torch %s has no CUDA device)" % torch.__version__)
        return
    tiny = args.size == "tiny"
    only = set(args.only.split(",")) if args.only else None

    def want(name):
        return only is None or name in only

    def sync():
        if dev.startswith("cuda"):
            torch.cuda.synchronize()

    def timeit(fn, iters):
        fn()
        fn()
        sync()
        best = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(iters):
                fn()
            sync()
            best = min(best, (time.perf_counter() - t0) / iters)
        return best

    def report(name, value, unit):
        print("%s\t%.6g\t%s" % (name, value, unit), flush=True)

    n = 4096 if tiny else 64 * 1024 * 1024
    iters = 3 if tiny else 20
    gb = 1e9
    if any(want(k) for k in ("copy", "add", "mul", "gelu", "sum", "softmax")):
        a = torch.randn(n, device=dev)
        b = torch.randn(n, device=dev)
        c = torch.empty(n, device=dev)
        nbytes = n * 4
        if want("copy"):
            report("copy", 2 * nbytes / timeit(lambda: c.copy_(a), iters) / gb, "GB/s")
        if want("add"):
            report("add", 3 * nbytes / timeit(lambda: a + b, iters) / gb, "GB/s")
        if want("mul"):
            report("mul", 2 * nbytes / timeit(lambda: a * 1.5, iters) / gb, "GB/s")
        if want("gelu"):
            report("gelu", 2 * nbytes / timeit(lambda: F.gelu(a), iters) / gb, "GB/s")
        if want("sum"):
            report("sum", nbytes / timeit(lambda: a.sum(), iters) / gb, "GB/s")
        if want("softmax"):
            rows = a.view(n // 1024, 1024)
            report("softmax", 2 * nbytes / timeit(lambda: rows.softmax(-1), iters) / gb, "GB/s")
        del a, b, c

    m = 64 if tiny else 8192
    for dt, name in ((torch.float32, "sgemm"), (torch.bfloat16, "bf16_gemm")):
        if want(name):
            a = torch.randn(m, m, device=dev).to(dt)
            b = torch.randn(m, m, device=dev).to(dt)
            t = timeit(lambda: a.matmul(b), 2 if tiny else 10)
            report(name, 2 * m * m * m / t / 1e12, "TFLOP/s")

    if want("cnn_step"):
        torch.manual_seed(0)
        bs = 4 if tiny else 256
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        x = torch.rand(bs, 1, 28, 28, device=dev)
        y = torch.randint(0, 10, (bs,), device=dev)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        report("cnn_step", timeit(step, 2 if tiny else 50) * 1e3, "ms")

    if want("gpt_step"):
        torch.manual_seed(0)
        cfg = (dict(vocab=97, d=32, heads=4, layers=2, ctx=16, batch=2) if tiny else
               dict(vocab=50257, d=768, heads=12, layers=12, ctx=256, batch=8))

        class Block(nn.Module):
            def __init__(self, d, h):
                super().__init__()
                self.ln1, self.attn, self.proj = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d)
                self.ln2, self.fc, self.out = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
                self.heads = h

            def forward(self, x, mask):
                B, T, C = x.shape
                h = self.heads
                q, k, v = self.attn(self.ln1(x)).split(C, 2)
                q, k, v = (t.reshape(B, T, h, C // h).transpose(1, 2) for t in (q, k, v))
                att = (q.matmul(k.transpose(2, 3)) * (1 / math.sqrt(C // h)) + mask).softmax(-1)
                y = att.matmul(v).transpose(1, 2).reshape(B, T, C)
                x = x + self.proj(y)
                return x + self.out(F.gelu(self.fc(self.ln2(x))))

        class GPT(nn.Module):
            def __init__(self):
                super().__init__()
                self.wte, self.wpe = nn.Embedding(cfg["vocab"], cfg["d"]), nn.Embedding(cfg["ctx"], cfg["d"])
                self.blocks = nn.ModuleList([Block(cfg["d"], cfg["heads"]) for _ in range(cfg["layers"])])
                self.ln_f, self.head = nn.LayerNorm(cfg["d"]), nn.Linear(cfg["d"], cfg["vocab"], bias=False)

            def forward(self, idx, pos, mask):
                x = self.wte(idx) + self.wpe(pos)
                for b in self.blocks:
                    x = b(x, mask)
                return self.head(self.ln_f(x))

        model = GPT().to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
        T = cfg["ctx"]
        idx = torch.randint(0, cfg["vocab"], (cfg["batch"], T), device=dev)
        tgt = torch.randint(0, cfg["vocab"], (cfg["batch"] * T,), device=dev)
        pos = torch.arange(T, device=dev)
        r, c = torch.arange(T).view(T, 1), torch.arange(T).view(1, T)
        mask = ((c > r).float() * -1e9).to(dev)

        def gpt_step():
            opt.zero_grad()
            logits = model(idx, pos, mask)
            F.cross_entropy(logits.view(cfg["batch"] * T, cfg["vocab"]), tgt).backward()
            opt.step()
        report("gpt_step", timeit(gpt_step, 2 if tiny else 10) * 1e3, "ms")


if __name__ == "__main__":
    main()
