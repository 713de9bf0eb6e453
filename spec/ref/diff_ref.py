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


MATRIX_SHAPES = [(0, 3), (2, 3), (3, 3), (4, 1), (1, 4), (3, 2)]


def tensor_op_case(g):
    """The composite tensor ops of lua/wick/tensor_ops.lua."""
    r = g.r
    op = r.choice(["flip", "roll", "tril", "triu", "diag", "trace", "outer", "addmm", "lerp", "addcmul",
                   "clamp_min", "clamp_max", "nan_to_num", "movedim", "swapaxes", "isin", "argwhere",
                   "cdist", "einsum", "tile", "std_mean", "var_mean", "unflatten", "masked_scatter", "baddbmm"])
    s = g.shape()
    nd = len(s)
    if op in ("flip", "roll", "movedim", "swapaxes", "unflatten") and nd == 0:
        s, nd = (2, 3), 2
    if op == "flip":
        a = g.tensor(r.choice(ALL), s)
        return ("torch", op, [a, r.sample(range(-nd, nd), 1) if r.random() < 0.5 else [0, nd - 1]], {})
    if op == "roll":
        a = g.tensor(r.choice(ALL), s)
        if r.random() < 0.3:
            return ("torch", op, [a, r.randint(-5, 5)], {})
        return ("torch", op, [a, r.randint(-5, 5), r.randint(-nd, nd - 1)], {})
    if op in ("tril", "triu"):
        return ("torch", op, [g.tensor(r.choice(ALL), r.choice(MATRIX_SHAPES + [(2, 3, 4)])), r.randint(-2, 2)], {})
    if op == "diag":
        sh = r.choice([(3,), (0,), (1,)] + MATRIX_SHAPES)
        k = r.randint(-2, 2)
        if len(sh) == 2 and min(sh[0] - max(0, -k), sh[1] - max(0, k)) < 0:
            k = 0  # torch 1.13 raises "numel: integer multiplication overflow" there
        return ("torch", op, [g.tensor(r.choice(NUM), sh), k], {})
    if op == "trace":
        return ("torch", op, [g.tensor(r.choice(NUM), r.choice(MATRIX_SHAPES))], {})
    if op == "outer":
        dt = r.choice(NUM)
        return ("torch", op, [g.tensor(dt, (r.randint(0, 3),)), g.tensor(dt, (r.randint(1, 3),))], {})
    if op in ("addmm", "baddbmm"):
        dt = r.choice(FLOAT)
        n, k, m = r.randint(1, 3), r.randint(0, 3), r.randint(1, 3)
        b = (2,) if op == "baddbmm" else ()
        kw = {}
        if r.random() < 0.5:
            kw["beta"] = r.choice([0, 0.5, 2])
        if r.random() < 0.5:
            kw["alpha"] = r.choice([0.5, -1, 2])
        # (torch 1.13's baddbmm with beta=0 and a broadcast input returns uninitialised memory)
        ins = [b + (n, m)] if op == "baddbmm" else [(n, m), (m,), (1, m)]
        return ("torch", op, [g.tensor(dt, r.choice(ins)), g.tensor(dt, b + (n, k)),
                              g.tensor(dt, b + (k, m))], kw, 1e-4)
    if op == "lerp":
        dt = r.choice(FLOAT)
        w = g.tensor(dt, g.bshape(s)) if r.random() < 0.5 else r.choice([0.0, 0.25, 0.5, 0.75, 1.0, 1.5])
        return ("torch", op, [g.tensor(dt, s), g.tensor(dt, g.bshape(s)), w], {})
    if op == "addcmul":
        dt = r.choice(FLOAT)
        kw = {"value": r.choice([0.5, 2.0])} if r.random() < 0.5 else {}
        return ("torch", op, [g.tensor(dt, s), g.tensor(dt, g.bshape(s)), g.tensor(dt, g.bshape(s))], kw)
    if op in ("clamp_min", "clamp_max"):
        return ("torch", op, [g.tensor(r.choice(NUM), s), r.choice([0, 1.5, -1])], {})
    if op == "nan_to_num":
        a = g.tensor(r.choice(NUM), s)
        if a["dtype"] in FLOAT:
            a["data"] = [r.choice([float("nan"), float("inf"), float("-inf"), v]) if r.random() < 0.3 else v
                         for v in a["data"]]
        kw = {}
        if r.random() < 0.5:
            kw = {"nan": 1.5, "posinf": 9.0}
        return ("torch", op, [a], kw)
    if op == "movedim":
        return ("torch", op, [g.tensor(r.choice(ALL), s), r.randint(-nd, nd - 1), r.randint(-nd, nd - 1)], {})
    if op == "swapaxes":
        return ("torch", op, [g.tensor(r.choice(ALL), s), r.randint(-nd, nd - 1), r.randint(-nd, nd - 1)], {})
    if op == "unflatten":
        d = r.randint(0, nd - 1)
        n = s[d]
        sizes = [1, n] if r.random() < 0.5 else [-1, 1]
        return ("method", op, [g.tensor(r.choice(ALL), s), d, sizes], {})
    if op == "isin":
        dt = r.choice(["i64", "f32"])
        return ("torch", op, [g.tensor(dt, s), g.tensor(dt, (r.randint(0, 4),))], {})
    if op == "argwhere":
        return ("torch", op, [g.tensor(r.choice(ALL), s)], {})
    if op == "cdist":
        dt = r.choice(FLOAT)
        mdim = r.randint(1, 3)
        return ("torch", op, [g.tensor(dt, (r.randint(1, 3), mdim)), g.tensor(dt, (r.randint(1, 3), mdim)),
                              r.choice([1.0, 2.0, 3.0])], {}, 1e-4)
    if op == "einsum":
        dt = r.choice(FLOAT)
        eq, shapes = r.choice([("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]), ("ii->i", [(3, 3)]),
                               ("ii", [(3, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
                               ("i,j->ij", [(3,), (2,)]), ("ij,ij->", [(2, 3), (2, 3)]), ("ijk->kj", [(2, 3, 4)])])
        return ("torch", op, [eq] + [g.tensor(dt, sh, nc=False) for sh in shapes], {}, 1e-4)
    if op == "tile":
        return ("torch", op, [g.tensor(r.choice(ALL), s), [r.randint(1, 3) for _ in range(r.randint(1, 3))]], {})
    if op in ("std_mean", "var_mean"):
        a = g.tensor(r.choice(FLOAT), s if nd else (3,))
        return ("torch", op, [a, r.randint(-max(nd, 1), max(nd, 1) - 1)], {"keepdim": r.random() < 0.5})
    # masked_scatter
    dt = r.choice(ALL)
    a = g.tensor(dt, s)
    m = g.tensor("bool", g.bshape(s))
    n = 1
    for d in s:
        n *= d
    return ("method", op, [a, m, g.tensor(dt, (n + r.randint(0, 2),))], {})


def case(g):
    """One random call: (ns, op, positional args, keyword args[, tolerance])."""
    r = g.r
    if r.random() < 0.2:
        return tensor_op_case(g)
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
    vals = [make(a) for a in args]
    if ns == "method":
        return getattr(vals[0], op)(*vals[1:], **kw)
    fn = getattr(F, op) if ns == "F" else getattr(torch, op)
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
        ns, op, args, kw, *tol = case(g)
        try:
            res = {"ok": outcome(run(ns, op, args, kw))}
        except Exception as e:  # torch refused the call: wick must refuse it too
            res = {"raised": str(e).split("\n")[0][:200].replace("\\", "/").replace('"', "'")}
        c = {"ns": ns, "op": op, "nargs": len(args), "args": args, "kw": kw}
        if tol:  # sums of products: the order of summation differs
            c["tol"] = tol[0]
        c.update(res)
        print("  " + lua(c) + ",")
    print("}")


main()
