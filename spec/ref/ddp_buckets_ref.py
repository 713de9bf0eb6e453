# Prints, as a Lua chunk returning a list, PyTorch's DDP gradient buckets (parameter names in
# launch order) for a few models and caps: torch 1.13's compute_bucket_assignment_by_size over
# the trainable parameters in reverse order with limits [1 MiB, bucket_cap_mb], i.e. the buckets
# PyTorch rebuilds after its first iteration when gradients arrive in reverse order.
# spec/dist/ddp_spec.lua runs it live with Debian's /usr/bin/python3 and builds the same models.
import sys
import torch
import torch.distributed as dist
from torch import nn

def cases():
    yield "8 x Linear(1024, 1024), cap 10", nn.Sequential(*[nn.Linear(1024, 1024) for _ in range(8)]), 10
    yield "8 x Linear(1024, 1024), default cap", nn.Sequential(*[nn.Linear(1024, 1024) for _ in range(8)]), None
    yield "mixed f32/f64, cap 0.5", nn.Sequential(*[nn.Linear(600, 600).to(torch.float64 if i % 2 else torch.float32)
                                                   for i in range(6)]), 0.5
    yield "mlp 784-256-128-10, cap 0.0001", nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                                                           nn.ReLU(), nn.Linear(128, 10)), 0.0001
    m = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512), nn.Linear(512, 512))
    m[1].requires_grad_(False)
    yield "frozen middle layer, cap 1", m, 1

def lua_str(s):
    return '"' + s + '"'

out = []
for name, model, cap in cases():
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    rev = list(reversed(named))
    cap_bytes = int((25 if cap is None else cap) * 1024 * 1024)
    buckets, _ = dist._compute_bucket_assignment_by_size([p for _, p in rev], [dist._DEFAULT_FIRST_BUCKET_BYTES, cap_bytes],
                                                         [False] * len(rev))
    lua_buckets = ["{" + ",".join(lua_str(rev[i][0]) for i in b) + "}" for b in buckets]
    out.append("{name=%s,cap=%s,buckets={%s}}" % (lua_str(name), "nil" if cap is None else repr(cap), ",".join(lua_buckets)))
sys.stdout.write("return {\n" + ",\n".join(out) + "\n}\n")
