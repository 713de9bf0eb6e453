-- nn.functional additions, the new losses, MultiheadAttention, the Transformer layers and
-- stacks, and clip_grad_*: outputs and input gradients against PyTorch 1.13 (f64, from
-- spec/ref/transformer_ref.py with the same inputs and state dicts), plus finite-difference
-- gradchecks and the errors PyTorch raises.
local wick = require("wick")
local nn = wick.nn
local F = nn.functional
local ref = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/nn") .. "/transformer_ref.lua")
local err = require("helpers").err

local function T(r) return wick.tensor(r.data, { dtype = r.dtype }):reshape(r.shape) end

local function close(got, want, what, tol)
  local w = T(want)
  assert.are.same(w.shape, got.shape, what .. ": shape")
  assert.are.equal(w.dtype, got.dtype, what .. ": dtype")
  if w.dtype ~= "f64" then assert.are.same(w:tolist(), got:tolist(), what); return end
  local d = (got - w):abs():max():item()
  local scale = math.max(1, w:abs():max():item())
  if d > (tol or 1e-9) * scale then error(("%s: max |wick - torch| = %.3g"):format(what, d), 2) end
end

local function proj(out)
  return (out * wick.arange(out:numel(), { dtype = "f64" }):cos():reshape(out.shape)):sum()
end

-- Runs fn on the case's inputs; checks output and gradients.
local function check(name, fn, mod, tol)
  local c = ref[name]
  if mod then
    local sd = {}
    for k, v in pairs(c.state) do sd[k] = T(v) end
    mod:load_state_dict(sd)
  end
  local nograd = {}
  for _, i in ipairs(c.nograd) do nograd[i] = true end
  local xs = {}
  for i, r in ipairs(c.inputs) do
    xs[i] = T(r)
    if r.dtype == "f64" and not nograd[i] then xs[i]:requires_grad_(true) end
  end
  local out = fn(table.unpack(xs))
  close(out, c.out, name .. " output", tol)
  if c.grads then
    proj(out):backward()
    for i, g in ipairs(c.grads) do
      if g ~= "none" then close(xs[i].grad, g, name .. " grad " .. i, tol) end
    end
  end
end

local function f64(...) return wick.randn({ ... }, { dtype = "f64", requires_grad = true }) end
local gradcheck = wick.autograd.gradcheck

