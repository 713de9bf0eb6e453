-- The neural-network functions on `wick` (torch.nn.functional's kernels): values and
-- gradients against PyTorch (spec/ref/nn_ref.py, run live when /usr/bin/python3 has torch),
-- finite-difference gradchecks in f64, hand-computed values, and errors word for word.

local err = require("helpers").err

local function numel(shape)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  return n
end

-- The inputs both sides build: sin(k * arange(n)) in f64, reshaped, cast where asked.
local function det(shape, k, dtype)
  local t = (wick.arange(numel(shape), { dtype = "f64" }) * k):sin():reshape(shape)
  if dtype and dtype ~= "f64" then t = t:to(dtype) end
  return t
end
local function leaf(shape, k, dtype) return det(shape, k, dtype):requires_grad_() end

local function flat(t) return t:detach():reshape(-1):tolist() end

local near = require("helpers").near

-- Backpropagates det(out.shape, 0.53) and collects {out, g<name> = input grads, extras}.
local function run(out, inputs, extra)
  local r = { out = out }
  if out.requires_grad then
    local g = #out.shape > 0 and det(out.shape, 0.53, out.dtype) or wick.tensor(0.53, { dtype = out.dtype })
    out:backward(g)
    for name, t in pairs(inputs) do r["g" .. name] = t.grad end
  end
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- Central finite differences of sum(fn(inputs) * v) against backward(v), for every input
-- that requires grad (f64). fn must be deterministic.
local function gradcheck(fn, inputs, opts)
  opts = opts or {}
  local eps, atol, rtol = opts.eps or 1e-6, opts.atol or 1e-6, opts.rtol or 1e-4
  local out = fn(table.unpack(inputs))
  local v = wick.randn(out.shape, { dtype = "f64" })
  for _, x in ipairs(inputs) do if wick.is_tensor(x) then x.grad = nil end end
  out:backward(v)
  local function loss() return (fn(table.unpack(inputs)):detach() * v):sum():item() end
  for idx, x in ipairs(inputs) do
    if wick.is_tensor(x) and x.requires_grad then
      local ana = x.grad and flat(x.grad) or {}
      wick.no_grad(function()
        local fl = x:view(-1)
        for i = 0, x:numel() - 1 do
          local orig = fl[i]:item()
          fl[i] = orig + eps
          local lp = loss()
          fl[i] = orig - eps
          local lm = loss()
          fl[i] = orig
          local num, a = (lp - lm) / (2 * eps), ana[i + 1] or 0
          if math.abs(num - a) > atol + rtol * math.abs(num) then
            error(("gradcheck: input %d, element %d: analytical %.10g vs numerical %.10g"):format(idx, i, a, num), 2)
          end
        end
      end)
      x.grad = nil
    end
  end
  return true
end

local function f64(...) return wick.randn({ ... }, { dtype = "f64" }):requires_grad_() end

-- ---- the cases of spec/ref/nn_ref.py, built the same way ----

local function conv_case(xs, ws, bias, dtype, opts)
  local x, w = leaf(xs, 0.37, dtype), leaf(ws, 0.71, dtype)
  local b = bias and leaf({ ws[1] }, 1.3, dtype) or nil
  return run(wick.conv2d(x, w, b, opts), { x = x, w = w, b = b })
end

local function pool_case(fn, xs, arg, opts, dtype, ties)
  local x = det(xs, 0.37, dtype)
  if ties then x = (x * 3):floor() end
  x:requires_grad_()
  return run(fn(x, arg, opts), { x = x })
end

local function bn_case(xs, training, affine, momentum)
  local C = xs[2]
  local x = leaf(xs, 0.37)
  local rm, rv = det({ C }, 0.9) * 0.5, det({ C }, 1.1) ^ 2 + 0.5
  local w = affine and leaf({ C }, 0.8) or nil
  local b = affine and leaf({ C }, 1.7) or nil
  local out = wick.batch_norm(x, rm, rv, w, b, { training = training, momentum = momentum or 0.1, eps = 1e-5 })
  return run(out, { x = x, w = w, b = b }, { rm = rm, rv = rv })
end

local function ln_case(xs, shape, affine)
  local x = leaf(xs, 0.37)
  local w = affine and leaf(shape, 0.8) or nil
  local b = affine and leaf(shape, 1.7) or nil
  return run(wick.layer_norm(x, shape, w, b, { eps = 1e-5 }), { x = x, w = w, b = b })
end

local function targets(n, C, ignore)
  local t = {}
  for i = 0, n - 1 do t[i + 1] = (i * 3 + 1) % C end
  if ignore then t[2] = ignore end
  return wick.tensor(t)
end

local function ce_case(xs, ts, weight, opts)
  local C = xs[2]
  local x = leaf(xs, 0.37)
  local t = targets(numel(ts), C, opts and opts.ignore_index):reshape(ts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if weight then o.weight = det({ C }, 0.9):abs() + 0.2 end
  return run(wick.cross_entropy(x, t, o), { x = x })
end

local function ce_prob_case(weight, opts)
  local x = leaf({ 4, 6 }, 0.37)
  local p = det({ 4, 6 }, 0.61):softmax(1):requires_grad_()
  local o = opts or {}
  if weight then o.weight = det({ 6 }, 0.9):abs() + 0.2 end
  return run(wick.cross_entropy(x, p, o), { x = x, p = p })
end

local function nll_case(opts)
  local x = leaf({ 5, 7 }, 0.37)
  opts.weight = det({ 7 }, 0.9):abs() + 0.2
  return run(wick.nll_loss(x, targets(5, 7, opts.ignore_index), opts), { x = x })
end

local function elem_case(fn, bce, opts)
  local x = leaf({ 3, 4 }, 0.37)
  local t = det({ 3, 4 }, 0.61)
  opts = opts or {}
  if bce then
    t = (t + 1) / 2
    opts.weight = det({ 4 }, 0.9):abs() + 0.2
    opts.pos_weight = det({ 4 }, 1.3):abs() + 0.5
  end
  t:requires_grad_()
  return run(wick[fn](bce and x * 4 or x, t, opts), { x = x, t = t })
end

local cases = {
  conv_basic = function() return conv_case({ 2, 3, 7, 7 }, { 4, 3, 3, 3 }, true, nil, { padding = 1 }) end,
  conv_strided = function()
    return conv_case({ 2, 4, 9, 8 }, { 6, 2, 3, 2 }, true, nil,
      { stride = { 2, 1 }, padding = { 1, 2 }, dilation = { 2, 1 }, groups = 2 })
  end,
  conv_depthwise = function()
    return conv_case({ 1, 3, 6, 6 }, { 3, 1, 3, 3 }, false, nil, { stride = 2, padding = 1, groups = 3 })
  end,
  conv_same = function()
    return conv_case({ 1, 2, 6, 5 }, { 3, 2, 4, 3 }, true, nil, { padding = "same", dilation = { 1, 2 } })
  end,
  conv_unbatched = function() return conv_case({ 2, 5, 5 }, { 3, 2, 2, 2 }, true, nil, { stride = 2 }) end,
  conv_large = function()
    return conv_case({ 3, 4, 18, 17 }, { 6, 2, 3, 3 }, true, nil, { padding = 1, groups = 2 })
  end,
  conv_large_f32 = function() return conv_case({ 2, 3, 20, 20 }, { 5, 3, 3, 3 }, true, "f32", { stride = 1 }) end,
  conv_f32 = function() return conv_case({ 2, 3, 7, 7 }, { 4, 3, 3, 3 }, true, "f32", { padding = 1 }) end,
  max_ceil = function()
    return pool_case(wick.max_pool2d, { 2, 3, 7, 7 }, 3, { stride = 2, padding = 1, ceil_mode = true })
  end,
  max_dil = function()
    return pool_case(wick.max_pool2d, { 1, 2, 7, 6 }, { 2, 3 }, { stride = 1, dilation = { 2, 1 }, padding = { 1, 1 } })
  end,
  max_ties = function() return pool_case(wick.max_pool2d, { 2, 2, 6, 6 }, 2, nil, nil, true) end,
  max_f32 = function() return pool_case(wick.max_pool2d, { 2, 3, 8, 8 }, 2, nil, "f32") end,
  avg_ceil = function()
    return pool_case(wick.avg_pool2d, { 2, 3, 7, 7 }, 3,
      { stride = 2, padding = 1, ceil_mode = true, count_include_pad = false })
  end,
  avg_pad = function() return pool_case(wick.avg_pool2d, { 1, 2, 5, 6 }, 2, { padding = 1 }) end,
  avg_ceil_pad = function()
    return pool_case(wick.avg_pool2d, { 1, 2, 6, 6 }, 3, { stride = 2, padding = 1, ceil_mode = true })
  end,
  avg_div = function() return pool_case(wick.avg_pool2d, { 1, 2, 5, 5 }, { 3, 2 }, { divisor_override = 3 }) end,
  adaptive = function() return pool_case(wick.adaptive_avg_pool2d, { 2, 3, 7, 5 }, { 3, 2 }) end,
  adaptive_up = function() return pool_case(wick.adaptive_avg_pool2d, { 3, 3, 5 }, 4) end,
  bn_train = function() return bn_case({ 4, 3, 5, 5 }, true, true, 0.2) end,
  bn_train_2d = function() return bn_case({ 6, 4 }, true, true) end,
  bn_eval = function() return bn_case({ 4, 3, 5, 5 }, false, true) end,
  bn_train_noaffine = function() return bn_case({ 3, 2, 4 }, true, false) end,
  ln = function() return ln_case({ 3, 4, 5 }, { 4, 5 }, true) end,
  ln_plain = function() return ln_case({ 2, 6 }, { 6 }, false) end,
  ce_mean = function() return ce_case({ 5, 7 }, { 5 }) end,
  ce_weighted = function() return ce_case({ 5, 7 }, { 5 }, true, { ignore_index = 2, reduction = "mean" }) end,
  ce_smooth = function() return ce_case({ 5, 7 }, { 5 }, false, { label_smoothing = 0.1, ignore_index = 4 }) end,
  ce_smooth_w = function() return ce_case({ 5, 7 }, { 5 }, true, { label_smoothing = 0.2, ignore_index = 4 }) end,
  ce_sum = function() return ce_case({ 5, 7 }, { 5 }, false, { reduction = "sum", label_smoothing = 0.1 }) end,
  ce_none = function() return ce_case({ 5, 7 }, { 5 }, true, { reduction = "none", ignore_index = 3 }) end,
  ce_kdim = function() return ce_case({ 2, 4, 3, 3 }, { 2, 3, 3 }, true, { label_smoothing = 0.05 }) end,
  ce_prob = function() return ce_prob_case(false) end,
  ce_prob_smooth_w = function() return ce_prob_case(true, { label_smoothing = 0.3, reduction = "sum" }) end,
  nll = function() return nll_case({ ignore_index = 2 }) end,
  nll_none = function() return nll_case({ reduction = "none" }) end,
  mse = function() return elem_case("mse_loss") end,
  mse_none = function() return elem_case("mse_loss", false, { reduction = "none" }) end,
  l1_sum = function() return elem_case("l1_loss", false, { reduction = "sum" }) end,
  bce = function() return elem_case("binary_cross_entropy_with_logits", true) end,
  bce_none = function() return elem_case("binary_cross_entropy_with_logits", true, { reduction = "none" }) end,
  embedding = function()
    local w = leaf({ 6, 3 }, 0.37)
    local idx = wick.tensor({ { 0, 2, 5 }, { 2, 2, 1 } })
    return run(wick.embedding(idx, w, { padding_idx = 2 }), { w = w })
  end,
  dropout = function()
    wick.manual_seed(7)
    return { out = wick.dropout(wick.ones(64), 0.3, true) }
  end,
}

-- The reference table from PyTorch, or nil (with the reason) when it cannot be produced.
local ref, ref_why
local function reference()
  if ref or ref_why then return ref, ref_why end
  local py = "/usr/bin/python3"
  if not os.execute(py .. " -c 'import torch' >/dev/null 2>&1") then
    ref_why = "python3-torch not installed"
    return nil, ref_why
  end
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"
  local p = assert(io.popen(py .. " " .. here .. "/ref/nn_ref.py"))
  local src = p:read("a")
  p:close()
  local chunk = assert(load(src, "=nn_ref.py"))
  ref = chunk()
  return ref
end

describe("nn functional against PyTorch", function()
  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    it(name, function()
      local r, why = reference()
      if not r then pending(why) return end
      local want = assert(r[name], "no reference for " .. name)
      local got = cases[name]()
      local tol = (name:match("f32") or name == "dropout") and 1e-4 or 1e-9
      for key, values in pairs(want) do
        assert(got[key], name .. ": no value for " .. key)
        near(flat(got[key]), values, tol, name .. "." .. key)
      end
      for key in pairs(got) do assert(want[key], name .. ": PyTorch has no " .. key) end
    end)
  end
end)

describe("nn functional gradchecks (f64)", function()
  before_each(function() wick.manual_seed(0) end)

  it("conv2d: input, weight and bias, with stride/padding/dilation/groups", function()
    local x, w, b = f64(2, 4, 6, 5), f64(6, 2, 3, 2), f64(6)
    assert.is_true(gradcheck(function(a, c, d)
      return wick.conv2d(a, c, d, { stride = { 2, 1 }, padding = { 1, 2 }, dilation = { 1, 2 }, groups = 2 })
    end, { x, w, b }))
    local dw = f64(4, 1, 3, 3)
    assert.is_true(gradcheck(function(a, c) return wick.conv2d(a, c, nil, { padding = "same", groups = 4 }) end,
      { x, dw }))
  end)

  it("pools", function()
    local x = f64(2, 2, 7, 6)
    assert.is_true(gradcheck(function(a) return wick.max_pool2d(a, 3, { stride = 2, padding = 1, ceil_mode = true }) end, { x }))
    assert.is_true(gradcheck(function(a) return wick.max_pool2d(a, 2, { dilation = 2, stride = 1 }) end, { x }))
    assert.is_true(gradcheck(function(a)
      return wick.avg_pool2d(a, 3, { stride = 2, padding = 1, ceil_mode = true, count_include_pad = false })
    end, { x }))
    assert.is_true(gradcheck(function(a) return wick.avg_pool2d(a, { 2, 3 }, { padding = 1 }) end, { x }))
    assert.is_true(gradcheck(function(a) return wick.adaptive_avg_pool2d(a, { 3, 4 }) end, { x }))
  end)

  it("batch_norm in training and eval, layer_norm", function()
    local x, w, b = f64(4, 3, 2, 2), f64(3), f64(3)
    assert.is_true(gradcheck(function(a, c, d) return wick.batch_norm(a, nil, nil, c, d, { training = true }) end,
      { x, w, b }))
    local rm, rv = wick.randn(3, { dtype = "f64" }), wick.rand(3, { dtype = "f64" }) + 0.5
    assert.is_true(gradcheck(function(a, c, d) return wick.batch_norm(a, rm, rv, c, d) end, { x, w, b }))
    local lw, lb = f64(2, 2), f64(2, 2)
    assert.is_true(gradcheck(function(a, c, d) return wick.layer_norm(a, { 2, 2 }, c, d) end, { x, lw, lb }))
    assert.is_true(gradcheck(function(a) return wick.layer_norm(a, 2) end, { x }))
  end)

  it("losses", function()
    local x, t = f64(5, 4), wick.tensor({ 0, 3, 1, 2, 3 })
    local cw = wick.rand(4, { dtype = "f64" }) + 0.5
    assert.is_true(gradcheck(function(a)
      return wick.cross_entropy(a, t, { weight = cw, ignore_index = 1, label_smoothing = 0.1 })
    end, { x }))
    assert.is_true(gradcheck(function(a) return wick.cross_entropy(a, t, { reduction = "none" }) end, { x }))
    local xk, tk = f64(2, 3, 2, 2), wick.tensor({ { { 0, 1 }, { 2, 2 } }, { { 1, 0 }, { 0, 2 } } })
    assert.is_true(gradcheck(function(a) return wick.cross_entropy(a, tk, { label_smoothing = 0.2 }) end, { xk }))
    local p = wick.rand(5, 4, { dtype = "f64" }):softmax(1):requires_grad_()
    assert.is_true(gradcheck(function(a, q) return wick.cross_entropy(a, q, { label_smoothing = 0.1 }) end, { x, p }))
    assert.is_true(gradcheck(function(a) return wick.nll_loss(a, t, { weight = cw }) end, { x }))
    local y = f64(5, 4)
    local pw, bw = wick.rand(4, { dtype = "f64" }) + 0.5, wick.rand(5, 4, { dtype = "f64" })
    assert.is_true(gradcheck(function(a, c) return wick.mse_loss(a, c) end, { x, y }))
    assert.is_true(gradcheck(function(a, c) return wick.l1_loss(a, c, { reduction = "sum" }) end, { x, y }))
    local pt = wick.rand(5, 4, { dtype = "f64" }):requires_grad_()
    assert.is_true(gradcheck(function(a, c)
      return wick.binary_cross_entropy_with_logits(a, c, { weight = bw, pos_weight = pw })
    end, { x, pt }))
    -- broadcasting target: its gradient is summed back to its shape
    local row = f64(4)
    assert.is_true(gradcheck(function(a, c) return wick.mse_loss(a, c, { reduction = "sum" }) end, { x, row }))
  end)

  it("embedding and dropout", function()
    local w = f64(5, 3)
    local idx = wick.tensor({ { 0, 4, 4 }, { 1, 0, 2 } })
    assert.is_true(gradcheck(function(a) return wick.embedding(idx, a) end, { w }))
    -- padding_idx: the row is looked up as usual but gets no gradient (so no gradcheck)
    wick.embedding(idx, w, { padding_idx = -1 }):backward(wick.ones(2, 3, 3, { dtype = "f64" }))
    assert.are.same({ { 2, 2, 2 }, { 1, 1, 1 }, { 1, 1, 1 }, { 0, 0, 0 }, { 0, 0, 0 } }, w.grad:tolist())
    w.grad = nil
    local x = f64(4, 5)
    assert.is_true(gradcheck(function(a)
      wick.manual_seed(3)
      return wick.dropout(a, 0.4)
    end, { x }))
  end)
end)

describe("nn functional values", function()
  it("conv2d of ones counts the window, with bias", function()
    local x, w = wick.ones(1, 1, 3, 3), wick.ones(2, 1, 2, 2)
    local y = wick.conv2d(x, w, wick.tensor({ 0.0, 10.0 }), { padding = 1 })
    assert.are.same({ 1, 2, 4, 4 }, y.shape)
    assert.are.same({ { 1, 2, 2, 1 }, { 2, 4, 4, 2 }, { 2, 4, 4, 2 }, { 1, 2, 2, 1 } }, y[0][0]:tolist())
    assert.are.same({ 11, 12, 12, 11 }, y[0][1][0]:tolist())
    assert.are.same({ 1, 2, 2, 2 }, wick.conv2d(x, w).shape)
    assert.are.same({ 1, 2, 3, 3 }, wick.conv2d(x, w, nil, { padding = "same" }).shape)
    assert.are.same({ 1, 2, 2, 2 }, wick.conv2d(x, w, nil, { padding = "valid" }).shape)
  end)

  it("conv2d and pools accept non-contiguous inputs and empty batches", function()
    wick.manual_seed(1)
    local x = wick.randn(5, 5, 3, 2):permute(3, 2, 0, 1) -- [2, 3, 5, 5], not contiguous
    local w = wick.randn(4, 3, 3, 3)
    assert.is_false(x:is_contiguous())
    near(flat(wick.conv2d(x, w, nil, { padding = 1 })), flat(wick.conv2d(x:contiguous(), w, nil, { padding = 1 })),
      1e-6, "conv2d")
    near(flat(wick.max_pool2d(x, 2)), flat(wick.max_pool2d(x:contiguous(), 2)), 0, "max_pool2d")
    local e = wick.randn(0, 3, 5, 5):requires_grad_()
    local y = wick.conv2d(e, w:clone():requires_grad_())
    assert.are.same({ 0, 4, 3, 3 }, y.shape)
    y:backward(wick.zeros(0, 4, 3, 3))
    assert.are.same({ 0, 3, 5, 5 }, e.grad.shape)
    assert.are.same({ 0, 3, 2, 2 }, wick.max_pool2d(e, 2).shape)
  end)

  it("max_pool2d picks the first maximum of a tie and returns indices", function()
    local x = wick.tensor({ { { { 1.0, 3.0, 3.0, 0.0 }, { 3.0, 2.0, 1.0, 5.0 } } } }):requires_grad_()
    local y, idx = wick.max_pool2d(x, 2, { return_indices = true })
    assert.are.same({ { { { 3, 5 } } } }, y:tolist())
    assert.are.same({ { { { 1, 7 } } } }, idx:tolist())
    assert.are.equal("i64", idx.dtype)
    y:backward(wick.ones(1, 1, 1, 2))
    assert.are.same({ { { { 0, 1, 0, 0 }, { 0, 0, 0, 1 } } } }, x.grad:tolist())
    assert.are.equal("MaxPool2DWithIndicesBackward0", y.grad_fn:name())
  end)

  it("avg_pool2d and adaptive_avg_pool2d average their windows", function()
    local x = wick.arange(16.0):reshape(1, 1, 4, 4)
    assert.are.same({ { { { 2.5, 4.5 }, { 10.5, 12.5 } } } }, wick.avg_pool2d(x, 2):tolist())
    assert.are.same({ { { { 7.5 } } } }, wick.adaptive_avg_pool2d(x, 1):tolist())
    -- padding counts in the divisor unless count_include_pad = false
    assert.are.equal(0.75, wick.avg_pool2d(x, 2, { padding = 1 })[0][0][0][1]:item())
    assert.are.equal(1.5, wick.avg_pool2d(x, 2, { padding = 1, count_include_pad = false })[0][0][0][1]:item())
  end)

  it("batch_norm updates running stats in place like PyTorch (unbiased var)", function()
    local x = wick.tensor({ { 1.0, 10.0 }, { 3.0, 20.0 } })
    local rm, rv = wick.zeros(2), wick.ones(2)
    local y = wick.batch_norm(x, rm, rv, nil, nil, { training = true, momentum = 0.5 })
    -- batch mean {2, 15}, biased var {1, 25}, unbiased {2, 50}
    near(rm:tolist(), { 1.0, 7.5 }, 1e-6, "running_mean")
    near(rv:tolist(), { 1.5, 25.5 }, 1e-6, "running_var")
    near(flat(y), { -1, -1, 1, 1 }, 1e-4, "out")
    local e = wick.batch_norm(x, rm, rv)
    near(flat(e), { 0, (10 - 7.5) / math.sqrt(25.5 + 1e-5), 2 / math.sqrt(1.5 + 1e-5), (20 - 7.5) / math.sqrt(25.5 + 1e-5) },
      1e-5, "eval")
    near(rm:tolist(), { 1.0, 7.5 }, 1e-6, "eval leaves running_mean")
  end)

  it("cross_entropy equals -log_softmax at the target, averaged over kept positions", function()
    local x = wick.tensor({ { 1.0, 2.0, 3.0 }, { 1.0, 0.0, -1.0 }, { 0.5, 0.5, 0.5 } })
    local t = wick.tensor({ 2, 0, -100 })
    local ls = x:log_softmax(1):tolist()
    local l = wick.cross_entropy(x, t)
    near({ l:item() }, { -(ls[1][3] + ls[2][1]) / 2 }, 1e-6, "mean")
    assert.are.same({}, l.shape)
    assert.are.same({ 3 }, wick.cross_entropy(x, t, { reduction = "none" }).shape)
    x:requires_grad_()
    wick.cross_entropy(x, t, { reduction = "sum" }):backward()
    local sm = x:detach():softmax(1):tolist()
    near(flat(x.grad), { sm[1][1], sm[1][2], sm[1][3] - 1, sm[2][1] - 1, sm[2][2], sm[2][3], 0, 0, 0 }, 1e-6, "grad")
  end)

  it("dropout scales kept values, and returns the input when it does nothing", function()
    local x = wick.ones(1000)
    local y = wick.dropout(x, 0.2)
    local kept = 0
    for _, v in ipairs(y:tolist()) do
      assert(v == 0 or math.abs(v - 1.25) < 1e-6, "dropout value " .. v)
      if v ~= 0 then kept = kept + 1 end
    end
    assert(kept > 700 and kept < 900, "kept " .. kept)
    assert.is_true(rawequal(x, wick.dropout(x, 0.0)))
    assert.is_true(rawequal(x, wick.dropout(x, 0.5, false)))
    assert.is_true(rawequal(x, wick.dropout(x, { p = 0.5, training = false })))
    assert.are.same({ 0, 0, 0 }, wick.dropout(wick.ones(3), 1.0):tolist())
  end)

  it("records nothing when no input requires grad, and frees graph state after backward", function()
    local x = wick.randn(1, 2, 4, 4)
    assert.is_false(wick.conv2d(x, wick.randn(3, 2, 3, 3)).requires_grad)
    assert.is_nil(wick.avg_pool2d(x, 2).grad_fn)
    local xr = x:clone():requires_grad_()
    local y = wick.avg_pool2d(xr, 2)
    assert.are.equal("AvgPool2DBackward0", y.grad_fn:name())
    y:backward(wick.ones(1, 2, 2, 2), { retain_graph = true })
    y:backward(wick.ones(1, 2, 2, 2))
    near(flat(xr.grad), flat(wick.full({ 1, 2, 4, 4 }, 0.5)), 1e-6, "twice")
    local msg = err(function() y:backward(wick.ones(1, 2, 2, 2)) end)
    assert.truthy(msg:find("backward through the graph a second time", 1, true), msg)
  end)
end)

describe("nn functional errors", function()
  local x4 = wick.randn(2, 3, 8, 8)
  local cases = {
    { "conv2d: given groups=1, weight of size [8, 4, 3, 3], expected input[2, 3, 8, 8] to have 4 channels, but got 3 channels instead",
      function() wick.conv2d(x4, wick.randn(8, 4, 3, 3)) end },
    { "conv2d: expected 3D (unbatched) or 4D (batched) input, but got input of size: [2, 3]",
      function() wick.conv2d(wick.randn(2, 3), wick.randn(8, 4, 3, 3)) end },
    { "conv2d: expected weight to be 4D [out_channels, in_channels/groups, kH, kW], but got weight of size [3, 3]",
      function() wick.conv2d(x4, wick.randn(3, 3)) end },
    { "conv2d: non-positive stride is not supported (got -1)",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3), nil, { stride = -1 }) end },
    { "conv2d: negative padding is not supported (got -2)",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3), nil, { padding = { 1, -2 } }) end },
    { "conv2d: calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
      function() wick.conv2d(wick.randn(1, 1, 2, 2), wick.randn(1, 1, 3, 3)) end },
    { "conv2d: given groups=4, expected weight to be divisible by 4 at dimension 0, but got weight of size [6, 1, 3, 3] instead",
      function() wick.conv2d(wick.randn(1, 4, 5, 5), wick.randn(6, 1, 3, 3), nil, { groups = 4 }) end },
    { "conv2d: expected input of dtype f32 or f64, but got i64",
      function() wick.conv2d(wick.ones(1, 1, 3, 3, { dtype = "i64" }), wick.randn(1, 1, 3, 3)) end },
    { "conv2d: expected weight to have dtype f32 (the input's), but got f64",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3, { dtype = "f64" })) end },
    { "conv2d: expected bias to be 1-D with 4 elements, but got bias of size [3]",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3), wick.randn(3)) end },
    { "conv2d: unknown option 'strides' (did you mean 'stride'?)",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3), nil, { strides = 2 }) end },
    { "conv2d: padding='same' is not supported for strided convolutions",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3), nil, { padding = "same", stride = 2 }) end },
    { "conv2d: invalid padding string 'full', should be one of {'valid', 'same'}",
      function() wick.conv2d(x4, wick.randn(4, 3, 3, 3), nil, { padding = "full" }) end },
    { "max_pool2d: output size is too small (computed 0x0 for input 2x2 with kernel 3)",
      function() wick.max_pool2d(wick.randn(1, 2, 2), 3) end },
    { "max_pool2d: pad should be at most half of kernel size, but got pad=2 and kernel_size=3",
      function() wick.max_pool2d(x4, 3, { padding = 2 }) end },
    { "max_pool2d: stride should be greater than zero, but got -1",
      function() wick.max_pool2d(x4, 2, { stride = -1 }) end },
    { "max_pool2d: expected 3D or 4D input, but got input of size: [4, 4]",
      function() wick.max_pool2d(wick.randn(4, 4), 2) end },
    { "max_pool2d: kernel_size must be an integer or a pair of integers {h, w}",
      function() wick.max_pool2d(x4, 2.5) end },
    { "avg_pool2d: kernel_size should be greater than zero, but got 0",
      function() wick.avg_pool2d(x4, 0) end },
    { "adaptive_avg_pool2d: output_size must be positive, but got [0, 2]",
      function() wick.adaptive_avg_pool2d(x4, { 0, 2 }) end },
    { "batch_norm: running_mean should contain 4 elements not 3",
      function() wick.batch_norm(wick.randn(2, 4), wick.zeros(3), wick.ones(4)) end },
    { "batch_norm: expected more than 1 value per channel when training, got input size [1, 3]",
      function() wick.batch_norm(wick.randn(1, 3), nil, nil, nil, nil, { training = true }) end },
    { "batch_norm: running_mean and running_var are required when training is false",
      function() wick.batch_norm(wick.randn(2, 3)) end },
    { "layer_norm: given normalized_shape=[5], expected input with shape [*, 5], but got input of size [2, 4]",
      function() wick.layer_norm(wick.randn(2, 4), 5) end },
    { "layer_norm: expected weight of shape [4], but got [3]",
      function() wick.layer_norm(wick.randn(2, 4), 4, wick.ones(3)) end },
    { "cross_entropy: target 10 is out of bounds for 10 classes",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, 2, 3, 10 })) end },
    { "cross_entropy: target -1 is out of bounds for 10 classes",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, -1, 3, 4 })) end },
    { "cross_entropy: expected target of dtype i64 (class indices) or a floating dtype (probabilities), but got i32",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, 2, 3, 4 }, { dtype = "i32" })) end },
    { "cross_entropy: expected input batch_size (4) to match target batch_size (3)",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, 2, 3 })) end },
    { "cross_entropy: expected probability targets of the input's size [4, 10], but got [4, 9]",
      function() wick.cross_entropy(wick.randn(4, 10), wick.rand(4, 9)) end },
    { "cross_entropy: reduction must be 'mean', 'sum' or 'none' (got 'avg')",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, 2, 3, 4 }), { reduction = "avg" }) end },
    { "cross_entropy: weight tensor should be defined either for all 10 classes or no classes but got weight tensor of shape: [5]",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, 2, 3, 4 }), { weight = wick.ones(5) }) end },
    { "cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: 1.5",
      function() wick.cross_entropy(wick.randn(4, 10), wick.tensor({ 1, 2, 3, 4 }), { label_smoothing = 1.5 }) end },
    { "nll_loss: expected target of dtype i64 (class indices), but got f32",
      function() wick.nll_loss(wick.randn(4, 10), wick.rand(4)) end },
    { "nll_loss: target 7 is out of bounds for 7 classes",
      function() wick.nll_loss(wick.randn(2, 7), wick.tensor({ 7, 0 })) end },
    { "binary_cross_entropy_with_logits: target size [3] must be the same as input size [2, 3]",
      function() wick.binary_cross_entropy_with_logits(wick.randn(2, 3), wick.rand(3)) end },
    { "mse_loss: expected target to have dtype f32 (the input's), but got f64",
      function() wick.mse_loss(wick.randn(3), wick.randn(3, { dtype = "f64" })) end },
    { "embedding: index 6 is out of range for 6 embeddings",
      function() wick.embedding(wick.tensor({ 0, 6 }), wick.randn(6, 3)) end },
    { "embedding: expected indices of dtype i64 or i32, but got f32",
      function() wick.embedding(wick.tensor({ 0.0, 1.0 }), wick.randn(6, 3)) end },
    { "embedding: padding_idx must be within num_embeddings (got 6 for 6 embeddings)",
      function() wick.embedding(wick.tensor({ 0 }), wick.randn(6, 3), { padding_idx = 6 }) end },
    { "dropout: dropout probability has to be between 0 and 1, but got 1.5",
      function() wick.dropout(wick.ones(3), 1.5) end },
  }
  for _, c in ipairs(cases) do
    it(c[1], function() assert.are.equal(c[1], err(c[2])) end)
  end
end)
