-- The nn and optimizer slots on CUDA (kernels/nn_*.cu, cuDNN conv) against their CPU twins:
-- conv2d (strides, padding, dilation, groups, depthwise), pooling, batch/layer norm, softmax,
-- the losses (weights, ignore_index, label smoothing, probability targets), embedding,
-- dropout, each forward and its backward through autograd; fused SGD/Adam/AdamW steps; and a
-- small CNN's training steps. Tolerances by dtype: f64 1e-10 relative, f16/bf16 1e-2 (softmax),
-- f32 1e-5 for the ops
-- computed in double on both sides (norms, losses, pooling) and 1e-4 for conv (cuDNN sums in
-- another order), 1e-4 for a few training steps. Without a CUDA device every test is pending.
-- WICK_GPU_TWIN=cpu runs the same comparisons with the CPU on both sides, which checks this
-- file itself on machines without a GPU.
local err = require("helpers").err

local gpu = require("gpu")(_ENV)
local twin, dev, git = gpu.twin, gpu.dev, gpu.cit

local function numel(shape)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  return n
end

-- Deterministic inputs: sin(k * arange(n)) * scale, in dtype dt, on the CPU.
local function det(shape, k, dt, scale)
  local t = (wick.arange(numel(shape), {dtype = "f64"}) * k):sin():reshape(shape)
  if scale then t = t * scale end
  return t:to(dt or "f64")
end

-- t on side ("cpu" or the device); a copy even when the twin is the CPU.
local function put(t, side)
  if side == "cpu" then return t end
  return twin and t:clone() or t:to(dev)
end

local function tol_for(dt, kind)
  if dt == "f64" then return 1e-10 end
  if dt == "f16" or dt == "bf16" then return 1e-2 end
  return kind == "conv" and 1e-4 or kind == "train" and 1e-4 or 1e-5
end

-- got (any device) is close to want (CPU): same dtype and shape, |d| <= tol * max(1, |want|).
local function same(got, want, tol, what)
  local g = got:detach():cpu()
  assert.are.equal(want.dtype, g.dtype, what .. ": dtype")
  assert.are.same(want.shape, g.shape, what .. ": shape")
  local gd, wd = g:double(), want:detach():double()
  local ok = gd:isclose(wd, {rtol = tol, atol = tol, equal_nan = true}):all():item()
  if not ok then
    local d = (gd - wd):abs()
    error(("%s: %d elements differ (max |diff| %s)"):format(what,
      d:gt(tol):sum():item(), wick.where(d:isnan(), 0, d):max():item()), 2)
  end
end

-- Runs case(side, dt) -> out, leaves {name = tensor}, extras {name = tensor} on the CPU and
-- on the device, backpropagates the same gradient through both, and compares the outputs,
-- every leaf's gradient and the extras (buffers updated in place).
local function twin_check(what, dt, kind, case)
  local tol = tol_for(dt, kind)
  local want, wl, we = case("cpu", dt)
  local got, gl, ge = case(dev, dt)
  same(got, want, tol, what .. " " .. dt .. " forward")
  if want.requires_grad then
    local g = #want.shape > 0 and det(want.shape, 0.53, want.dtype) or wick.tensor(0.53, {dtype = want.dtype})
    want:backward(g)
    got:backward(put(g, dev))
    for name, t in pairs(wl) do
      assert(t.grad, what .. ": no CPU gradient for " .. name)
      assert(gl[name].grad, what .. ": no device gradient for " .. name)
      same(gl[name].grad, t.grad, tol, ("%s %s grad %s"):format(what, dt, name))
    end
  end
  for name, t in pairs(we or {}) do same(ge[name], t, tol, ("%s %s %s"):format(what, dt, name)) end
end

-- A leaf on side made from det().
local function leaf(side, shape, k, dt, scale)
  return put(det(shape, k, dt, scale), side):requires_grad_()
end

local FLOATS = {"f32", "f64"}

