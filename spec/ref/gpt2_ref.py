# The PyTorch reference of spec/models/gpt2_spec.lua: a GPT-2 written from Hugging Face's
# modeling_gpt2 (Conv1D weights [in, out], tanh GELU, causal attention, tied lm_head), with
# random weights saved in the hub's layout (no "transformer." prefix, attn.bias buffers) to
# DIR/model.safetensors, token ids and the logits to DIR/io.safetensors.
# Run: /usr/bin/python3 spec/ref/gpt2_ref.py DIR   (needs torch and safetensors)
import math
import sys

import torch
from safetensors.torch import save_file

L, H, E, V, BS = 2, 4, 32, 50, 16
torch.manual_seed(0)
sd = {"wte.weight": torch.randn(V, E) * 0.3, "wpe.weight": torch.randn(BS, E) * 0.3,
      "ln_f.weight": 1 + 0.1 * torch.randn(E), "ln_f.bias": 0.1 * torch.randn(E)}
for i in range(L):
    p = "h.%d." % i
    for ln in ("ln_1", "ln_2"):
        sd[p + ln + ".weight"] = 1 + 0.1 * torch.randn(E)
        sd[p + ln + ".bias"] = 0.1 * torch.randn(E)
    for name, nx, nf in (("attn.c_attn", E, 3 * E), ("attn.c_proj", E, E), ("mlp.c_fc", E, 4 * E),
                         ("mlp.c_proj", 4 * E, E)):
        sd[p + name + ".weight"] = torch.randn(nx, nf) * 0.2
        sd[p + name + ".bias"] = torch.randn(nf) * 0.1
    sd[p + "attn.bias"] = torch.tril(torch.ones(BS, BS, dtype=torch.uint8)).view(1, 1, BS, BS)
    sd[p + "attn.masked_bias"] = torch.tensor(-1e4)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def ln(x, p):
    return torch.nn.functional.layer_norm(x, (E,), sd[p + ".weight"], sd[p + ".bias"], 1e-5)


def conv1d(x, p):
    return torch.addmm(sd[p + ".bias"], x.reshape(-1, x.size(-1)), sd[p + ".weight"]).view(*x.shape[:-1], -1)


def forward(idx):
    B, T = idx.shape
    x = sd["wte.weight"][idx] + sd["wpe.weight"][torch.arange(T)]
    for i in range(L):
        p = "h.%d." % i
        h = ln(x, p + "ln_1")
        q, k, v = conv1d(h, p + "attn.c_attn").split(E, dim=2)
        q, k, v = (t.view(B, T, H, E // H).permute(0, 2, 1, 3) for t in (q, k, v))
        w = torch.matmul(q, k.transpose(-1, -2)) / (v.size(-1) ** 0.5)
        causal = sd[p + "attn.bias"][:, :, :T, :T].bool()
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min))
        a = torch.matmul(w.softmax(-1), v).permute(0, 2, 1, 3).reshape(B, T, E)
        x = x + conv1d(a, p + "attn.c_proj")
        h = ln(x, p + "ln_2")
        x = x + conv1d(gelu_new(conv1d(h, p + "mlp.c_fc")), p + "mlp.c_proj")
    return torch.matmul(ln(x, "ln_f"), sd["wte.weight"].t())


idx = torch.randint(0, V, (3, 12))
with torch.no_grad():
    logits = forward(idx)
out = sys.argv[1]
save_file({k: v.contiguous() for k, v in sd.items()}, out + "/model.safetensors")
save_file({"idx": idx, "logits": logits}, out + "/io.safetensors")
print("return { n_layer = %d, n_head = %d, n_embd = %d, vocab_size = %d, block_size = %d }" % (L, H, E, V, BS))
