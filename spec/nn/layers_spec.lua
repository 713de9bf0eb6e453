-- Each layer's forward (and gradients) against PyTorch (spec/ref/nn_modules_ref.py), with
-- weights and inputs from the same formulas, and a finite-difference gradcheck in f64.
local nn = wick.nn
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "spec/nn/") .. "helpers.lua")
local fx, near, ref = H.fx, H.near, H.ref
local gradcheck = function(...) return wick.autograd.gradcheck(...) end

local F64 = { dtype = "f64" }

-- Checks out and the gradients of sum(out * fx) against a reference entry {out, gx, gw, gb}.
local function check(r, out, x, m, tol)
  near(out, r.out, tol)
  local g = H.grads(out, { x, m.weight, m.bias })
  near(g[1], r.gx, tol)
  near(g[2], r.gw, tol)
  near(g[3], r.gb, tol)
end

describe("nn.Linear", function()
  it("matches PyTorch, forward and backward", function()
    local m = H.set(nn.Linear(5, 3, F64), { weight = fx({ 3, 5 }), bias = fx({ 3 }, 0.5, 1.0) })
    local x = fx({ 4, 5 }, 0.23, 0.1):requires_grad_()
    check(ref.linear, m(x), x, m)
  end)

  it("works on [*, in] inputs, without bias, and passes gradcheck", function()
    local m = nn.Linear(3, 2, { bias = false, dtype = "f64" })
    assert.is_nil(m.bias)
    assert.are.same({ "weight" }, m:state_dict():keys())
    local x = fx({ 2, 4, 3 }):requires_grad_()
    assert.are.same({ 2, 4, 2 }, m(x).shape)
    assert.is_true(gradcheck(function(a) return m(a) end, { x, m.weight }))
  end)

  it("reports a shape mismatch with the matmul message", function()
    assert.has_error(function() nn.Linear(3000, 128)(wick.zeros(64, 3136)) end,
      "matmul: shapes [64, 3136] and [3000, 128] cannot be multiplied (3136 != 3000)")
    assert.has_error(function() nn.Linear(0, 3) end, "Linear: in_features must be a positive integer (got 0)")
    assert.has_error(function() nn.Linear(2, 3, { baias = false }) end, "Linear: unknown option 'baias' (did you mean 'bias'?)")
  end)
end)

describe("nn.Conv2d", function()
  it("matches PyTorch with padding", function()
    local m = H.set(nn.Conv2d(2, 4, 3, { padding = 1, dtype = "f64" }),
                    { weight = fx({ 4, 2, 3, 3 }), bias = fx({ 4 }, 0.5, 1.0) })
    local x = fx({ 2, 2, 5, 5 }, 0.23, 0.1):requires_grad_()
    check(ref.conv_a, m(x), x, m)
  end)

  it("matches PyTorch with stride, dilation, groups and a rectangular kernel", function()
    local m = nn.Conv2d(4, 6, { 3, 2 }, { stride = { 2, 1 }, padding = { 1, 0 }, dilation = { 1, 2 }, groups = 2, dtype = "f64" })
    H.set(m, { weight = fx({ 6, 2, 3, 2 }), bias = fx({ 6 }, 0.5, 1.0) })
    local x = fx({ 1, 4, 7, 6 }, 0.23, 0.1):requires_grad_()
    check(ref.conv_b, m(x), x, m)
  end)

  it("passes gradcheck", function()
    local m = nn.Conv2d(4, 2, 3, { stride = 2, padding = 1, groups = 2, dtype = "f64" })
    local x = fx({ 1, 4, 5, 4 }):requires_grad_()
    assert.is_true(gradcheck(function(a) return m(a) end, { x, m.weight, m.bias }))
  end)

  it("checks its arguments", function()
    assert.has_error(function() nn.Conv2d(3, 4, 3, { groups = 2 }) end, "Conv2d: in_channels must be divisible by groups")
    assert.has_error(function() nn.Conv2d(2, 4, 0) end, "Conv2d: kernel_size must be an integer >= 1 or a pair of them (got 0)")
    assert.has_error(function() nn.Conv2d(2, 4, 3, { padding_mode = "reflect" }) end,
      "Conv2d: padding_mode 'reflect' is not supported (only 'zeros')")
  end)
end)