describe("nn.functional additions against PyTorch", function()
  it("activations: logsigmoid softmin glu mish hardswish hardsigmoid", function()
    check("logsigmoid", F.logsigmoid)
    check("softmin", function(x) return F.softmin(x, 1) end)
    check("glu", function(x) return F.glu(x, -1) end)
    check("mish", F.mish)
    check("hardswish", F.hardswish)
    check("hardsigmoid", F.hardsigmoid, nil, 1e-7) -- PyTorch's backward multiplies by the f32 1/6
    for _, fn in ipairs({ F.logsigmoid, F.mish, F.hardswish, F.glu, function(x) return F.softmin(x, 0) end }) do
      assert.is_true(gradcheck(fn, { f64(4, 6) }))
    end
  end)

  it("one_hot, pad (constant, negative, reflect, replicate, circular), normalize, cosine_similarity", function()
    check("one_hot", function(t) return F.one_hot(t, 5) end)
    check("pad_constant", function(x) return F.pad(x, { 1, 2, 0, 1 }, { value = 0.5 }) end)
    check("pad_negative", function(x) return F.pad(x, { -1, 2 }) end)
    check("pad_reflect", function(x) return F.pad(x, { 2, 1, 1, 3 }, { mode = "reflect" }) end)
    check("pad_replicate", function(x) return F.pad(x, { 2, 1, 1, 3 }, { mode = "replicate" }) end)
    check("pad_circular", function(x) return F.pad(x, { 2, 1, 1, 3 }, { mode = "circular" }) end)
    check("normalize", function(x) return F.normalize(x, { dim = 1 }) end)
    check("normalize_p1", function(x) return F.normalize(x, { p = 1, dim = -1 }) end)
    check("cosine_similarity", function(a, b) return F.cosine_similarity(a, b, { dim = 1 }) end)
    assert.is_true(gradcheck(function(x) return F.pad(x, { 1, 2, 2, 1 }, { mode = "reflect" }) end, { f64(2, 4, 5) }))
    assert.is_true(gradcheck(function(x) return F.normalize(x, { dim = 1 }) end, { f64(3, 4) }))
    assert.is_true(gradcheck(function(a, b) return F.cosine_similarity(a, b) end, { f64(3, 4), f64(3, 4) }))
    assert.are.equal("one_hot: Class values must be smaller than num_classes.", err(F.one_hot, wick.tensor{3}, 2))
    assert.are.equal("one_hot: one_hot is only applicable to index tensor (i64)", err(F.one_hot, wick.tensor{1.0}))
    assert.are.equal("pad: padding size should be less than the corresponding input dimension, but got: padding (3, 0) at dimension 1 of input 3",
      err(F.pad, wick.zeros(2, 3), { 3, 0 }, { mode = "reflect" }))
    assert.are.equal("pad: mode must be 'constant', 'reflect', 'replicate' or 'circular' (got 'edge')",
      err(F.pad, wick.zeros(2, 3), { 1, 1 }, { mode = "edge" }))
  end)

  it("losses: binary_cross_entropy kl_div smooth_l1_loss huber_loss", function()
    check("binary_cross_entropy", F.binary_cross_entropy)
    check("binary_cross_entropy_weight_sum", function(a, b, w)
      return F.binary_cross_entropy(a, b, { weight = w, reduction = "sum" }) end)
    check("kl_div_batchmean", function(a, b) return F.kl_div(a, b, { reduction = "batchmean" }) end)
    check("kl_div_log_target_none", function(a, b) return F.kl_div(a, b, { reduction = "none", log_target = true }) end)
    check("smooth_l1_loss", function(a, b) return F.smooth_l1_loss(a, b, { beta = 0.5 }) end)
    check("huber_loss", function(a, b) return F.huber_loss(a, b, { reduction = "none", delta = 0.7 }) end)
    local p = (wick.rand(3, 4, { dtype = "f64" }) * 0.9 + 0.05):requires_grad_(true)
    local tgt = wick.rand(3, 4, { dtype = "f64" })
    assert.is_true(gradcheck(function(x) return F.binary_cross_entropy(x, tgt) end, { p }))
    assert.is_true(gradcheck(function(a, b) return F.huber_loss(a, b, { delta = 0.5 }) end, { f64(5), f64(5) }))
    assert.is_true(gradcheck(function(a, b) return F.smooth_l1_loss(a, b, { beta = 0.5 }) end, { f64(5), f64(5) }))
    assert.are.equal(
      "binary_cross_entropy: using a target size (3) that is different to the input size (2, 3) is not supported",
      err(F.binary_cross_entropy, wick.rand(2, 3), wick.rand(3)))
    assert.are.equal("kl_div: reduce is not a valid value for reduction",
      err(F.kl_div, wick.rand(2), wick.rand(2), { reduction = "reduce" }))
  end)

  it("group_norm and nn.GroupNorm", function()
    check("group_norm", function(x, w, b) return F.group_norm(x, 2, w, b) end)
    assert.is_true(gradcheck(function(x, w, b) return F.group_norm(x, 2, w, b) end, { f64(2, 4, 3), f64(4), f64(4) }))
    local g = nn.GroupNorm(2, 4, { dtype = "f64" })
    check("group_norm", function(x, w, b) g.weight, g.bias = w, b; return g(x) end)
    assert.are.equal("group_norm: Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 4, 3] and num_groups=3",
      err(F.group_norm, wick.zeros(2, 4, 3), 3))
  end)

  it("scaled_dot_product_attention: plain, bool and float masks, causal", function()
    check("sdpa", function(q, k, v) return F.scaled_dot_product_attention(q, k, v) end)
    local m, fm = T(ref.masks.bool), T(ref.masks.float)
    check("sdpa_bool_mask", function(q, k, v) return F.scaled_dot_product_attention(q, k, v, { attn_mask = m }) end)
    check("sdpa_float_mask", function(q, k, v) return F.scaled_dot_product_attention(q, k, v, { attn_mask = fm }) end)
    check("sdpa_causal", function(q, k, v) return F.scaled_dot_product_attention(q, k, v, { is_causal = true }) end)
    assert.is_true(gradcheck(function(q, k, v) return F.scaled_dot_product_attention(q, k, v, { is_causal = true }) end,
      { f64(2, 3, 4), f64(2, 3, 4), f64(2, 3, 4) }))
    -- dropout: in expectation the same, and rows no longer sum to one
    wick.manual_seed(1)
    local q = wick.randn(1, 4, 8)
    local _, att = F.scaled_dot_product_attention(q, q, q, { dropout_p = 0.5 })
    assert.is_true(att:eq(0):sum():item() > 0)
  end)
end)