describe("CUDA nn ops against the CPU", function()
  git("conv2d: bias, stride, padding (also 'same' with even kernels), dilation, groups, depthwise, unbatched", function()
    local cases = {
      {{2, 3, 9, 9}, {4, 3, 3, 3}, true, {padding = 1}},
      {{2, 4, 9, 8}, {6, 2, 3, 2}, true, {stride = {2, 1}, padding = {1, 2}, dilation = {2, 1}, groups = 2}},
      {{2, 6, 10, 10}, {6, 1, 3, 3}, false, {stride = 2, padding = 1, groups = 6}},
      {{3, 5, 5}, {4, 3, 2, 2}, true, {stride = 2}},
      {{4, 16, 14, 14}, {32, 16, 5, 5}, true, {padding = 2}},
      {{1, 2, 6, 5}, {3, 2, 3, 3}, true, {padding = "same", dilation = {1, 2}}},
      {{1, 2, 6, 5}, {3, 2, 4, 3}, true, {padding = "same", dilation = {1, 2}}}, -- one extra row at the end
      {{2, 3, 7, 8}, {4, 3, 2, 2}, true, {padding = "same"}},                    -- and column
    }
    for i, c in ipairs(cases) do
      for _, dt in ipairs(FLOATS) do
        twin_check("conv2d case " .. i, dt, "conv", function(side)
          local x, w = leaf(side, c[1], 0.37, dt), leaf(side, c[2], 0.71, dt, 0.5)
          local b = c[3] and leaf(side, {c[2][1]}, 1.3, dt) or nil
          return wick.conv2d(x, w, b, c[4]), {x = x, w = w, b = b}
        end)
      end
    end
  end)

  git("pooling: max (ceil mode, dilation, ties), average (padding, divisor), adaptive", function()
    local cases = {
      {"max_pool2d", {2, 3, 7, 7}, 3, {stride = 2, padding = 1, ceil_mode = true}},
      {"max_pool2d", {1, 2, 7, 6}, {2, 3}, {stride = 1, dilation = {2, 1}, padding = {1, 1}}},
      {"max_pool2d", {2, 2, 6, 6}, 2, nil, true},
      {"avg_pool2d", {2, 3, 7, 7}, 3, {stride = 2, padding = 1, ceil_mode = true, count_include_pad = false}},
      {"avg_pool2d", {1, 2, 5, 6}, 2, {padding = 1}},
      {"avg_pool2d", {1, 2, 5, 5}, {3, 2}, {divisor_override = 3}},
      {"adaptive_avg_pool2d", {2, 3, 7, 5}, {3, 2}},
      {"adaptive_avg_pool2d", {3, 3, 5}, 4},
    }
    for i, c in ipairs(cases) do
      for _, dt in ipairs(FLOATS) do
        twin_check(c[1] .. " case " .. i, dt, nil, function(side)
          local x = det(c[2], 0.37, dt)
          if c[5] then x = (x * 3):floor() end -- ties: the first maximum wins on both sides
          x = put(x, side):requires_grad_()
          return wick[c[1]](x, c[3], c[4]), {x = x}
        end)
      end
    end
  end)

  git("batch_norm: training (running stats), eval, without affine, large planes", function()
    local cases = {
      {{4, 3, 5, 5}, true, true, 0.2},
      {{6, 4}, true, true},
      {{4, 3, 5, 5}, false, true},
      {{3, 2, 4}, true, false},
      {{8, 5, 33, 31}, true, true}, -- several chunks per channel in the two-level reduction
    }
    for i, c in ipairs(cases) do
      for _, dt in ipairs(FLOATS) do
        twin_check("batch_norm case " .. i, dt, nil, function(side)
          local C = c[1][2]
          local x = leaf(side, c[1], 0.37, dt)
          local rm, rv = put(det({C}, 0.9, dt, 0.5), side), put(det({C}, 1.1, dt) ^ 2 + 0.5, side)
          local w = c[3] and leaf(side, {C}, 0.8, dt) or nil
          local b = c[3] and leaf(side, {C}, 1.7, dt) or nil
          local out = wick.batch_norm(x, rm, rv, w, b, {training = c[2], momentum = c[4] or 0.1, eps = 1e-5})
          return out, {x = x, w = w, b = b}, {running_mean = rm, running_var = rv}
        end)
      end
    end
  end)

  git("layer_norm: affine and plain, long rows", function()
    local cases = {{{3, 4, 5}, {4, 5}, true}, {{2, 6}, {6}, false}, {{2, 7, 1000}, {1000}, true},
                   {{130, 64}, {64}, true}}
    for i, c in ipairs(cases) do
      for _, dt in ipairs(FLOATS) do
        twin_check("layer_norm case " .. i, dt, nil, function(side)
          local x = leaf(side, c[1], 0.37, dt, 3)
          local w = c[3] and leaf(side, c[2], 0.8, dt) or nil
          local b = c[3] and leaf(side, c[2], 1.7, dt) or nil
          return wick.layer_norm(x, c[2], w, b, {eps = 1e-5}), {x = x, w = w, b = b}
        end)
      end
    end
  end)

  git("softmax and log_softmax over every dim, with large values", function()
    for _, dt in ipairs(FLOATS) do
      for dim = 0, 2 do
        for _, fn in ipairs({"softmax", "log_softmax"}) do
          twin_check(fn .. " dim " .. dim, dt, nil, function(side)
            local x = leaf(side, {3, 5, 7}, 0.37, dt, 40)
            return x[fn](x, dim), {x = x}
          end)
        end
      end
    end
  end)

  git("softmax: masked (-inf) entries, long rows, f16/bf16 storage", function()
    local mask = wick.arange(6):unsqueeze(0):gt(wick.arange(6):unsqueeze(1)) -- above the diagonal
    for _, dt in ipairs({"f32", "f64", "f16", "bf16"}) do
      local tol = tol_for(dt)
      for _, fn in ipairs({"softmax", "log_softmax"}) do
        local x = det({2, 6, 6}, 0.37, "f32", 5):masked_fill(mask, -math.huge):to(dt)
        same(put(x, dev)[fn](put(x, dev), -1), x[fn](x, -1), tol, fn .. " masked " .. dt)
        local long = det({3, 50257}, 0.011, "f32", 20):to(dt)
        same(put(long, dev)[fn](put(long, dev), 1), long[fn](long, 1), tol, fn .. " long rows " .. dt)
      end
      -- the gradient in the storage dtype
      for _, fn in ipairs({"softmax", "log_softmax"}) do
        twin_check(fn .. " grad", dt, nil, function(side)
          local x = put(det({4, 33}, 0.37, dt, 3), side):requires_grad_()
          return x[fn](x, 1), {x = x}
        end)
      end
    end
  end)

  local function targets(n, C, ignore)
    local t = {}
    for i = 0, n - 1 do t[i + 1] = (i * 3 + 1) % C end
    if ignore then t[2] = ignore end
    return wick.tensor(t)
  end

  git("cross_entropy: weights, ignore_index, label smoothing, reductions, k-dim, probabilities", function()
    local cases = {
      {{5, 7}, {5}, false, {}},
      {{5, 7}, {5}, true, {ignore_index = 2, reduction = "mean"}},
      {{5, 7}, {5}, false, {label_smoothing = 0.1, ignore_index = 4}},
      {{5, 7}, {5}, true, {label_smoothing = 0.2, ignore_index = 4}},
      {{5, 7}, {5}, false, {reduction = "sum", label_smoothing = 0.1}},
      {{5, 7}, {5}, true, {reduction = "none", ignore_index = 3}},
      {{2, 4, 3, 3}, {2, 3, 3}, true, {label_smoothing = 0.05}},
      {{64, 1000}, {64}, false, {}}, -- rows longer than a block
      {{7}, {}, false, {}},          -- unbatched
    }
    for i, c in ipairs(cases) do
      for _, dt in ipairs(FLOATS) do
        twin_check("cross_entropy case " .. i, dt, nil, function(side)
          local C = #c[1] == 1 and c[1][1] or c[1][2]
          local x = leaf(side, c[1], 0.37, dt, 4)
          local t = #c[2] == 0 and wick.tensor(3) or targets(numel(c[2]), C, c[4].ignore_index):reshape(c[2])
          local o = {}
          for k, v in pairs(c[4]) do o[k] = v end
          if c[3] then o.weight = put((det({C}, 0.9, dt)):abs() + 0.2, side) end
          return wick.cross_entropy(x, put(t, side), o), {x = x}
        end)
      end
    end
    for _, dt in ipairs(FLOATS) do
      for i, o in ipairs({{}, {label_smoothing = 0.3, reduction = "sum", weighted = true}}) do
        twin_check("cross_entropy probabilities " .. i, dt, nil, function(side)
          local x = leaf(side, {4, 6}, 0.37, dt)
          local p = put(det({4, 6}, 0.61, dt):softmax(1), side):requires_grad_()
          local opts = {label_smoothing = o.label_smoothing, reduction = o.reduction}
          if o.weighted then opts.weight = put(det({6}, 0.9, dt):abs() + 0.2, side) end
          return wick.cross_entropy(x, p, opts), {x = x, p = p}
        end)
      end
    end
  end)

  git("nll_loss and the elementwise losses", function()
    for _, dt in ipairs(FLOATS) do
      for i, o in ipairs({{ignore_index = 2}, {reduction = "none"}, {reduction = "sum"}}) do
        twin_check("nll_loss case " .. i, dt, nil, function(side)
          local x = leaf(side, {5, 7}, 0.37, dt)
          local opts = {ignore_index = o.ignore_index, reduction = o.reduction,
                        weight = put(det({7}, 0.9, dt):abs() + 0.2, side)}
          return wick.nll_loss(x, put(targets(5, 7, o.ignore_index), side), opts), {x = x}
        end)
      end
      for _, fn in ipairs({"mse_loss", "l1_loss", "binary_cross_entropy_with_logits"}) do
        for _, red in ipairs({"mean", "sum", "none"}) do
          twin_check(fn .. " " .. red, dt, nil, function(side)
            local bce = fn == "binary_cross_entropy_with_logits"
            local x = leaf(side, {3, 4}, 0.37, dt, bce and 4 or 1)
            local t = det({3, 4}, 0.61, dt)
            local opts = {reduction = red}
            if bce then
              t = (t + 1) / 2
              opts.weight = put(det({4}, 0.9, dt):abs() + 0.2, side)
              opts.pos_weight = put(det({4}, 1.3, dt):abs() + 0.5, side)
            end
            t = put(t, side):requires_grad_()
            return wick[fn](x, t, opts), {x = x, t = t}
          end)
        end
        twin_check(fn .. " broadcast", dt, nil, function(side)
          local x = leaf(side, {3, 4}, 0.37, dt)
          local t = put(det({3, 4}, 0.61, dt), side)
          if fn ~= "binary_cross_entropy_with_logits" then t = put(det({4}, 0.61, dt), side) end
          return wick[fn](x, t), {x = x}
        end)
      end
    end
  end)

  git("embedding with padding_idx, i32 and i64 indices", function()
    for _, dt in ipairs(FLOATS) do
      for _, it in ipairs({"i64", "i32"}) do
        twin_check("embedding " .. it, dt, nil, function(side)
          local w = leaf(side, {10, 4}, 0.37, dt)
          local idx = wick.tensor({{1, 2, 2}, {9, 0, 2}}):to(it)
          return wick.embedding(put(idx, side), w, {padding_idx = 2}), {w = w}
        end)
      end
    end
  end)

  git("dropout: a Philox mask of zeros and 1/(1-p), about p of them zero, gradient through it", function()
    for _, dt in ipairs(FLOATS) do
      local x = put(wick.ones({1 << 16}, {dtype = dt}), dev):requires_grad_()
      local y = wick.dropout(x, 0.3, true)
      local yc = y:detach():cpu():double()
      local kept = yc:ne(0)
      local frac = 1 - kept:double():mean():item()
      assert(math.abs(frac - 0.3) < 0.02, ("dropout %s: %g of the elements are zero"):format(dt, frac))
      local scale = wick.where(kept, yc, wick.full_like(yc, 1 / 0.7))
      same(scale, wick.full_like(yc, 1 / 0.7), 1e-6, "dropout kept values " .. dt)
      y:sum():backward()
      same(x.grad:cpu():double(), yc, 1e-6, "dropout gradient " .. dt)
    end
  end)
end)

