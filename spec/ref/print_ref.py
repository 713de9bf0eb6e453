#!/usr/bin/python3
"""Reference strings for spec/print_spec.lua: what PyTorch 1.13 prints for the same tensors.

Run with Debian's /usr/bin/python3 (python3-torch). Prints Lua table entries to paste into the
spec. PyTorch's own algorithm runs unchanged; only the dtype spelling in the suffixes is
switched to wick's (`dtype=f64` for `dtype=torch.float64`) *before* the line-width decision, so
the expected strings are what PyTorch's layout gives with wick's shorter names.
"""
import torch
import torch._tensor_str as ts

WICK_DTYPES = {
    "torch.float32": "f32", "torch.float64": "f64", "torch.float16": "f16",
    "torch.bfloat16": "bf16", "torch.int64": "i64", "torch.int32": "i32",
    "torch.uint8": "u8", "torch.bool": "bool",
}
_orig_add_suffixes = ts._add_suffixes


def _wick_suffixes(tensor_str, suffixes, indent, force_newline):
    out = []
    for s in suffixes:
        if s.startswith("dtype="):
            s = "dtype=" + WICK_DTYPES[s[len("dtype="):]]
        out.append(s)
    return _orig_add_suffixes(tensor_str, out, indent, force_newline)


ts._add_suffixes = _wick_suffixes

nan, inf = float("nan"), float("inf")
T = torch.tensor
f64, f16, bf16, i32, u8, i64 = torch.float64, torch.float16, torch.bfloat16, torch.int32, torch.uint8, torch.int64

