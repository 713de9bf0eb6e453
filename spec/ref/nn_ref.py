# Reference values for spec/nn_functional_spec.lua: outputs and gradients of
# torch.nn.functional's conv/pool/norm/loss/embedding ops, printed as one Lua table.
# Run: /usr/bin/python3 spec/ref/nn_ref.py   (the spec runs it live when torch is installed)
# Inputs come from a formula both sides compute: det(shape, k) = sin(k * arange(n)) in f64,
# reshaped (and cast to f32 where the case says so). Each case backpropagates an explicit
# gradient det(out.shape, 0.53) so that every input gradient is checked.
import sys
import warnings

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
warnings.filterwarnings("ignore")


def det(shape, k, dtype=torch.float64):
    n = 1
    for s in shape:
        n *= s
    return (torch.arange(n, dtype=torch.float64) * k).sin().reshape(shape).to(dtype)


def leaf(shape, k, dtype=torch.float64):
    return det(shape, k, dtype).requires_grad_()


def flat(t):
    return t.detach().reshape(-1).tolist()


def lua(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s = %s" % (k, lua(x)) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, float):
        if v != v:
            return "0/0"
        if v in (float("inf"), float("-inf")):
            return "math.huge" if v > 0 else "-math.huge"
        return repr(v)
    return str(v)


def run(out, inputs, extra=None):
    """out: tensor; inputs: dict name -> leaf. Returns {out, <name> = grad...}."""
    r = {"out": flat(out)}
    if out.requires_grad:
        g = det(out.shape, 0.53, out.dtype) if out.dim() > 0 else torch.tensor(0.53, dtype=out.dtype)
        out.backward(g)
        for name, t in inputs.items():
            r["g" + name] = flat(t.grad) if t.grad is not None else None
    r = {k: v for k, v in r.items() if v is not None}
    if extra:
        r.update(extra)
    return r


cases = {}

# ---- conv2d ----
def conv_case(xs, ws, bias, dtype=torch.float64, **kw):
    x, w = leaf(xs, 0.37, dtype), leaf(ws, 0.71, dtype)
    b = leaf([ws[0]], 1.3, dtype) if bias else None
    ins = {"x": x, "w": w}
    if bias:
        ins["b"] = b
    return run(F.conv2d(x, w, b, **kw), ins)


cases["conv_basic"] = conv_case([2, 3, 7, 7], [4, 3, 3, 3], True, padding=1)
cases["conv_strided"] = conv_case([2, 4, 9, 8], [6, 2, 3, 2], True, stride=(2, 1), padding=(1, 2),
                                  dilation=(2, 1), groups=2)
cases["conv_depthwise"] = conv_case([1, 3, 6, 6], [3, 1, 3, 3], False, stride=2, padding=1, groups=3)
cases["conv_same"] = conv_case([1, 2, 6, 5], [3, 2, 4, 3], True, padding="same", dilation=(1, 2))
cases["conv_unbatched"] = conv_case([2, 5, 5], [3, 2, 2, 2], True, stride=2)
cases["conv_large"] = conv_case([3, 4, 18, 17], [6, 2, 3, 3], True, padding=1, groups=2)
cases["conv_large_f32"] = conv_case([2, 3, 20, 20], [5, 3, 3, 3], True, dtype=torch.float32, stride=1)
cases["conv_f32"] = conv_case([2, 3, 7, 7], [4, 3, 3, 3], True, dtype=torch.float32, padding=1)

# ---- pooling ----
def pool_case(fn, xs, k=0.37, dtype=torch.float64, ties=False, **kw):
    x = det(xs, k, dtype)
    if ties:
        x = (x * 3).floor()
    x.requires_grad_()
    return run(fn(x, **kw), {"x": x})


cases["max_ceil"] = pool_case(F.max_pool2d, [2, 3, 7, 7], kernel_size=3, stride=2, padding=1, ceil_mode=True)
cases["max_dil"] = pool_case(F.max_pool2d, [1, 2, 7, 6], kernel_size=(2, 3), stride=1, dilation=(2, 1),
                             padding=(1, 1))
cases["max_ties"] = pool_case(F.max_pool2d, [2, 2, 6, 6], ties=True, kernel_size=2)
cases["max_f32"] = pool_case(F.max_pool2d, [2, 3, 8, 8], dtype=torch.float32, kernel_size=2)
cases["avg_ceil"] = pool_case(F.avg_pool2d, [2, 3, 7, 7], kernel_size=3, stride=2, padding=1, ceil_mode=True,
                              count_include_pad=False)
cases["avg_pad"] = pool_case(F.avg_pool2d, [1, 2, 5, 6], kernel_size=2, padding=1)
cases["avg_ceil_pad"] = pool_case(F.avg_pool2d, [1, 2, 6, 6], kernel_size=3, stride=2, padding=1,
                                  ceil_mode=True)
cases["avg_div"] = pool_case(F.avg_pool2d, [1, 2, 5, 5], kernel_size=(3, 2), divisor_override=3)
cases["adaptive"] = pool_case(F.adaptive_avg_pool2d, [2, 3, 7, 5], output_size=(3, 2))
cases["adaptive_up"] = pool_case(F.adaptive_avg_pool2d, [3, 3, 5], output_size=4)

# ---- normalisation ----
def bn_case(xs, training, affine=True, momentum=0.1):
    C = xs[1]
    x = leaf(xs, 0.37)
    rm = det([C], 0.9) * 0.5
    rv = det([C], 1.1) ** 2 + 0.5
    w = leaf([C], 0.8) if affine else None
    b = leaf([C], 1.7) if affine else None
    out = F.batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=1e-5)
    ins = {"x": x}
    if affine:
        ins.update(w=w, b=b)
    return run(out, ins, {"rm": flat(rm), "rv": flat(rv)})


