# Reference values for spec/nn/transformer_spec.lua: nn.functional additions, losses,
# MultiheadAttention, Transformer layers/stacks and clip_grad_* computed by PyTorch 1.13 in f64.
# Each case records its inputs, module state dict, output and the gradient of
# sum(out * cos(arange(numel))) with respect to each input.
# Run: /usr/bin/python3 spec/ref/transformer_ref.py > spec/nn/transformer_ref.lua
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(13)
D = torch.float64


def T(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": {torch.float64: "f64", torch.int64: "i64", torch.bool: "bool"}[t.dtype],
            "data": t.reshape(-1).tolist()}


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
        return "{" + ", ".join('["%s"] = %s' % (k, lua(x)) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def proj(out):
    return (out * torch.cos(torch.arange(out.numel(), dtype=D)).reshape(out.shape)).sum()


cases = {}


def case(name, fn, inputs, mod=None, nograd=()):
    xs = [x.clone().requires_grad_(x.is_floating_point() and i not in nograd) for i, x in enumerate(inputs)]
    out = fn(*xs)
    if isinstance(out, tuple):
        out = out[0]
    c = {"inputs": [T(x) for x in inputs], "out": T(out), "nograd": [i + 1 for i in nograd]}
    if out.is_floating_point() and out.requires_grad:
        proj(out).backward()
        c["grads"] = [T(x.grad) if x.grad is not None else "none" for x in xs]
    if mod is not None:
        c["state"] = {k: T(v) for k, v in mod.state_dict().items()}
    cases[name] = c


r = lambda *s: torch.randn(*s, dtype=D)
case("logsigmoid", F.logsigmoid, [r(3, 4) * 4])
case("softmin", lambda x: F.softmin(x, dim=1), [r(3, 4)])
case("glu", lambda x: F.glu(x, dim=-1), [r(3, 4)])
case("mish", F.mish, [r(3, 4) * 3])
case("hardswish", F.hardswish, [r(3, 4) * 3])
case("hardsigmoid", F.hardsigmoid, [r(3, 4) * 3])
case("one_hot", lambda t: F.one_hot(t, 5), [torch.tensor([[0, 3], [4, 1]])])
x4 = r(2, 3, 4, 5)
case("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [x4])
case("pad_negative", lambda x: F.pad(x, (-1, 2)), [x4])
case("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 3), mode="reflect"), [x4])
case("pad_replicate", lambda x: F.pad(x, (2, 1, 1, 3), mode="replicate"), [x4])
case("pad_circular", lambda x: F.pad(x, (2, 1, 1, 3), mode="circular"), [x4])
case("normalize", lambda x: F.normalize(x, dim=1), [r(3, 4)])
case("normalize_p1", lambda x: F.normalize(x, p=1.0, dim=-1), [r(3, 4)])
case("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=1), [r(3, 4), r(3, 4)])
p = torch.rand(3, 4, dtype=D) * 0.98 + 0.01
tg = torch.rand(3, 4, dtype=D)
case("binary_cross_entropy", lambda a, b: F.binary_cross_entropy(a, b), [p, tg])
case("binary_cross_entropy_weight_sum", lambda a, b, w: F.binary_cross_entropy(a, b, weight=w, reduction="sum"),
     [p, tg, torch.rand(4, dtype=D)], nograd=(2,))
lp = r(3, 4).log_softmax(1)
tp = r(3, 4).softmax(1)
tp[0, 1] = 0.0
case("kl_div_batchmean", lambda a, b: F.kl_div(a, b, reduction="batchmean"), [lp, tp], nograd=(1,))
case("kl_div_log_target_none", lambda a, b: F.kl_div(a, b, reduction="none", log_target=True), [lp, tp.clamp_min(1e-3).log()])
case("smooth_l1_loss", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), [r(3, 4), r(3, 4)])
case("huber_loss", lambda a, b: F.huber_loss(a, b, reduction="none", delta=0.7), [r(3, 4), r(3, 4)])
case("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [r(2, 4, 3, 2), r(4), r(4)])
q, k, v = r(2, 3, 4, 8), r(2, 3, 6, 8), r(2, 3, 6, 8)
m = torch.rand(4, 6) > 0.3
m[:, 0] = True
case("sdpa", lambda a, b, c: F._scaled_dot_product_attention(a, b, c, None, 0.0, False, False), [q, k, v])
case("sdpa_bool_mask", lambda a, b, c: F._scaled_dot_product_attention(a, b, c, m, 0.0, False, False), [q, k, v])
fm = r(4, 6)
case("sdpa_float_mask", lambda a, b, c: F._scaled_dot_product_attention(a, b, c, fm, 0.0, False, False), [q, k, v])
case("sdpa_causal", lambda a, b, c: F._scaled_dot_product_attention(a, b, c, None, 0.0, False, True), [q, k[:, :, :4], v[:, :, :4]])
cases["masks"] = {"bool": T(m), "float": T(fm)}

mha = nn.MultiheadAttention(8, 2, dtype=D)
kpm = torch.tensor([[False, False, False, True, True], [False] * 5])
am = torch.rand(3, 5) > 0.7
am[:, 0] = False
case("mha", lambda a, b, c: mha(a, b, c, key_padding_mask=kpm, attn_mask=am), [r(3, 2, 8), r(5, 2, 8), r(5, 2, 8)], mod=mha)
cases["mha_masks"] = {"kpm": T(kpm), "am": T(am)}
xa = r(3, 2, 8)
case("mha_weights", lambda a: mha(a, a, a, average_attn_weights=False)[1], [xa], mod=mha)

enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype=D)
causal = nn.Transformer.generate_square_subsequent_mask(4).to(D)
case("encoder_layer", lambda s: enc(s, src_mask=causal), [r(4, 2, 8)], mod=enc)
enc2 = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True,
                                  norm_first=True, dtype=D)
case("encoder_layer_norm_first", lambda s: enc2(s), [r(2, 4, 8)], mod=enc2)
dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype=D)
case("decoder_layer", lambda t, mem: dec(t, mem, tgt_mask=causal), [r(4, 2, 8), r(5, 2, 8)], mod=dec)
stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype=D), 2,
                              norm=nn.LayerNorm(8, dtype=D), enable_nested_tensor=False)