# (name, Lua expression building the same tensor, Python tensor, print options)
CASES = [
    ("float integers", "wick.tensor{1.0, 2.0, 3.0}", T([1.0, 2.0, 3.0]), {}),
    ("float fixed point", "wick.tensor{1.5, -2.25, 3.125}", T([1.5, -2.25, 3.125]), {}),
    ("0-d float", "wick.tensor(3.5)", T(3.5), {}),
    ("0-d int", "wick.tensor(7)", T(7), {}),
    ("0-d f64", "wick.tensor(0.1, {dtype = 'f64'})", T(0.1, dtype=f64), {}),
    ("int matrix", "wick.arange(12):reshape(3, 4)", torch.arange(12).reshape(3, 4), {}),
    ("3-D float", "wick.arange(24, {dtype = 'f32'}):reshape(2, 3, 4)",
     torch.arange(24, dtype=torch.float32).reshape(2, 3, 4), {}),
    ("4-D int", "wick.arange(16):reshape(2, 2, 2, 2)", torch.arange(16).reshape(2, 2, 2, 2), {}),
    ("summarised 1-D int", "wick.arange(2000)", torch.arange(2000), {}),
    ("summarised 2-D float", "wick.arange(10000, {dtype = 'f32'}):reshape(100, 100) / 7",
     torch.arange(10000, dtype=torch.float32).reshape(100, 100) / 7, {}),
    ("summarised 3-D", "wick.arange(2000):reshape(10, 10, 20)",
     torch.arange(2000).reshape(10, 10, 20), {}),
    ("summarised f64", "wick.arange(2000, {dtype = 'f64'}) / 4",
     torch.arange(2000, dtype=f64) / 4, {}),
    ("empty", "wick.zeros(0)", torch.zeros(0), {}),
    ("empty 2-D", "wick.zeros(0, 3)", torch.zeros(0, 3), {}),
    ("empty int", "wick.zeros(0, {dtype = 'i64'})", torch.zeros(0, dtype=i64), {}),
    ("empty 3-D f64", "wick.zeros(2, 0, 3, {dtype = 'f64'})", torch.zeros(2, 0, 3, dtype=f64), {}),
    ("bool", "wick.tensor{true, false}", T([True, False]), {}),
    ("bool matrix", "wick.tensor{{true, false, true}, {false, false, true}}",
     T([[True, False, True], [False, False, True]]), {}),
    ("nan and inf", "wick.tensor{0/0, 1/0, -1/0, 1.5}", T([nan, inf, -inf, 1.5]), {}),
    ("nan in int mode", "wick.tensor{0/0, 1.0, 2.0}", T([nan, 1.0, 2.0]), {}),
    ("all nan", "wick.tensor{0/0, 0/0}", T([nan, nan]), {}),
    ("negative zero", "wick.tensor{0.0, -0.0}", T([0.0, -0.0]), {}),
    ("negative zero fixed", "wick.tensor{-0.0, 1.5}", T([-0.0, 1.5]), {}),
    ("sci small", "wick.tensor{1e-5, 1.0}", T([1e-5, 1.0]), {}),
    ("sci large ratio", "wick.tensor{1e10, 1.0, -3.5}", T([1e10, 1.0, -3.5]), {}),
    ("sci int mode", "wick.tensor{1e9, 1.0}", T([1e9, 1.0]), {}),
    ("large f64 integer", "wick.tensor({123456789.0, -2.0}, {dtype = 'f64'})",
     T([123456789.0, -2.0], dtype=f64), {}),
    ("mixed magnitudes", "wick.tensor{-1234.5678, 0.25, 99.9}", T([-1234.5678, 0.25, 99.9]), {}),
    ("f64 suffix", "wick.tensor({1.0, 2.5}, {dtype = 'f64'})", T([1.0, 2.5], dtype=f64), {}),
    ("i32 suffix", "wick.tensor({1, -20, 300}, {dtype = 'i32'})", T([1, -20, 300], dtype=i32), {}),
    ("u8 suffix", "wick.tensor({0, 7, 255}, {dtype = 'u8'})", T([0, 7, 255], dtype=u8), {}),
    ("f16 values", "wick.tensor({0.1, 0.2, 1000.0}, {dtype = 'f16'})",
     T([0.1, 0.2, 1000.0], dtype=f16), {}),
    ("bf16 values", "wick.tensor({0.1, -3.0}, {dtype = 'bf16'})", T([0.1, -3.0], dtype=bf16), {}),
    ("int64 extremes", "wick.tensor{math.maxinteger, math.mininteger, 0}",
     T([9223372036854775807, -9223372036854775808, 0]), {}),
    ("line wrap float", "wick.arange(30, {dtype = 'f32'}) / 3",
     torch.arange(30, dtype=torch.float32) / 3, {}),
    ("line wrap int", "wick.arange(100)", torch.arange(100), {}),
    ("wrapped suffix", "wick.arange(40, {dtype = 'f64'}) / 3", torch.arange(40, dtype=f64) / 3, {}),
    ("column vector", "wick.arange(5, {dtype = 'f32'}):reshape(5, 1) * 1.5",
     torch.arange(5, dtype=torch.float32).reshape(5, 1) * 1.5, {}),
    ("zeros matrix f64", "wick.zeros(2, 2, {dtype = 'f64'})", torch.zeros(2, 2, dtype=f64), {}),
    ("transposed view", "wick.arange(6):reshape(2, 3):t()", torch.arange(6).reshape(2, 3).t(), {}),
    ("single element", "wick.tensor{5}", T([5]), {}),
    ("precision 2", "wick.tensor{1.12345, 2.5}", T([1.12345, 2.5]), {"precision": 2}),
    ("sci_mode off", "wick.tensor{1e-5, 1.0}", T([1e-5, 1.0]), {"sci_mode": False}),
    ("sci_mode on", "wick.tensor{1.5, 2.0}", T([1.5, 2.0]), {"sci_mode": True}),
    ("threshold 5", "wick.arange(10)", torch.arange(10), {"threshold": 5}),
    ("edgeitems 1", "wick.arange(100):reshape(10, 10)", torch.arange(100).reshape(10, 10),
     {"threshold": 10, "edgeitems": 1}),
    ("linewidth 40", "wick.arange(20, {dtype = 'f32'}) / 3", torch.arange(20, dtype=torch.float32) / 3,
     {"linewidth": 40}),
    ("profile short", "wick.arange(2000, {dtype = 'f32'}):reshape(40, 50) / 3",
     torch.arange(2000, dtype=torch.float32).reshape(40, 50) / 3, {"profile": "short"}),
    ("narrowed summarised view", "wick.arange(3000):reshape(3, 1000):narrow(1, 500, 400)",
     torch.arange(3000).reshape(3, 1000)[:, 500:900], {}),
]


def lua_long_string(s):
    eq = "="
    while ("]" + eq + "]") in s:
        eq += "="
    return "[" + eq + "[\n" + s + "]" + eq + "]"


def lua_options(opts):
    parts = []
    for k, v in opts.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, str):
            v = '"' + v + '"'
        parts.append("%s = %s" % (k, v))
    return "{" + ", ".join(parts) + "}"


print("-- generated by spec/ref/print_ref.py (PyTorch %s)" % torch.__version__)
print("return {")
for name, lua, t, opts in CASES:
    torch.set_printoptions(profile="default", sci_mode=None)
    if opts:
        torch.set_printoptions(**opts)
    s = repr(t)
    print("  {")
    print("    name = %r," % name)
    print("    lua = %s," % lua_long_string(lua).replace("\n", "", 1))
    if opts:
        print("    options = %s," % lua_options(opts))
    print("    expected = %s," % lua_long_string(s))
    print("  },")
print("}")