describe("CUDA fused optimizer steps against the CPU", function()
  -- Three steps of opt_ctor over the same parameters and gradients on both sides.
  local function opt_check(what, dt, ctor)
    local shapes = {{5, 3}, {7}, {4, 4, 2}, {10000}}
    local sides = {}
    for k, side in ipairs({"cpu", dev}) do
      local ps = {}
      for i, s in ipairs(shapes) do ps[i] = put(det(s, 0.3 * i, dt), side):requires_grad_() end
      sides[k] = {ps = ps, opt = ctor(ps), side = side}
    end
    for step = 1, 3 do
      for _, sd in ipairs(sides) do
        for i, p in ipairs(sd.ps) do p.grad = put(det(shapes[i], 0.17 * i + step, dt), sd.side) end
        sd.opt:step()
      end
    end
    for i = 1, #shapes do
      same(sides[2].ps[i], sides[1].ps[i], tol_for(dt), ("%s %s param %d"):format(what, dt, i))
    end
  end

  git("SGD: plain, momentum with dampening, nesterov with weight decay, maximize", function()
    local optim = wick.optim
    for _, dt in ipairs(FLOATS) do
      opt_check("SGD", dt, function(ps) return optim.SGD(ps, {lr = 0.1}) end)
      opt_check("SGD momentum", dt, function(ps) return optim.SGD(ps, {lr = 0.1, momentum = 0.9, dampening = 0.5}) end)
      opt_check("SGD nesterov", dt, function(ps)
        return optim.SGD(ps, {lr = 0.1, momentum = 0.5, nesterov = true, weight_decay = 0.25})
      end)
      opt_check("SGD maximize", dt, function(ps) return optim.SGD(ps, {lr = 0.05, maximize = true}) end)
    end
  end)

  git("Adam and AdamW: weight decay, amsgrad", function()
    local optim = wick.optim
    for _, dt in ipairs(FLOATS) do
      opt_check("Adam", dt, function(ps) return optim.Adam(ps, {lr = 0.01}) end)
      opt_check("Adam wd amsgrad", dt, function(ps)
        return optim.Adam(ps, {lr = 0.01, weight_decay = 0.1, amsgrad = true})
      end)
      opt_check("AdamW", dt, function(ps) return optim.AdamW(ps, {lr = 0.01, weight_decay = 0.05}) end)
    end
  end)
end)

