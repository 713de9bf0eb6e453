# The PyTorch side of spec/diff_torch_spec.lua: draws random op calls (ops x shapes including
# empty, broadcast and non-contiguous operands, negative dims x dtypes) from a seed, runs each
# with torch and prints the cases and torch's outcome (value, dtype, shape, or "raised") as Lua.
# Run: /usr/bin/python3 spec/ref/diff_ref.py SEED COUNT
import math
import random
import sys

import torch
import torch.nn.functional as F

DT = {"f32": torch.float32, "f64": torch.float64, "i64": torch.int64, "i32": torch.int32,
      "u8": torch.uint8, "bool": torch.bool}
NAME = {v: k for k, v in DT.items()}
ALL = ["f32", "f64", "i64", "i32", "u8", "bool"]
NUM = ["f32", "f64", "i64", "i32"]
FLOAT = ["f32", "f64"]
SHAPES = [(), (0,), (3,), (1,), (2, 3), (3, 1), (1, 3), (2, 0), (2, 3, 4), (2, 1, 4), (4, 2, 2)]


def rnd_values(r, dt, n):
    if dt == "bool":
        return [r.random() < 0.5 for _ in range(n)]
    if dt == "u8":
        return [r.randint(0, 9) for _ in range(n)]
    if dt in ("i64", "i32"):
        return [r.randint(-6, 6) for _ in range(n)]
    out = []
    for _ in range(n):
        u = r.random()
        out.append(0.0 if u < 0.05 else 0.5 if u < 0.1 else -2.5 if u < 0.15 else round(r.uniform(-4, 4), 3))
    return out


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def tensor(self, dt, shape, nc=None):
        r = self.r
        n = 1
        for s in shape:
            n *= s
        if nc is None:
            nc = len(shape) >= 2 and r.random() < 0.3
        return {"t": True, "dtype": dt, "shape": list(shape), "data": rnd_values(r, dt, n), "nc": nc}

    def shape(self):
        return self.r.choice(SHAPES)

    def bshape(self, s):
        """A shape that broadcasts with s (mostly), or a random one (sometimes)."""
        r = self.r
        u = r.random()
        if u < 0.45:
            return tuple(s)
        if u < 0.85:
            s = list(s[r.randint(0, len(s)):] if s else [])
            return tuple(1 if r.random() < 0.4 else d for d in s)
        return self.shape()

    def scalar(self, kind):
        r = self.r
        if kind == "int":
            return r.randint(-3, 4)
        return r.choice([0.5, 2.5, -1.5, 3.0, 0.0])

    def operand(self, dt, shape):
        u = self.r.random()
        if u < 0.15:
            return self.scalar("int")
        if u < 0.25:
            return self.scalar("float")
        return self.tensor(dt, self.bshape(shape))


BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "fmod", "remainder",
          "floor_divide", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
          "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"]
TENSOR_ONLY = {"maximum", "minimum", "atan2", "logical_and", "logical_or", "logical_xor"}
UNARY = ["neg", "abs", "sign", "reciprocal", "square", "exp", "expm1", "log", "log2", "log1p",
         "sqrt", "rsqrt", "sin", "cos", "tanh", "erf", "sigmoid", "relu", "floor", "ceil",
         "round", "trunc", "logical_not", "bitwise_not", "isnan", "isinf", "isfinite"]
FUNARY = ["gelu", "silu", "softplus", "leaky_relu", "elu", "hardtanh", "relu6"]
REDUCE = ["sum", "mean", "prod", "amax", "amin", "logsumexp", "std", "var"]