describe("conv1d, 1-d pooling, instance_norm, interpolate, dropout2d against PyTorch", function()
  it("conv1d and nn.Conv1d", function()
    check("conv1d", function(x, w, b) return F.conv1d(x, w, b, { stride = 2, padding = 1, dilation = 2 }) end)
    check("conv1d_groups", function(x, w) return F.conv1d(x, w, nil, { padding = 2, groups = 2 }) end)
    local c = nn.Conv1d(4, 6, 3, { padding = 1, groups = 2, dtype = "f64" })
    check("Conv1d", function(x) return c(x) end, c)
    assert.is_true(gradcheck(function(x, w) return F.conv1d(x, w, nil, { stride = 2 }) end, { f64(1, 2, 7), f64(3, 2, 3) }))
    assert.are.equal("conv1d: expected a 2-D (unbatched) or 3-D (batched) input, got 4-D",
      err(F.conv1d, wick.zeros(1, 2, 3, 4), wick.zeros(1, 2, 3)))
  end)

  it("max_pool1d, avg_pool1d, instance_norm, interpolate (nearest)", function()
    check("max_pool1d", function(x) return F.max_pool1d(x, 3, { stride = 2, padding = 1 }) end)
    check("max_pool1d_ceil", function(x) return F.max_pool1d(x, 2, { ceil_mode = true }) end)
    check("avg_pool1d", function(x) return F.avg_pool1d(x, 3, { stride = 2, padding = 1, count_include_pad = false }) end)
    check("instance_norm", function(x, w, b) return F.instance_norm(x, { weight = w, bias = b }) end)
    check("interpolate_size", function(x) return F.interpolate(x, { size = { 5, 7 } }) end)
    check("interpolate_scale", function(x) return F.interpolate(x, { scale_factor = 2.5 }) end)
    check("interpolate_down", function(x) return F.interpolate(x, { size = { 2, 3 } }) end)
    assert.is_true(gradcheck(function(x) return F.avg_pool1d(x, 2) end, { f64(1, 2, 6) }))
    assert.is_true(gradcheck(function(x) return F.instance_norm(x) end, { f64(2, 2, 5) }))
    assert.is_true(gradcheck(function(x) return F.interpolate(x, { scale_factor = 2 }) end, { f64(1, 2, 3) }))
    assert.are.equal("interpolate: mode 'bilinear' is not supported (only 'nearest')",
      err(F.interpolate, wick.zeros(1, 1, 2, 2), { size = 4, mode = "bilinear" }))
    assert.are.same({ 1, 1, 6 }, nn.Upsample({ scale_factor = 2 })(wick.zeros(1, 1, 3)).shape)
    assert.are.same({ 2, 3, 2 }, nn.MaxPool1d(2)(wick.zeros(2, 3, 5)).shape)
  end)

  it("dropout2d zeroes whole channels and scales the rest", function()
    wick.manual_seed(3)
    local y = F.dropout2d(wick.ones(8, 16, 5), 0.5)
    local per_channel = y:sum(2) / 5
    local zeros = per_channel:eq(0):sum():item()
    assert.are.equal(8 * 16, zeros + per_channel:eq(2):sum():item()) -- each channel all 0 or all 2
    assert.is_true(zeros > 30 and zeros < 98)
    assert.is_true(F.dropout2d(wick.ones(2, 3), 0.5, false):equal(wick.ones(2, 3)))
  end)
end)

