-- Autograd: graph recording, the engine, hooks, grad mode, in-place rules, gradchecks.
local gradcheck = function(...) return wick.autograd.gradcheck(...) end

local err = require("helpers").err

local function near(a, b, tol)
  tol = tol or 1e-5
  if type(a) == "table" then
    assert.are.equal(#b, #a)
    for i = 1, #a do near(a[i], b[i], tol) end
    return
  end
  assert(math.abs(a - b) <= tol * math.max(1, math.abs(b)), ("%s vs %s"):format(a, b))
end

local function f64(...)
  local shape = { ... }
  if type(shape[1]) == "table" then shape = shape[1] end
  return wick.randn(shape, { dtype = "f64" }):requires_grad_()
end

describe("autograd", function()
  before_each(function() wick.manual_seed(0) end)

  it("computes gradients of a small expression", function()
    local x = wick.tensor({1.0, 2.0, 3.0}, { requires_grad = true })
    assert.is_true(x.requires_grad)
    assert.is_true(x.is_leaf)
    local y = (x * x + x * 3):sum()
    assert.is_false(y.is_leaf)
    assert.are.equal("SumBackward0", y.grad_fn:name())
    y:backward()
    near(x.grad:tolist(), {5, 7, 9})
  end)

  it("accumulates into .grad across backward calls, and clears with grad = nil", function()
    local x = wick.tensor({1.0, -1.0}, { requires_grad = true })
    ;(x * 2):sum():backward()
    ;(x * 2):sum():backward()
    near(x.grad:tolist(), {4, 4})
    x.grad = nil
    assert.is_nil(x.grad)
    ;(x * x):sum():backward()
    near(x.grad:tolist(), {2, -2})
  end)

  it("sums gradients over broadcast dims and casts to the input dtype", function()
    local a = wick.ones(2, 3, { requires_grad = true })
    local b = wick.tensor({1.0, 2.0, 3.0}, { requires_grad = true })
    local c = wick.tensor({2.0}, { dtype = "f64", requires_grad = true })
    ;((a * b + c)):sum():backward()
    near(b.grad:tolist(), {2, 2, 2})
    near(a.grad:tolist(), {{1, 2, 3}, {1, 2, 3}})
    assert.are.equal("f64", c.grad.dtype)
    near(c.grad:tolist(), {6})
  end)

  it("passes gradchecks for elementwise ops", function()
    local x, y = f64(3, 4), f64(3, 4)
    local pos = (wick.rand(3, 4, { dtype = "f64" }) + 0.5):requires_grad_()
    for _, fn in ipairs{
      function(a, b) return a + b end, function(a, b) return a - b end,
      function(a, b) return a * b end, function(a, b) return a / (b * b + 1) end,
      function(a, b) return wick.maximum(a, b) end, function(a, b) return wick.minimum(a, b) end,
      function(a, b) return wick.atan2(a, b) end, function(a) return -a end,
      function(a) return a:exp() end, function(a) return a:tanh() end,
      function(a) return a:sigmoid() end, function(a) return a:relu() end,
      function(a) return a:gelu() end, function(a) return a:gelu{approximate = "tanh"} end,
      function(a) return a:silu() end, function(a) return a:sin() end, function(a) return a:cos() end,
      function(a) return a:abs() end, function(a) return a:square() end, function(a) return a:erf() end,
      function(a) return a:softplus() end, function(a) return a:clamp(-0.5, 0.5) end,
      function(a) return a:leaky_relu(0.1) end, function(a) return a:elu() end,
      function(a) return a:atan() end, function(a) return a:sinh() end,
      function(a) return wick.where(a:gt(0), a, a * 2) end,
    } do
      assert.is_true(gradcheck(fn, { x, y }))
    end
    for _, fn in ipairs{
      function(a) return a:log() end, function(a) return a:sqrt() end, function(a) return a:rsqrt() end,
      function(a) return a:reciprocal() end, function(a) return a ^ 2.5 end,
      function(a) return a:log2() end, function(a) return a:log1p() end,
      function(a, b) return a ^ b end,
    } do
      assert.is_true(gradcheck(fn, { pos, (pos + 0):detach():requires_grad_() }))
    end
  end)

  it("masks relu and clamp gradients to 0 even when the incoming gradient is nan, in every float dtype", function()
    for _, dt in ipairs{ "f32", "f64", "f16", "bf16" } do
      local x = wick.tensor({ -1, 0.5, 2 }, { dtype = dt }):requires_grad_()
      local g = wick.tensor({ 0 / 0, 0 / 0, 1 }, { dtype = dt })
      x:relu():backward(g)
      local r = x.grad:tolist()
      assert.are.equal(0, r[1], dt)
      assert.is_true(r[2] ~= r[2], dt) -- passed through where x > 0
      assert.are.equal(1, r[3], dt)
      x.grad = nil
      x:clamp(0, 1):backward(g)
      r = x.grad:tolist()
      assert.are.equal(0, r[1], dt)
      assert.are.equal(0, r[3], dt)
    end
  end)

  it("passes gradchecks for matmul in every shape combination", function()
    local cases = {
      { {3, 4}, {4, 5} }, { {4}, {4, 5} }, { {3, 4}, {4} }, { {4}, {4} },
      { {2, 3, 4}, {4, 5} }, { {2, 3, 4}, {2, 4, 5} }, { {4}, {2, 4, 5} }, { {2, 1, 3, 4}, {5, 4, 2} },
    }
    for _, c in ipairs(cases) do
      local a, b = f64(c[1]), f64(c[2])
      assert.is_true(gradcheck(function(p, q) return p:matmul(q) end, { a, b }))
    end
  end)

  it("passes gradchecks through views", function()
    local x = f64(2, 3, 4)
    for _, fn in ipairs{
      function(a) return a:view(6, 4) end, function(a) return a:reshape(4, 6) end,
      function(a) return a:transpose(0, 2) end, function(a) return a:permute(2, 0, 1) end,
      function(a) return a:unsqueeze(1) end, function(a) return a:narrow(2, 1, 2) end,
      function(a) return a:select(1, -1) end, function(a) return a[1] end,
      function(a) return a:slice(2, 0, 4, 2) end, function(a) return a:flatten(1) end,
      function(a) return a:unsqueeze(0):expand(3, 2, 3, 4) end, function(a) return a.T end,
    } do
      assert.is_true(gradcheck(fn, { x }))
    end
    local m = f64(3, 3)
    assert.is_true(gradcheck(function(a) return a:t():contiguous() * 2 end, { m }))
    assert.is_true(gradcheck(function(a) return a:diagonal() end, { m }))
    assert.is_true(gradcheck(function(a) return a:clone():double() end, { m }))
  end)

  it("passes gradchecks for reductions and softmax", function()
    local x = f64(3, 4)
    for _, fn in ipairs{
      function(a) return a:sum() end, function(a) return a:sum(1) end,
      function(a) return a:sum(0, {keepdim = true}) end, function(a) return a:sum({0, 1}) end,
      function(a) return a:mean() end, function(a) return a:mean(-1) end,
      function(a) return a:var() end, function(a) return a:var(1, {correction = 0}) end,
      function(a) return a:std(0) end, function(a) return a:std(1, {keepdim = true}) end,
      function(a) return a:amax(1) end, function(a) return a:amin(0) end, function(a) return a:max() end,
      function(a) local v = a:max(1); return v end, function(a) local v = a:min(0, {keepdim = true}); return v end,
      function(a) return a:logsumexp(1) end, function(a) return a:softmax(1) end,
      function(a) return a:log_softmax(0) end, function(a) return a:norm() end,
      function(a) return a:norm(1) end, function(a) return a:norm(3, 1) end,
      function(a) return a:cumsum(1) end, function(a) return a:cumsum(0) end,
    } do
      assert.is_true(gradcheck(fn, { x }))
    end
  end)

  it("passes gradchecks for indexing and joining", function()
    local x, y = f64(4, 3), f64(4, 3)
    local rows = wick.tensor{2, 0, 2}             -- a repeated index accumulates
    local idx = wick.tensor{{0, 2, 1}, {2, 2, 0}, {1, 0, 0}, {0, 1, 2}}
    local mask = wick.tensor{{true, false, true}, {false, false, true}, {true, true, false}, {false, true, false}}
    for _, fn in ipairs{
      function(a) return a:index_select(0, rows) end, function(a) return a:index_select(1, wick.tensor{1, 1}) end,
      function(a) return a:gather(1, idx) end,
      function(a, b) return a:scatter(1, wick.tensor{{0}, {1}, {2}, {0}}, b:narrow(1, 0, 1)) end,
      function(a, b) return a:scatter_add(1, idx, b) end,
      function(a) return a:masked_fill(mask, 0.5) end,
      function(a, b) return wick.cat({a, b}, 0) end, function(a, b) return wick.cat({a, b * 2}, 1) end,
      function(a, b) return wick.stack({a, b}, 1) end,
      function(a) return a:index{rows, ":"} end, function(a) return a:index{mask} end,
      function(a) return a:index{{1, 3}, -1} end, function(a) return a:index{":", "newaxis", {0, 3, 2}} end,
      function(a) return a:chunk(2, 0)[2] end, function(a) local p = a:split({1, 2}, 1); return p[2] end,
      function(a) return a:unbind(0)[3] end,
    } do
      assert.is_true(gradcheck(fn, { x, y }))
    end
  end)

  it("records in-place ops on non-leaves and refuses them on leaves", function()
    local x = wick.tensor({1.0, 2.0}, { requires_grad = true })
    local y = x * 2
    y:mul_(3):add_(1)
    y:sum():backward()
    near(x.grad:tolist(), {6, 6})
    assert.are.equal("mul_: a leaf tensor that requires grad is being used in an in-place operation (wrap it in wick.no_grad or use an out-of-place op)",
      err(function() x:mul_(2) end))
    assert.are.equal("setitem: a leaf tensor that requires grad is being used in an in-place operation (wrap it in wick.no_grad or use an out-of-place op)",
      err(function() x[0] = 1 end))
    wick.no_grad(function() x:mul_(2) end) -- allowed without grad recording
    near(x:detach():tolist(), {2, 4})
  end)

  it("names each elementwise node as PyTorch does", function()
    local x = f64(3)
    local names = {
      neg = "NegBackward0", abs = "AbsBackward0", sign = "SignBackward0", square = "PowBackward0",
      reciprocal = "ReciprocalBackward0", exp = "ExpBackward0", expm1 = "Expm1Backward0",
      log = "LogBackward0", log2 = "Log2Backward0", log10 = "Log10Backward0", log1p = "Log1PBackward0",
      sqrt = "SqrtBackward0", rsqrt = "RsqrtBackward0", sin = "SinBackward0", cos = "CosBackward0",
      tan = "TanBackward0", asin = "AsinBackward0", acos = "AcosBackward0", atan = "AtanBackward0",
      sinh = "SinhBackward0", cosh = "CoshBackward0", tanh = "TanhBackward0", erf = "ErfBackward0",
      sigmoid = "SigmoidBackward0", relu = "ReluBackward0", gelu = "GeluBackward0",
      silu = "SiluBackward0", softplus = "SoftplusBackward0", floor = "FloorBackward0",
      ceil = "CeilBackward0", round = "RoundBackward0", trunc = "TruncBackward0",
      leaky_relu = "LeakyReluBackward0", elu = "EluBackward0", hardtanh = "HardtanhBackward0",
    }
    for op, name in pairs(names) do assert.are.equal(name, x[op](x).grad_fn:name(), op) end
    assert.are.equal("ClampBackward1", x:clamp(0, 1).grad_fn:name())
    assert.are.equal("GeluBackward0", x:gelu({ approximate = "tanh" }).grad_fn:name())
    local y = f64(3)
    for op, name in pairs({ add = "AddBackward0", sub = "SubBackward0", mul = "MulBackward0",
        div = "DivBackward0", pow = "PowBackward1", maximum = "MaximumBackward0",
        minimum = "MinimumBackward0", fmod = "FmodBackward1", remainder = "RemainderBackward1",
        atan2 = "Atan2Backward0" }) do
      assert.are.equal(name, x[op](x, y).grad_fn:name(), op)
    end
    assert.is_nil(x:floor_divide(y).grad_fn)
    assert.are.equal("maximum_: a leaf tensor that requires grad is being used in an in-place operation (wrap it in wick.no_grad or use an out-of-place op)",
      err(function() x:maximum_(y) end))
    assert.are.equal("exp_: a leaf tensor that requires grad is being used in an in-place operation (wrap it in wick.no_grad or use an out-of-place op)",
      err(function() x:exp_() end))
  end)

  it("detects saved tensors modified in place", function()
    local x = wick.tensor({1.0, 2.0}, { requires_grad = true })
    local z = x * 2
    local w = z * z
    wick.no_grad(function() z:add_(1) end)
    local msg = err(function() w:sum():backward() end)
    assert.are.equal("MulBackward0: backward: one of the variables needed for gradient computation has been modified by an inplace operation: [f32 [2]], which is input 0 of MulBackward0, is at version 1; expected version 0 instead", msg)
  end)

  it("frees the graph after backward unless retain_graph", function()
    local x = wick.tensor({1.0, 2.0}, { requires_grad = true })
    local y = (x * x):sum()
    y:backward({ retain_graph = true })
    y:backward()
    near(x.grad:tolist(), {4, 8})
    assert.are.equal("MulBackward0: backward: trying to backward through the graph a second time (or directly access saved tensors after they have already been freed); specify retain_graph = true on the first backward",
      err(function() y:backward() end))
  end)

  it("runs tensor hooks, which may replace the gradient", function()
    local x = wick.tensor({1.0, 2.0}, { requires_grad = true })
    local seen
    local h = x:register_hook(function(g) seen = g:tolist(); return g * 10 end)
    local y = x * 3
    y:register_hook(function(g) return g + 1 end)
    y:sum():backward()
    near(seen, {6, 6})
    near(x.grad:tolist(), {60, 60})
    h:remove()
    x.grad = nil
    ;(x * 3):sum():backward()
    near(x.grad:tolist(), {3, 3})
    local bad = wick.tensor({1.0}, { requires_grad = true })
    bad:register_hook(function() error("boom") end)
    assert.matches("^AccumulateGrad: hook: .*boom$", err(function() (bad * 1):sum():backward() end))
  end)

  it("keeps grads of non-leaves with retain_grad", function()
    local x = wick.tensor({1.0, 2.0}, { requires_grad = true })
    local y = x * 2
    y:retain_grad()
    ;(y * y):sum():backward()
    near(y.grad:tolist(), {4, 8})
    near(x.grad:tolist(), {8, 16})
  end)

  it("switches recording off with no_grad and on with enable_grad", function()
    local x = wick.ones(2, { requires_grad = true })
    local y, z = wick.no_grad(function() return x * 2, 7 end)
    assert.is_false(y.requires_grad)
    assert.are.equal(7, z)
    assert.is_true(wick.no_grad(function() return wick.enable_grad(function() return x * 2 end) end).requires_grad)
    assert.is_false(pcall(wick.no_grad, function() error("inside") end))
    assert.is_true(wick.is_grad_enabled())
    wick.set_grad_enabled(false)
    assert.is_false((x * 2).requires_grad)
    wick.set_grad_enabled(true)
    assert.is_false(x:detach().requires_grad)
  end)

  it("rejects what PyTorch rejects", function()
    assert.are.equal("requires_grad_: only tensors of floating point dtype can require gradients (got i64)",
      err(function() wick.tensor{1, 2}:requires_grad_() end))
    local x = wick.ones(2, { requires_grad = true })
    assert.are.equal("backward: grad can be implicitly created only for scalar outputs (the output has 2 elements)",
      err(function() (x * 2):backward() end))
    assert.are.equal("backward: element 0 of tensors does not require grad and does not have a grad_fn",
      err(function() wick.ones(1):backward() end))
    assert.are.equal("requires_grad_: you can only change requires_grad flags of leaf variables; use detach() to get a leaf",
      err(function() (x * 2):requires_grad_(false) end))
    assert.are.equal("grad: assigned grad has shape [3] but the tensor has shape [2]",
      err(function() x.grad = wick.ones(3) end))
    local y = x * 2
    y:backward(wick.ones(2))
    assert.are.equal("backward: mismatch in shape: grad_output has shape [3] and output has shape [2]",
      err(function() (x * 2):backward(wick.ones(3)) end))
  end)

  it("releases the graph and its tensors", function()
    local x = wick.ones(100, { requires_grad = true })
    collectgarbage()
    local before = wick.memory_stats().live_tensors
    for _ = 1, 50 do
      local y = (x * 2):exp():sum()
      y:backward()
    end
    x.grad = nil
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, wick.memory_stats().live_tensors)
  end)

  it("handles long chains without deep recursion", function()
    local x = wick.ones(1, { requires_grad = true })
    local y = x
    for _ = 1, 20000 do y = y * 1 end
    y:sum():backward()
    near(x.grad:tolist(), {1})
    y = nil
    collectgarbage()
  end)
end)
