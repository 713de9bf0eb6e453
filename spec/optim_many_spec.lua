-- The list forms of the fused updates (wick._sgd_update_many, wick._adam_update_many) that the
-- optimizers call once per group: the same results as one update per parameter, with mixed
-- dtypes, non-contiguous parameters, new and old momentum buffers and step counts in one
-- group, and nothing updated when any entry is bad.
local err = require("helpers").err
local optim = wick.optim

local function det(shape, k, dtype)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  return (wick.arange(n, { dtype = "f64" }) * k):sin():reshape(shape):to(dtype or "f64")
end

-- Two identical sets of parameters: f64, f32, and a transposed (non-contiguous) f64 view.
local function params()
  local base = det({ 4, 3 }, 0.9)
  return { det({ 5 }, 0.3):requires_grad_(), det({ 2, 3 }, 0.7, "f32"):requires_grad_(),
           base:t():requires_grad_() }
end

local function grads(ps, step)
  for i, p in ipairs(ps) do p.grad = det(p.shape, 0.11 * i + step, p.dtype) end
end

local function same(a, b, what)
  assert.are.same(a.shape, b.shape, what)
  local d = (a:double() - b:double()):abs():max():item()
  assert(d == 0, ("%s: differs by %g"):format(what, d))
end

describe("fused updates over a parameter list", function()
  it("SGD with momentum: one call per group equals one update per parameter", function()
    local a, b = params(), params()
    local bufs = {}
    local opt = optim.SGD(a, { lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.01 })
    for step = 1, 3 do
      grads(a, step)
      grads(b, step)
      if step == 1 then a[3].grad, b[3].grad = nil, nil end -- a buffer born at step 2, beside old ones
      opt:step()
      for i, p in ipairs(b) do
        if p.grad then
          bufs[i] = wick._sgd_update(p, p.grad, bufs[i],
            { lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.01 })
        end
      end
      for i = 1, 3 do same(a[i]:detach(), b[i]:detach(), ("step %d param %d"):format(step, i)) end
    end
  end)

  it("Adam with parameters at different step counts in one group", function()
    local a, b = params(), params()
    local opt = optim.AdamW(a, { lr = 0.01, amsgrad = true })
    local st = {}
    for step = 1, 3 do
      grads(a, step)
      grads(b, step)
      if step == 1 then a[2].grad, b[2].grad = nil, nil end
      opt:step()
      for i, p in ipairs(b) do
        if p.grad then
          local s = st[i] or { step = 0, m = wick.zeros_like(p), v = wick.zeros_like(p), vm = wick.zeros_like(p) }
          st[i] = s
          s.step = s.step + 1
          wick._adam_update(p, p.grad, s.m, s.v, s.vm, { lr = 0.01, amsgrad = true, decoupled = true,
            weight_decay = 1e-2, step = s.step })
        end
      end
      for i = 1, 3 do same(a[i]:detach(), b[i]:detach(), ("step %d param %d"):format(step, i)) end
    end
  end)

  it("checks every entry before updating any", function()
    local ps = params()
    local before = ps[1]:detach():clone()
    assert.are.equal("SGD: grad of shape [3] does not match param of shape [2, 3]",
      err(function()
        wick._sgd_update_many(ps, { det({ 5 }, 1), det({ 3 }, 1, "f32"), det({ 3, 4 }, 1) }, {}, 3, { lr = 1 })
      end))
    same(ps[1]:detach(), before, "untouched")
    assert.are.equal("_update_many: entry 2 of grads is not a tensor",
      err(function() wick._sgd_update_many(ps, { det({ 5 }, 1) }, {}, 3, { lr = 1 }) end))
    assert.are.equal("_update_many: bad parameter count -1",
      err(function() wick._adam_update_many({}, {}, {}, {}, nil, -1, {}) end))
  end)
end)