cases["bn_train"] = bn_case([4, 3, 5, 5], True, momentum=0.2)
cases["bn_train_2d"] = bn_case([6, 4], True)
cases["bn_eval"] = bn_case([4, 3, 5, 5], False)
cases["bn_train_noaffine"] = bn_case([3, 2, 4], True, affine=False)


def ln_case(xs, shape, affine=True):
    x = leaf(xs, 0.37)
    w = leaf(shape, 0.8) if affine else None
    b = leaf(shape, 1.7) if affine else None
    ins = {"x": x}
    if affine:
        ins.update(w=w, b=b)
    return run(F.layer_norm(x, shape, w, b, eps=1e-5), ins)


cases["ln"] = ln_case([3, 4, 5], [4, 5])
cases["ln_plain"] = ln_case([2, 6], [6], affine=False)

# ---- losses ----
def targets(n, C, ignore=None):
    t = torch.tensor([(i * 3 + 1) % C for i in range(n)], dtype=torch.int64)
    if ignore is not None:
        t[1] = ignore
    return t


def ce_case(xs, ts, weight=False, **kw):
    C = xs[1]
    x = leaf(xs, 0.37)
    n = 1
    for s in ts:
        n *= s
    t = targets(n, C, kw.get("ignore_index")).reshape(ts)
    w = det([C], 0.9).abs() + 0.2 if weight else None
    return run(F.cross_entropy(x, t, weight=w, **kw), {"x": x})


cases["ce_mean"] = ce_case([5, 7], [5])
cases["ce_weighted"] = ce_case([5, 7], [5], weight=True, ignore_index=2, reduction="mean")
cases["ce_smooth"] = ce_case([5, 7], [5], label_smoothing=0.1, ignore_index=4)
cases["ce_smooth_w"] = ce_case([5, 7], [5], weight=True, label_smoothing=0.2, ignore_index=4)
cases["ce_sum"] = ce_case([5, 7], [5], reduction="sum", label_smoothing=0.1)
cases["ce_none"] = ce_case([5, 7], [5], weight=True, reduction="none", ignore_index=3)
cases["ce_kdim"] = ce_case([2, 4, 3, 3], [2, 3, 3], weight=True, label_smoothing=0.05)


def ce_prob_case(**kw):
    x = leaf([4, 6], 0.37)
    p = det([4, 6], 0.61).softmax(1).requires_grad_()
    w = det([6], 0.9).abs() + 0.2 if kw.pop("weight", False) else None
    return run(F.cross_entropy(x, p, weight=w, **kw), {"x": x, "p": p})


cases["ce_prob"] = ce_prob_case()
cases["ce_prob_smooth_w"] = ce_prob_case(weight=True, label_smoothing=0.3, reduction="sum")


def nll_case(**kw):
    x = leaf([5, 7], 0.37)
    t = targets(5, 7, kw.get("ignore_index"))
    w = det([7], 0.9).abs() + 0.2
    return run(F.nll_loss(x, t, weight=w, **kw), {"x": x})


cases["nll"] = nll_case(ignore_index=2)
cases["nll_none"] = nll_case(reduction="none")


def elem_case(fn, bce=False, **kw):
    x = leaf([3, 4], 0.37)
    t = det([3, 4], 0.61)
    if bce:
        t = (t + 1) / 2
        w = det([4], 0.9).abs() + 0.2
        pw = det([4], 1.3).abs() + 0.5
        kw.update(weight=w, pos_weight=pw)
    t.requires_grad_()
    return run(fn(x * 4 if bce else x, t, **kw), {"x": x, "t": t})


cases["mse"] = elem_case(F.mse_loss)
cases["mse_none"] = elem_case(F.mse_loss, reduction="none")
cases["l1_sum"] = elem_case(F.l1_loss, reduction="sum")
cases["bce"] = elem_case(F.binary_cross_entropy_with_logits, bce=True)
cases["bce_none"] = elem_case(F.binary_cross_entropy_with_logits, bce=True, reduction="none")

# ---- embedding, dropout ----
w = leaf([6, 3], 0.37)
idx = torch.tensor([[0, 2, 5], [2, 2, 1]])
cases["embedding"] = run(F.embedding(idx, w, padding_idx=2), {"w": w})

torch.manual_seed(7)
cases["dropout"] = {"out": flat(F.dropout(torch.ones(64), p=0.3, training=True))}

print("-- generated by spec/ref/nn_ref.py (PyTorch %s)" % torch.__version__)
print("return " + lua(cases))
sys.stdout.flush()