def case(g):
    """One random call: (ns, op, positional args, keyword args)."""
    r = g.r
    kind = r.random()
    if kind < 0.35:
        op = r.choice(BINARY)
        dt = r.choice(ALL)
        s = g.shape()
        a = g.tensor(dt, s)
        bdt = r.choice(ALL) if r.random() < 0.4 else dt
        # Python's torch.<op> takes no number for these; wick's accept one (not compared)
        b = g.tensor(bdt, g.bshape(s)) if op in TENSOR_ONLY else g.operand(bdt, s)
        kw = {}
        if op in ("add", "sub") and r.random() < 0.3:
            kw["alpha"] = r.choice([2, -1, 0.5])
        if op == "div" and r.random() < 0.6:
            kw["rounding_mode"] = r.choice(["trunc", "floor"])
        if op == "pow" and r.random() < 0.2:  # torch.pow(number, tensor)
            return ("torch", op, [g.scalar(r.choice(["int", "float"])), a], kw)
        return ("torch", op, [a, b], kw)
    if kind < 0.55:
        op = r.choice(UNARY)
        a = g.tensor(r.choice(ALL), g.shape())
        kw = {}
        if op == "round" and r.random() < 0.5:
            kw["decimals"] = r.choice([1, 2, -1])
        return ("torch", op, [a], kw)
    if kind < 0.63:
        op = r.choice(FUNARY)
        a = g.tensor(r.choice(ALL), g.shape())
        return ("F", op, [a], {})
    if kind < 0.78:
        op = r.choice(REDUCE)
        s = g.shape()
        a = g.tensor(r.choice(NUM + ["bool"]), s)
        kw = {}
        args = [a]
        if s and r.random() < 0.7:
            d = r.randint(-len(s), len(s) - 1)
            args.append(d)
            if r.random() < 0.4:
                kw["keepdim"] = True
        elif op == "logsumexp":
            args.append(-1 if s else 0)
        return ("torch", op, args, kw)
    if kind < 0.84:
        s = g.shape()
        a = g.tensor(r.choice(ALL), s)
        u = r.random()
        lo = r.choice([None, -1, 0, 0.5, -1.5])
        hi = r.choice([None, 2, 3, 2.5])
        return ("torch", "clamp", [a, lo, hi], {})
    if kind < 0.9:
        s = g.shape()
        c = g.tensor("bool", g.bshape(s))
        dt = r.choice(ALL)
        a = g.operand(dt, s)
        b = g.operand(r.choice(ALL), s)
        return ("torch", "where", [c, a, b], {})
    if kind < 0.95:
        op = r.choice(["mse_loss", "l1_loss"])
        s = g.shape()
        a = g.tensor(r.choice(NUM), s)
        b = g.tensor(r.choice(NUM), g.bshape(s) if r.random() < 0.2 else s)
        kw = {}
        if r.random() < 0.4:
            kw["reduction"] = r.choice(["sum", "none"])
        return ("F", op, [a, b], kw)
    op = r.choice(["softmax", "log_softmax", "cumsum"])
    s = g.shape()
    a = g.tensor(r.choice(NUM), s)
    d = r.randint(-len(s), len(s) - 1) if s else 0
    return ("torch", op, [a, d], {})


def make(v):
    if isinstance(v, dict):
        shape = v["shape"]
        if v["nc"]:
            t = torch.tensor(v["data"], dtype=DT[v["dtype"]]).reshape(shape[:-2] + [shape[-1], shape[-2]])
            return t.transpose(-1, -2)
        return torch.tensor(v["data"], dtype=DT[v["dtype"]]).reshape(shape)
    return v


def run(ns, op, args, kw):
    fn = getattr(F, op) if ns == "F" else getattr(torch, op)
    vals = [make(a) for a in args]
    if op == "clamp":
        return fn(vals[0], min=vals[1], max=vals[2])
    return fn(*vals, **kw)


def lua(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "nil"
    if isinstance(v, float):
        if math.isnan(v):
            return "0/0"
        if math.isinf(v):
            return "math.huge" if v > 0 else "-math.huge"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join("%s = %s" % (k, lua(x)) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def outcome(res):
    if not isinstance(res, tuple):
        res = (res,)
    outs = []
    for t in res:
        outs.append({"dtype": NAME.get(t.dtype, str(t.dtype)), "shape": list(t.shape),
                     "data": [float(x) if t.dtype.is_floating_point else int(x) if t.dtype != torch.bool else bool(x)
                              for x in t.reshape(-1).tolist()]})
    return outs


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    g = Gen(seed)
    print("-- generated by spec/ref/diff_ref.py %d %d (PyTorch %s)" % (seed, count, torch.__version__))
    print("return {")
    for i in range(count):
        ns, op, args, kw = case(g)
        try:
            res = {"ok": outcome(run(ns, op, args, kw))}
        except Exception as e:  # torch refused the call: wick must refuse it too
            res = {"raised": str(e).split("\n")[0][:200].replace("\\", "/").replace('"', "'")}
        c = {"ns": ns, "op": op, "nargs": len(args), "args": args, "kw": kw}
        c.update(res)
        print("  " + lua(c) + ",")
    print("}")


main()
