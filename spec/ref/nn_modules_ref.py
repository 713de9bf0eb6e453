# Reference values for spec/nn/*_spec.lua, written as a Lua table to spec/nn/nn_ref.lua.
# Run: /usr/bin/python3 spec/ref/nn_modules_ref.py > spec/nn/nn_ref.lua   (PyTorch 1.13)
# Inputs and weights come from formulas that the specs compute the same way (fx below), in
# float64, so forward values and gradients compare tightly; default initialisations are
# compared after torch.manual_seed, which wick's generator reproduces.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

D = torch.float64


def fx(shape, a=0.37, b=0.0):
    """sin(a * i + b) over i = 0..n-1, reshaped: the specs' fx(shape, a, b)."""
    n = math.prod(shape)
    return torch.sin(torch.arange(n, dtype=D) * a + b).reshape(shape)


def lua(v):
    if isinstance(v, torch.Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v).replace("inf", "math.huge").replace("nan", "0/0")
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, dict):
        return "{" + ", ".join('["%s"] = %s' % (k, lua(x)) for k, x in v.items()) + "}"
    return str(v)


refs = {}


def grads(out, *tensors, a=0.13):
    """Gradients of sum(out * fx(out.shape, a)) with respect to tensors."""
    (out * fx(tuple(out.shape), a)).sum().backward()
    return [t.grad.clone() for t in tensors]


def leaf(t):
    return t.clone().requires_grad_()


# ---- Linear ----
lin = nn.Linear(5, 3, dtype=D)
with torch.no_grad():
    lin.weight.copy_(fx((3, 5)))
    lin.bias.copy_(fx((3,), 0.5, 1.0))
x = leaf(fx((4, 5), 0.23, 0.1))
y = lin(x)
gx, gw, gb = grads(y, x, lin.weight, lin.bias)
refs["linear"] = {"out": y, "gx": gx, "gw": gw, "gb": gb}

# ---- Conv2d ----
conv = nn.Conv2d(2, 4, 3, padding=1, dtype=D)
with torch.no_grad():
    conv.weight.copy_(fx((4, 2, 3, 3)))
    conv.bias.copy_(fx((4,), 0.5, 1.0))
x = leaf(fx((2, 2, 5, 5), 0.23, 0.1))
y = conv(x)
gx, gw, gb = grads(y, x, conv.weight, conv.bias)
refs["conv_a"] = {"out": y, "gx": gx, "gw": gw, "gb": gb}

conv = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, dtype=D)
with torch.no_grad():
    conv.weight.copy_(fx((6, 2, 3, 2)))
    conv.bias.copy_(fx((6,), 0.5, 1.0))
x = leaf(fx((1, 4, 7, 6), 0.23, 0.1))
y = conv(x)
gx, gw, gb = grads(y, x, conv.weight, conv.bias)
refs["conv_b"] = {"out": y, "gx": gx, "gw": gw, "gb": gb}

# ---- BatchNorm ----
bn = nn.BatchNorm2d(3, dtype=D)
with torch.no_grad():
    bn.weight.copy_(fx((3,), 0.7, 1.0))
    bn.bias.copy_(fx((3,), 0.3, 0.5))
x = leaf(fx((4, 3, 2, 2), 0.23, 0.1) * 2 + 0.5)
y = bn(x)
gx, gw, gb = grads(y, x, bn.weight, bn.bias)
bn.eval()
refs["bn2d"] = {"out": y, "gx": gx, "gw": gw, "gb": gb, "running_mean": bn.running_mean,
                "running_var": bn.running_var, "eval_out": bn(fx((2, 3, 2, 2), 0.41))}

bn = nn.BatchNorm1d(3, momentum=None, dtype=D)
y2 = bn(fx((5, 3), 0.23, 0.1))
y3 = bn(fx((2, 3, 4), 0.31))
refs["bn1d"] = {"out2": y2, "out3": y3, "running_mean": bn.running_mean,
                "running_var": bn.running_var}

# ---- LayerNorm ----
ln = nn.LayerNorm((3, 4), dtype=D)
with torch.no_grad():
    ln.weight.copy_(fx((3, 4), 0.7, 1.0))
    ln.bias.copy_(fx((3, 4), 0.3, 0.5))
x = leaf(fx((2, 3, 4), 0.23, 0.1))
y = ln(x)
gx, gw, gb = grads(y, x, ln.weight, ln.bias)
refs["layernorm"] = {"out": y, "gx": gx, "gw": gw, "gb": gb}

# ---- Embedding ----
emb = nn.Embedding(6, 3, padding_idx=1, dtype=D)
with torch.no_grad():
    emb.weight.copy_(fx((6, 3)))
idx = torch.tensor([[0, 2], [5, 1], [2, 2]])
y = emb(idx)
(gw,) = grads(y, emb.weight)
refs["embedding"] = {"out": y, "gw": gw}