describe("nn.MultiheadAttention and the Transformer modules against PyTorch", function()
  it("MultiheadAttention with key_padding_mask and attn_mask, and per-head weights", function()
    local mha = nn.MultiheadAttention(8, 2, { dtype = "f64" })
    local keys = {}
    for k in pairs(mha:state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "in_proj_bias", "in_proj_weight", "out_proj.bias", "out_proj.weight" }, keys)
    local kpm, am = T(ref.mha_masks.kpm), T(ref.mha_masks.am)
    check("mha", function(q, k, v) return (mha(q, k, v, { key_padding_mask = kpm, attn_mask = am })) end, mha)
    check("mha_weights", function(x) local _, w = mha(x, x, x, { average_attn_weights = false }); return w end, mha)
    local small = nn.MultiheadAttention(4, 2, { dtype = "f64" })
    assert.is_true(gradcheck(function(x) return (small(x, x, x)) end, { f64(3, 2, 4) }))
  end)

  it("TransformerEncoderLayer (post-norm relu; norm_first gelu batch_first) and DecoderLayer", function()
    local causal = T(ref.causal)
    local enc = nn.TransformerEncoderLayer(8, 2, { dim_feedforward = 16, dropout = 0.0, dtype = "f64" })
    check("encoder_layer", function(s) return enc(s, { src_mask = causal }) end, enc)
    local enc2 = nn.TransformerEncoderLayer(8, 2, { dim_feedforward = 16, dropout = 0.0, activation = "gelu",
      batch_first = true, norm_first = true, dtype = "f64" })
    check("encoder_layer_norm_first", function(s) return enc2(s) end, enc2)
    local dec = nn.TransformerDecoderLayer(8, 2, { dim_feedforward = 16, dropout = 0.0, dtype = "f64" })
    check("decoder_layer", function(t, m) return dec(t, m, { tgt_mask = causal }) end, dec)
    local small = nn.TransformerEncoderLayer(4, 2, { dim_feedforward = 6, dropout = 0.0, dtype = "f64" })
    assert.is_true(gradcheck(function(x) return small(x) end, { f64(3, 2, 4) }))
  end)

  it("TransformerEncoder / Decoder stacks: PyTorch's names, cloned layers, final norm", function()
    local causal = T(ref.causal)
    local layer = nn.TransformerEncoderLayer(8, 2, { dim_feedforward = 16, dropout = 0.0, dtype = "f64" })
    local stack = nn.TransformerEncoder(layer, 2, { norm = nn.LayerNorm(8, { dtype = "f64" }) })
    local sd = stack:state_dict()
    local n = 0
    for k in pairs(sd) do n = n + 1 end
    local want = 0
    for k in pairs(ref.encoder.state) do want = want + 1; assert.is_not_nil(sd[k], k) end
    assert.are.equal(want, n)
    assert.is_true(sd["layers.0.linear1.weight"]:equal(sd["layers.1.linear1.weight"])) -- clones start equal
    check("encoder", function(s) return stack(s, { mask = causal }) end, stack)
    local dstack = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, { dim_feedforward = 16, dropout = 0.0, dtype = "f64" }), 2)
    check("decoder", function(t, m) return dstack(t, m, { tgt_mask = causal }) end, dstack)
    assert.are.equal("TransformerEncoder: expected a TransformerEncoderLayer or TransformerDecoderLayer to clone",
      err(nn.TransformerEncoder, nn.Linear(2, 2), 2))
  end)
end)

describe("nn.utils.clip_grad_norm_ / clip_grad_value_ and the new modules", function()
  it("clips like PyTorch and returns the total norm", function()
    local c = ref.clip_grad_norm
    local a, b = wick.zeros(3, 4, { dtype = "f64", requires_grad = true }), wick.zeros(5, { dtype = "f64", requires_grad = true })
    a.grad, b.grad = T(c.g1), T(c.g2)
    local total = nn.utils.clip_grad_norm_({ a, b }, 1.5)
    assert.is_true(wick.is_tensor(total))
    assert.is_true(math.abs(total:item() - c.total) < 1e-12)
    close(a.grad, c.c1, "clipped grad 1")
    close(b.grad, c.c2, "clipped grad 2")
    a.grad = T(ref.clip_grad_value.g1)
    nn.utils.clip_grad_value_({ a }, 0.5)
    close(a.grad, ref.clip_grad_value.c1, "clip_grad_value_")
    local p = wick.zeros(2, { requires_grad = true })
    p.grad = wick.tensor{ 0 / 0, 1.0 }
    assert.are.equal("clip_grad_norm_: The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=false`",
      err(nn.utils.clip_grad_norm_, { p }, 1.0, { error_if_nonfinite = true }))
  end)

  it("Identity, activation and loss modules call their functionals", function()
    local x = wick.randn(3, 4)
    assert.are.equal(x, nn.Identity(54, { unused = true })(x))
    assert.is_true(nn.Mish()(x):equal(F.mish(x)))
    assert.is_true(nn.GLU()(x):equal(F.glu(x)))
    assert.is_true(nn.Softmin(1)(x):equal(F.softmin(x, 1)))
    local t = wick.rand(3, 4)
    assert.is_true(nn.HuberLoss({ delta = 0.3 })(x, t):equal(F.huber_loss(x, t, { delta = 0.3 })))
    assert.is_true(nn.KLDivLoss({ reduction = "batchmean" })(x:log_softmax(1), t):equal(
      F.kl_div(x:log_softmax(1), t, { reduction = "batchmean" })))
  end)
end)