describe("nn.BatchNorm", function()
  it("BatchNorm2d matches PyTorch in training, updates running stats, then evaluates with them", function()
    local m = H.set(nn.BatchNorm2d(3, F64), { weight = fx({ 3 }, 0.7, 1.0), bias = fx({ 3 }, 0.3, 0.5) })
    local x = (fx({ 4, 3, 2, 2 }, 0.23, 0.1) * 2 + 0.5):detach():requires_grad_()
    check(ref.bn2d, m(x), x, m)
    near(m.running_mean, ref.bn2d.running_mean)
    near(m.running_var, ref.bn2d.running_var)
    assert.are.equal(1, m.num_batches_tracked:item())
    m:eval()
    near(m(fx({ 2, 3, 2, 2 }, 0.41)), ref.bn2d.eval_out)
    assert.are.equal(1, m.num_batches_tracked:item())
  end)

  it("BatchNorm1d takes 2D and 3D input; momentum = false keeps a cumulative average", function()
    local m = nn.BatchNorm1d(3, { momentum = false, dtype = "f64" })
    near(m(fx({ 5, 3 }, 0.23, 0.1)), ref.bn1d.out2)
    near(m(fx({ 2, 3, 4 }, 0.31)), ref.bn1d.out3)
    near(m.running_mean, ref.bn1d.running_mean)
    near(m.running_var, ref.bn1d.running_var)
    assert.has_error(function() m(wick.zeros(2, 3, 4, 5, { dtype = "f64" })) end,
      "BatchNorm1d: expected 2D or 3D input (got 4D input)")
    assert.has_error(function() nn.BatchNorm2d(3)(wick.zeros(2, 3, 4)) end,
      "BatchNorm2d: expected 4D input (got 3D input)")
  end)

  it("passes gradcheck in training and eval", function()
    local m = nn.BatchNorm2d(2, F64)
    local x = fx({ 3, 2, 2, 2 }):requires_grad_()
    assert.is_true(gradcheck(function(a) return m(a) end, { x, m.weight, m.bias }))
    m:eval()
    assert.is_true(gradcheck(function(a) return m(a) end, { x, m.weight, m.bias }))
  end)

  it("without affine or running stats has no parameters or buffers", function()
    local m = nn.BatchNorm1d(4, { affine = false, track_running_stats = false })
    assert.are.equal(0, #m:parameters())
    assert.are.equal(0, #m:buffers())
    m:eval() -- still normalises with batch statistics
    local y = m(fx({ 6, 4 }, 0.7, 0, "f32"))
    near(y:mean(0), { 0, 0, 0, 0 }, 1e-6)
  end)
end)

describe("nn.LayerNorm", function()
  it("matches PyTorch and passes gradcheck", function()
    local m = H.set(nn.LayerNorm({ 3, 4 }, F64), { weight = fx({ 3, 4 }, 0.7, 1.0), bias = fx({ 3, 4 }, 0.3, 0.5) })
    local x = fx({ 2, 3, 4 }, 0.23, 0.1):requires_grad_()
    check(ref.layernorm, m(x), x, m)
    local small = nn.LayerNorm(3, F64)
    local x2 = fx({ 2, 3 }):requires_grad_()
    assert.is_true(gradcheck(function(a) return small(a) end, { x2, small.weight, small.bias }))
  end)
end)

describe("nn.Embedding", function()
  it("matches PyTorch; the padding row gets no gradient", function()
    local m = H.set(nn.Embedding(6, 3, { padding_idx = 1, dtype = "f64" }), { weight = fx({ 6, 3 }) })
    local y = m(wick.tensor({ { 0, 2 }, { 5, 1 }, { 2, 2 } }))
    near(y, ref.embedding.out)
    near(H.grads(y, { m.weight })[1], ref.embedding.gw)
  end)

  it("from_pretrained shares the weights and freezes them by default; gradcheck", function()
    local w = fx({ 4, 2 })
    local e = nn.Embedding.from_pretrained(w)
    assert.is_false(e.weight.requires_grad)
    assert.is_true(e.weight:_same_storage(w))
    local m = nn.Embedding(5, 2, F64)
    assert.is_true(gradcheck(function() return m(wick.tensor({ 0, 3, 3, 1 })) end, { m.weight }))
    assert.has_error(function() nn.Embedding(4, 2, { padding_idx = 4 }) end, "Embedding: padding_idx must be within num_embeddings")
  end)
end)

describe("nn.Dropout", function()
  it("zeroes about p of the elements and scales the rest in training; identity in eval", function()
    local d = nn.Dropout(0.25)
    local y = d(wick.ones(100, 100))
    local kept = y:ne(0):sum():item()
    assert.is_true(math.abs(kept / 10000 - 0.75) < 0.03)
    near(y:max(), 1 / 0.75, 1e-6)
    d:eval()
    local x = wick.randn(3, 3)
    assert.is_true(wick.equal(d(x), x))
    assert.has_error(function() nn.Dropout(1.5) end, "Dropout: dropout probability has to be between 0 and 1, but got 1.5")
  end)

  it("passes gradcheck with a fixed mask", function()
    local d = nn.Dropout({ p = 0.3 })
    local x = fx({ 4, 5 }):requires_grad_()
    assert.is_true(gradcheck(function(a) wick.manual_seed(3); return d(a) end, { x }))
  end)
end)

describe("activations", function()
  local a = ref.act
  local x = function() return fx({ 2, 5 }, 0.9) * 3 end
  local cases = {
    { "ReLU", nn.ReLU(), "relu" }, { "GELU", nn.GELU(), "gelu" },
    { "GELU tanh", nn.GELU({ approximate = "tanh" }), "gelu_tanh" }, { "Tanh", nn.Tanh(), "tanh" },
    { "Sigmoid", nn.Sigmoid(), "sigmoid" }, { "SiLU", nn.SiLU(), "silu" }, { "Softplus", nn.Softplus(), "softplus" },
    { "LeakyReLU", nn.LeakyReLU(0.2), "leaky_relu" }, { "ELU", nn.ELU({ alpha = 0.7 }), "elu" },
    { "Hardtanh", nn.Hardtanh(-0.5, 0.5), "hardtanh" }, { "Softmax", nn.Softmax(1), "softmax1" },
    { "LogSoftmax", nn.LogSoftmax(0), "log_softmax0" },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " matches PyTorch and passes gradcheck", function()
      near(c[2](x()), a[c[3]], 1e-12)
      local xi = (fx({ 2, 3 }, 0.9) * 3 + 0.05):requires_grad_()
      assert.is_true(gradcheck(function(t) return c[2](t) end, { xi }))
    end)
  end

  it("ReLU6 matches PyTorch", function() near(nn.ReLU6()(x() * 4), a.relu6) end)

  it("Softmax needs a dim", function()
    assert.has_error(function() nn.Softmax()(x()) end, "softmax: dim must be given as an integer (got nil)")
  end)
end)

describe("pooling", function()
  local p = ref.pool
  local x = function() return fx({ 1, 2, 5, 5 }, 0.77) end
  it("MaxPool2d matches PyTorch", function()
    near(nn.MaxPool2d(2)(x()), p.max2)
    near(nn.MaxPool2d(3, 2, { padding = 1 })(x()), p.max3s2p1)
    near(nn.MaxPool2d(2, { ceil_mode = true })(x()), p.max2ceil)
  end)

  it("AvgPool2d matches PyTorch", function()
    near(nn.AvgPool2d(2)(x()), p.avg2)
    near(nn.AvgPool2d(3, { stride = 2, padding = 1 })(x()), p.avg3s2p1)
    near(nn.AvgPool2d(3, 2, { padding = 1, count_include_pad = false })(x()), p.avg3s2p1_nopad)
  end)

  it("AdaptiveAvgPool2d matches PyTorch", function()
    local xw = fx({ 1, 2, 5, 7 }, 0.53)
    near(nn.AdaptiveAvgPool2d({ 2, 3 })(xw), p.adaptive23)
    near(nn.AdaptiveAvgPool2d(1)(xw), p.adaptive1)
  end)

  it("pass gradcheck", function()
    local xi = fx({ 1, 2, 4, 5 }, 0.77):requires_grad_()
    for _, m in ipairs({ nn.MaxPool2d(2), nn.AvgPool2d(3, 2, { padding = 1 }), nn.AdaptiveAvgPool2d({ 3, 2 }) }) do
      assert.is_true(gradcheck(function(t) return m(t) end, { xi }))
    end
  end)
end)

describe("Flatten, Unflatten, Identity", function()
  it("reshape as PyTorch's", function()
    local x = wick.zeros(2, 3, 4, 5)
    assert.are.same({ 2, 60 }, nn.Flatten()(x).shape)
    assert.are.same({ 2, 12, 5 }, nn.Flatten(1, 2)(x).shape)
    assert.are.same({ 120 }, nn.Flatten({ start_dim = 0 })(x).shape)
    assert.are.same({ 2, 3, 2, 2, 5 }, nn.Unflatten(2, { 2, 2 })(x).shape)
    assert.are.equal(x, nn.Identity(54, "unused")(x))
    local xi = fx({ 2, 3, 2 }):requires_grad_()
    assert.is_true(gradcheck(function(t) return nn.Flatten()(t) end, { xi }))
  end)
end)