# ---- activations ----
x = fx((2, 5), 0.9) * 3
refs["act"] = {
    "x": x, "relu": F.relu(x), "gelu": F.gelu(x), "gelu_tanh": F.gelu(x, approximate="tanh"),
    "tanh": torch.tanh(x), "sigmoid": torch.sigmoid(x), "silu": F.silu(x),
    "softplus": F.softplus(x), "leaky_relu": F.leaky_relu(x, 0.2), "elu": F.elu(x, 0.7),
    "hardtanh": F.hardtanh(x, -0.5, 0.5), "relu6": F.relu6(x * 4),
    "softmax1": F.softmax(x, 1), "log_softmax0": F.log_softmax(x, 0),
}

# ---- pooling ----
x = fx((1, 2, 5, 5), 0.77)
xw = fx((1, 2, 5, 7), 0.53)
refs["pool"] = {
    "max2": F.max_pool2d(x, 2), "max3s2p1": F.max_pool2d(x, 3, 2, 1),
    "max2ceil": F.max_pool2d(x, 2, ceil_mode=True), "avg2": F.avg_pool2d(x, 2),
    "avg3s2p1_nopad": F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "avg3s2p1": F.avg_pool2d(x, 3, 2, 1),
    "adaptive23": F.adaptive_avg_pool2d(xw, (2, 3)), "adaptive1": F.adaptive_avg_pool2d(xw, 1),
}

# ---- losses ----
logits = fx((4, 5), 0.9) * 2
target = torch.tensor([1, 0, 4, 2])
w = torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=D)
lg = leaf(logits)
ce_ls = F.cross_entropy(lg, target, weight=w, label_smoothing=0.1)
ce_ls.backward()
p = fx((3, 4), 0.61)
t = torch.sigmoid(fx((3, 4), 1.3))
pw = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=D)
refs["loss"] = {
    "ce": F.cross_entropy(logits, target), "ce_sum": F.cross_entropy(logits, target, reduction="sum"),
    "ce_none": F.cross_entropy(logits, target, reduction="none"),
    "ce_weight": F.cross_entropy(logits, target, weight=w),
    "ce_ignore": F.cross_entropy(logits, torch.tensor([1, -100, 4, 2])),
    "ce_ignore2": F.cross_entropy(logits, target, ignore_index=2),
    "ce_ls": F.cross_entropy(logits, target, label_smoothing=0.1),
    "ce_ls_weight": ce_ls, "ce_ls_weight_grad": lg.grad,
    "nll": F.nll_loss(F.log_softmax(logits, 1), target),
    "nll_weight_sum": F.nll_loss(F.log_softmax(logits, 1), target, weight=w, reduction="sum"),
    "mse": F.mse_loss(p, t), "mse_sum": F.mse_loss(p, t, reduction="sum"),
    "l1": F.l1_loss(p, t), "l1_none": F.l1_loss(p, t, reduction="none"),
    "bce": F.binary_cross_entropy_with_logits(p, t),
    "bce_pos": F.binary_cross_entropy_with_logits(p, t, pos_weight=pw),
    "bce_weight_sum": F.binary_cross_entropy_with_logits(p, t, weight=pw, reduction="sum"),
}

# ---- default initialisations after manual_seed ----
torch.manual_seed(0)
lin = nn.Linear(5, 3)
torch.manual_seed(1)
conv = nn.Conv2d(2, 4, 3)
torch.manual_seed(2)
emb = nn.Embedding(4, 3, padding_idx=1)
refs["init"] = {"linear_w": lin.weight, "linear_b": lin.bias, "conv_w": conv.weight,
                "conv_b": conv.bias, "emb_w": emb.weight}


# ---- models: names, shapes, and a seeded small_cnn end to end ----
def small_cnn(num_classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, num_classes))


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def names_shapes(m):
    return [[k, list(v.shape)] for k, v in m.state_dict().items()]


torch.manual_seed(0)
cnn = small_cnn()
x = fx((2, 1, 28, 28), 0.01).float()
out = cnn(x)
loss = F.cross_entropy(out, torch.tensor([3, 7]))
loss.backward()
refs["models"] = {
    "small_cnn_keys": names_shapes(cnn), "mlp_keys": names_shapes(mlp([784, 256, 128, 10])),
    "small_cnn_out": out, "small_cnn_loss": loss.item(),
    "small_cnn_param_sums": [p.double().sum().item() for p in cnn.parameters()],
    "small_cnn_grad_sums": [p.grad.double().sum().item() for p in cnn.parameters()],
    "small_cnn_grad_abs": [p.grad.double().abs().sum().item() for p in cnn.parameters()],
}

print("-- generated by spec/ref/nn_modules_ref.py (PyTorch %s); do not edit" % torch.__version__)
print("return {")
for k, v in refs.items():
    print("  %s = %s," % (k, lua(v)))
print("}")