describe("CUDA training", function()
  git("a small CNN (conv, batch norm, pooling, layer norm, cross entropy, SGD) trains like the CPU", function()
    local nn, optim = wick.nn, wick.optim
    local function model()
      wick.manual_seed(7)
      return nn.Sequential(
        nn.Conv2d(1, 8, 3, {padding = 1}), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, {padding = 1}), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Linear(64, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 10))
    end
    local cpu_m, dev_m = model(), model():to(dev)
    local cpu_o = optim.SGD(cpu_m:parameters(), {lr = 0.05, momentum = 0.9})
    local dev_o = optim.SGD(dev_m:parameters(), {lr = 0.05, momentum = 0.9})
    local x = det({16, 1, 12, 12}, 0.13, "f32")
    local y = wick.tensor({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3})
    local losses = {}
    for step = 1, 3 do
      for k, side in ipairs({{cpu_m, cpu_o, "cpu"}, {dev_m, dev_o, dev}}) do
        side[2]:zero_grad()
        local loss = wick.cross_entropy(side[1](put(x, side[3])), put(y, side[3]))
        loss:backward()
        side[2]:step()
        losses[k] = loss:item()
      end
      assert(math.abs(losses[1] - losses[2]) <= 1e-4 * math.max(1, math.abs(losses[1])),
        ("step %d: loss %g on the CPU, %g on the device"):format(step, losses[1], losses[2]))
    end
    local want, got = cpu_m:state_dict(), dev_m:state_dict()
    for k, v in pairs(want) do same(got[k], v, tol_for("f32", "train"), "after 3 steps: " .. k) end
  end)