case("encoder", lambda s: stack(s, mask=causal), [r(4, 2, 8)], mod=stack)
dstack = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype=D), 2)
case("decoder", lambda t, mem: dstack(t, mem, tgt_mask=causal), [r(4, 2, 8), r(5, 2, 8)], mod=dstack)
cases["causal"] = T(causal)

x1 = r(2, 4, 9)
case("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), [x1, r(3, 4, 3), r(3)])
case("conv1d_groups", lambda x, w: F.conv1d(x, w, None, padding=2, groups=2), [x1, r(6, 2, 4)])
case("max_pool1d", lambda x: F.max_pool1d(x, 3, stride=2, padding=1), [x1])
case("max_pool1d_ceil", lambda x: F.max_pool1d(x, 2, ceil_mode=True), [x1])
case("avg_pool1d", lambda x: F.avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False), [x1])
case("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [r(2, 3, 4, 5), r(3), r(3)])
case("interpolate_size", lambda x: F.interpolate(x, size=(5, 7), mode="nearest"), [r(2, 3, 3, 4)])
case("interpolate_scale", lambda x: F.interpolate(x, scale_factor=2.5, mode="nearest"), [r(2, 3, 4)])
case("interpolate_down", lambda x: F.interpolate(x, size=(2, 3), mode="nearest"), [r(1, 2, 5, 7)])
c1 = nn.Conv1d(4, 6, 3, stride=1, padding=1, groups=2, dtype=D)
case("Conv1d", lambda x: c1(x), [x1], mod=c1)

g1, g2 = r(3, 4), r(5)
ps = [torch.zeros(3, 4, dtype=D, requires_grad=True), torch.zeros(5, dtype=D, requires_grad=True)]
ps[0].grad, ps[1].grad = g1.clone(), g2.clone()
tot = torch.nn.utils.clip_grad_norm_(ps, 1.5)
tot_inf = torch.nn.utils.clip_grad_norm_([torch.zeros(5, dtype=D, requires_grad=True)], 1.0, norm_type=float("inf"))
cases["clip_grad_norm"] = {"g1": T(g1), "g2": T(g2), "total": tot.item(), "c1": T(ps[0].grad), "c2": T(ps[1].grad)}
ps[0].grad = g1.clone()
torch.nn.utils.clip_grad_value_(ps[:1], 0.5)
cases["clip_grad_value"] = {"g1": T(g1), "c1": T(ps[0].grad)}

print("-- generated by spec/ref/transformer_ref.py (PyTorch %s); do not edit" % torch.__version__)
print("return {")
for k, val in cases.items():
    print("  %s = %s," % (k, lua(val)))
print("}")
