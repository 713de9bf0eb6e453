# The real peer for spec/io_spec.lua: PyTorch 1.13 (Debian's /usr/bin/python3) with PyPI's
# safetensors, installed apart with `python3 -m pip install --target build/pydeps safetensors`.
# Run: PYTHONPATH=build/pydeps /usr/bin/python3 spec/ref/safetensors_ref.py MODE PATH
#   write PATH   saves a torch model's state dict (+ tensors of other dtypes) with
#                safetensors.torch.save_file and prints what it saved as a Lua table literal
#   check PATH   loads a file written by spec/io_spec.lua (its `sample()`) and checks names,
#                dtypes, shapes, values and metadata exactly; prints "ok" or what differs
#   reload PATH  loads a state dict re-saved by wick into the same torch model (strict)
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

LUA_DTYPES = {torch.float32: "f32", torch.float64: "f64", torch.float16: "f16",
              torch.bfloat16: "bf16", torch.int64: "i64", torch.int32: "i32",
              torch.uint8: "u8", torch.bool: "bool"}


def model():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(),
                            torch.nn.Linear(3, 2))
    m.train()
    for _ in range(3):  # moves the running stats; num_batches_tracked becomes 3
        m(torch.randn(8, 4))
    return m


def state_dict():
    sd = {k: v.detach().clone() for k, v in model().state_dict().items()}
    sd["extra.f16"] = torch.tensor([0.5, -2.0, 65504.0, 2.0 ** -24, 1.0009765625], dtype=torch.float16)
    sd["extra.bf16"] = torch.tensor([1.0, -3.140625, 2.0 ** 100], dtype=torch.bfloat16)
    sd["extra.f64"] = torch.tensor([1 / 3, -2.5e300, 1e-310], dtype=torch.float64)
    sd["extra.i32"] = torch.tensor([-2147483648, 2147483647, 7], dtype=torch.int32)
    sd["extra.u8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["extra.bool"] = torch.tensor([True, False, True])
    sd["extra.scalar"] = torch.tensor(2.5)
    sd["extra.empty"] = torch.zeros(0, 3)
    sd["extra.wide"] = torch.arange(12, dtype=torch.int64).reshape(3, 4).t().contiguous()
    return sd


def lua(v):
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v).replace("inf", "math.huge").replace("nan", "0/0")
    return str(v)


def write(path):
    sd = state_dict()
    save_file(sd, path, metadata={"format": "pt", "source": "torch " + torch.__version__})
    print("return {")
    for k, t in sd.items():
        vals = t.double() if t.is_floating_point() else t
        print('  ["%s"] = {dtype = "%s", shape = %s, values = %s},'
              % (k, LUA_DTYPES[t.dtype], lua(list(t.shape)), lua(vals.flatten().tolist())))
    print("}")


def sample():
    """The tensors of sample() in spec/io_spec.lua, built independently here."""
    return {
        "f32": (torch.arange(6, dtype=torch.float32) * 0.5).reshape(2, 3),
        "f64": torch.tensor([1 / 3, -2.5e300, 1e-310], dtype=torch.float64),
        "f16": torch.tensor([0.5, -2.0, 65504.0, 2.0 ** -24, 1.0009765625], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 2.0 ** 100], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2 ** 62), 0, 2 ** 53 + 1], dtype=torch.int64),
        "i32": torch.tensor([-2147483648, 2147483647, 7], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "t": torch.arange(6, dtype=torch.int64).reshape(2, 3).t(),
        "ключ.вес": torch.tensor([1.0, 2.0]),
    }


def check(path):
    got, want = load_file(path), sample()
    errors = []
    if sorted(got) != sorted(want):
        errors.append("names %s != %s" % (sorted(got), sorted(want)))
    for k in sorted(set(got) & set(want)):
        g, w = got[k], want[k]
        if g.dtype != w.dtype or g.shape != w.shape or not torch.equal(g, w):
            errors.append("%s: got %s %s %s, want %s %s %s"
                          % (k, g.dtype, list(g.shape), g.tolist(), w.dtype, list(w.shape), w.tolist()))
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
    if meta != {"format": "pt", "note": "héllo"}:
        errors.append("metadata %r" % (meta,))
    print("\n".join(errors) if errors else "ok")
    return 1 if errors else 0


def reload(path):
    m = model()
    sd = load_file(path)
    m.load_state_dict({k: v for k, v in sd.items() if not k.startswith("extra.")}, strict=True)
    want = state_dict()
    bad = [k for k in want if not (k in sd and sd[k].dtype == want[k].dtype and torch.equal(sd[k], want[k]))]
    print("differ: " + ", ".join(bad) if bad else "ok")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check", "reload"):
        sys.exit("usage: safetensors_ref.py write|check|reload PATH")
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "write":
        write(path)
    else:
        sys.exit(check(path) if mode == "check" else reload(path))