end)

describe("CUDA nn errors", function()
  git("operands on different devices name both", function()
    if twin then pending("needs a CUDA device: the CPU twin has one device") return end
    local x = wick.randn(1, 2, 5, 5):to(dev)
    assert.are.equal("conv2d: expected all tensors to be on the same device, but found cuda:0 and cpu",
      err(function() return wick.conv2d(x, wick.randn(3, 2, 3, 3)) end))
    assert.are.equal("layer_norm: expected all tensors to be on the same device, but found cuda:0 and cpu",
      err(function() return wick.layer_norm(x, {5}, wick.ones(5)) end))
    assert.are.equal("cross_entropy: expected all tensors to be on the same device, but found cuda:0 and cpu",
      err(function() return wick.cross_entropy(wick.randn(2, 3):to(dev), wick.tensor({0, 1})) end))
    assert.are.equal("embedding: expected all tensors to be on the same device, but found cuda:0 and cpu",
      err(function() return wick.embedding(wick.tensor({0, 1}), wick.randn(3, 2):to(dev)) end))
    local p = wick.randn(3):to(dev):requires_grad_()
    p.grad = wick.randn(3)
    assert.are.equal("SGD: grad is on a different device than its param",
      err(function() wick.optim.SGD({p}, {lr = 0.1}):step() end))
  end)

  git("bad class targets and indices are errors, not device faults", function()
    local x = put(wick.randn(2, 3), dev)
    assert.are.equal("cross_entropy: target 3 is out of bounds for 3 classes",
      err(function() return wick.cross_entropy(x, put(wick.tensor({0, 3}), dev)) end))
    assert.are.equal("embedding: index 10 is out of range for 10 embeddings",
      err(function() return wick.embedding(put(wick.tensor({1, 10}), dev), put(wick.randn(10, 2), dev)) end))
    -- and the device still works
    same(wick.cross_entropy(x, put(wick.tensor({0, 2}), dev)), wick.cross_entropy(x:cpu(), wick.tensor({0, 2})),
      1e-5, "after the errors")
  end)
end)
