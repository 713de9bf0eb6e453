-- wick.optim: SGD, Adam, AdamW updates (hand-checked steps and PyTorch reference values from
-- spec/ref/optim_ref.py), param groups, frozen parameters, zero_grad, state_dict, errors.
local wick = require("wick")
local optim = wick.optim

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"
local refs = dofile(here .. "/ref/optim_ref.lua")

local function param(values, dtype)
  return wick.tensor(values, { dtype = dtype or "f64" }):requires_grad_()
end

local function assert_close(want, got, rtol, what)
  rtol = rtol or 1e-12
  for i = 1, #want do
    local a, b = want[i], got[i]
    if math.abs(a - b) > rtol * math.max(math.abs(a), 1e-30) + 1e-300 then
      error(string.format("%s[%d]: got %.17g, want %.17g", what or "value", i - 1, b, a), 2)
    end
  end
end

local function case_name(c)
  local parts = {}
  for _, k in ipairs({ "momentum", "dampening", "nesterov", "weight_decay", "amsgrad", "maximize" }) do
    local v = c.opts[k]
    if v ~= nil and v ~= 0 and v ~= false then parts[#parts + 1] = k .. "=" .. tostring(v) end
  end
  return c.kind .. "(" .. table.concat(parts, ", ") .. ")"
end

describe("optim: same parameters as PyTorch over three steps", function()
  for _, c in ipairs(refs.cases) do
    for _, dtype in ipairs({ "f64", "f32" }) do
      it(case_name(c) .. " " .. dtype, function()
        local p = param(refs.p0, dtype)
        local opts = {}
        for k, v in pairs(c.opts) do opts[k] = v end
        local opt = optim[c.kind]({ p }, opts)
        for s, g in ipairs(refs.grads) do
          p.grad = wick.tensor(g, { dtype = dtype })
          opt:step()
          -- f32: PyTorch's op-by-op float rounding, up to a few ulps (fma contraction)
          assert_close(c[dtype][s], p:tolist(), dtype == "f64" and 1e-12 or 1e-6, "step " .. s)
        end
      end)
    end
  end
end)

describe("optim.SGD: hand-checked steps", function()
  it("plain: p - lr * g", function()
    local p = param({ 1.0, -2.0 })
    local opt = optim.SGD({ p }, { lr = 0.1 })
    p.grad = wick.tensor({ 0.5, 1.0 }, { dtype = "f64" })
    opt:step()
    assert_close({ 0.95, -2.1 }, p:tolist())
    assert.is_nil(opt.state[p].momentum_buffer)
  end)

  it("momentum: buf = g, then buf = m * buf + (1 - dampening) * g", function()
    local p = param({ 1.0 })
    local opt = optim.SGD({ p }, { lr = 0.1, momentum = 0.9, dampening = 0.5 })
    p.grad = wick.tensor({ 2.0 }, { dtype = "f64" })
    opt:step()
    assert_close({ 2.0 }, opt.state[p].momentum_buffer:tolist())
    assert_close({ 0.8 }, p:tolist())
    local buf = opt.state[p].momentum_buffer
    p.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    opt:step()
    assert.equal(buf, opt.state[p].momentum_buffer) -- updated in place
    assert_close({ 0.9 * 2 + 0.5 * 1 }, buf:tolist())
    assert_close({ 0.8 - 0.1 * 2.3 }, p:tolist())
  end)

  it("nesterov and weight decay: d = g + wd * p; d + m * buf", function()
    local p = param({ 2.0 })
    local opt = optim.SGD({ p }, { lr = 0.1, momentum = 0.5, nesterov = true, weight_decay = 0.25 })
    p.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    opt:step()
    -- d = 1 + 0.5 = 1.5; buf = 1.5; d = 1.5 + 0.5 * 1.5 = 2.25
    assert_close({ 2.0 - 0.225 }, p:tolist())
  end)

  it("maximize ascends", function()
    local p = param({ 1.0 })
    local opt = optim.SGD({ p }, { lr = 0.5, maximize = true })
    p.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    opt:step()
    assert_close({ 1.5 }, p:tolist())
  end)

  it("updates non-contiguous parameters and large ones (threaded loop)", function()
    local p = wick.arange(6, { dtype = "f32" }):reshape(2, 3):t():requires_grad_()
    assert.is_false(p:is_contiguous())
    local opt = optim.SGD({ p }, { lr = 0.5, momentum = 0.9 })
    p.grad = wick.ones(3, 2)
    opt:step()
    assert.same({ { -0.5, 2.5 }, { 0.5, 3.5 }, { 1.5, 4.5 } }, p:tolist())
    local n = 100003
    local big = wick.zeros(n):requires_grad_()
    local opt2 = optim.Adam({ big }, { lr = 0.1 })
    big.grad = wick.arange(n, { dtype = "f32" }) - 50000
    opt2:step()
    local v = big:tolist()
    assert.equal(0, v[50001])
    assert.near(-0.1, v[n], 1e-6)
    assert.near(0.1, v[1], 1e-6)
  end)
end)

describe("optim.Adam / AdamW: hand-checked steps", function()
  it("the first Adam step moves each weight by about lr against its gradient", function()
    local p = param({ 1.0, -1.0, 0.0 })
    local opt = optim.Adam({ p }, { lr = 0.1, eps = 0 })
    p.grad = wick.tensor({ 0.5, -3.0, 0.25 }, { dtype = "f64" })
    opt:step()
    assert_close({ 0.9, -0.9, -0.1 }, p:tolist())
    local s = opt.state[p]
    assert.equal(1, s.step)
    assert_close({ 0.05, -0.3, 0.025 }, s.exp_avg:tolist())
    assert_close({ 0.00025, 0.009, 0.0000625 }, s.exp_avg_sq:tolist())
    assert.is_nil(s.max_exp_avg_sq)
  end)

  it("AdamW decays the weight before the update; Adam adds wd * p to the gradient", function()
    local p1, p2 = param({ 2.0 }), param({ 2.0 })
    local w = optim.AdamW({ p1 }, { lr = 0.1, weight_decay = 0.5, eps = 0 })
    local a = optim.Adam({ p2 }, { lr = 0.1, weight_decay = 1.0 })
    p1.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    p2.grad = wick.tensor({ -2.0 }, { dtype = "f64" })
    w:step()
    a:step()
    assert_close({ 2.0 * 0.95 - 0.1 }, p1:tolist())
    assert_close({ 2.0 }, p2:tolist()) -- g + wd * p = 0: no move
    assert.equal(0.01, optim.AdamW({ param({ 1.0 }) }).param_groups[1].weight_decay)
    assert.equal(0, optim.Adam({ param({ 1.0 }) }).param_groups[1].weight_decay)
  end)

  it("amsgrad keeps the running maximum of exp_avg_sq", function()
    local p = param({ 0.0 })
    local opt = optim.Adam({ p }, { lr = 0.1, amsgrad = true, betas = { 0.5, 0.5 } })
    p.grad = wick.tensor({ 2.0 }, { dtype = "f64" })
    opt:step()
    p.grad = wick.tensor({ 0.0 }, { dtype = "f64" })
    opt:step()
    local s = opt.state[p]
    assert_close({ 1.0 }, s.exp_avg_sq:tolist())
    assert_close({ 2.0 }, s.max_exp_avg_sq:tolist())
  end)
end)

describe("optim: parameter groups and frozen parameters", function()
  it("each group uses its own lr, the rest from the defaults", function()
    local a, b = param({ 1.0 }), param({ 1.0 })
    local opt = optim.SGD({ { params = { a } }, { params = b, lr = 0.01 } }, { lr = 0.1, momentum = 0.5 })
    assert.equal(2, #opt.param_groups)
    assert.equal(0.5, opt.param_groups[2].momentum)
    a.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    b.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    opt:step()
    assert_close({ 0.9 }, a:tolist())
    assert_close({ 0.99 }, b:tolist())
  end)

  it("add_param_group adds parameters later", function()
    local a, b = param({ 1.0 }), param({ 1.0 })
    local opt = optim.SGD({ a }, { lr = 0.1 })
    opt:add_param_group({ params = { b }, lr = 1.0 })
    b.grad = wick.tensor({ 0.5 }, { dtype = "f64" })
    opt:step()
    assert_close({ 0.5 }, b:tolist())
    assert.has_error(function() opt:add_param_group({ params = { a } }) end,
      "SGD: some parameters appear in more than one parameter group")
  end)

  it("skips parameters that are frozen or have no gradient, allocating no state", function()
    local a, frozen, nograd = param({ 1.0 }), param({ 1.0 }), param({ 1.0 })
    local opt = optim.Adam({ a, frozen, nograd }, { lr = 0.1 })
    a.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    frozen.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
    frozen:requires_grad_(false)
    opt:step()
    assert.is_true(a:item() < 1.0)
    assert.equal(1.0, frozen:item())
    assert.equal(1.0, nograd:item())
    assert.is_nil(opt.state[frozen])
    assert.is_nil(opt.state[nograd])
    assert.is_table(opt.state[a])
  end)

  it("zero_grad sets gradients to nil, or zeroes them with set_to_none = false", function()
    local a = param({ 1.0, 2.0 })
    local opt = optim.SGD({ a }, { lr = 0.1 })
    a.grad = wick.tensor({ 1.0, 1.0 }, { dtype = "f64" })
    local g = a.grad
    opt:zero_grad({ set_to_none = false })
    assert.same({ 0, 0 }, g:tolist())
    assert.same({ 0, 0 }, a.grad:tolist())
    opt:zero_grad()
    assert.is_nil(a.grad)
    assert.has_error(function() opt:zero_grad({ set_to_nil = true }) end,
      "zero_grad: unknown option 'set_to_nil' (did you mean 'set_to_none'?)")
  end)

  it("step(closure) evaluates the closure with grad enabled and returns its loss", function()
    local a = param({ 3.0 })
    local opt = optim.SGD({ a }, { lr = 0.1 })
    local loss = wick.no_grad(function()
      return opt:step(function()
        opt:zero_grad()
        local l = a:dot(a)
        l:backward()
        return l
      end)
    end)
    assert.equal(9, loss:item())
    assert_close({ 3.0 - 0.6 }, a:tolist())
  end)
end)

describe("optim: state_dict", function()
  local function trained(kind, opts, named)
    local a, b = param({ 1.0, 2.0 }), param({ -1.0 })
    local params = named and { { "layer.weight", a }, { "layer.bias", b } } or { a, b }
    local opt = optim[kind](params, opts)
    for _ = 1, 2 do
      a.grad = wick.tensor({ 0.5, -0.5 }, { dtype = "f64" })
      b.grad = wick.tensor({ 1.0 }, { dtype = "f64" })
      opt:step()
    end
    return opt, a, b
  end

  it("has PyTorch's layout: state by 0-based parameter index, groups with params lists", function()
    local opt = trained("SGD", { lr = 0.1, momentum = 0.9 })
    local sd = opt:state_dict()
    assert.same({ 0, 1 }, sd.param_groups[1].params)
    assert.equal(0.1, sd.param_groups[1].lr)
    assert.is_true(wick.is_tensor(sd.state[0].momentum_buffer))
    assert.same({ 1 }, sd.state[1].momentum_buffer.shape)
  end)

  it("keys state by name when the optimizer was given named parameters", function()
    local opt = trained("Adam", { lr = 0.1 }, true)
    local sd = opt:state_dict()
    assert.same({ "layer.weight", "layer.bias" }, sd.param_groups[1].params)
    assert.equal(2, sd.state["layer.weight"].step)
    assert.same({ 2 }, sd.state["layer.weight"].exp_avg.shape)
  end)

  for _, case in ipairs({ { "SGD", { lr = 0.1, momentum = 0.9, nesterov = true } },
                          { "Adam", { lr = 0.1, amsgrad = true } },
                          { "AdamW", { lr = 0.1 } } }) do
    it("round trip continues " .. case[1] .. " exactly", function()
      local opt, a, b = trained(case[1], case[2])
      local a2, b2 = param(a:tolist()), param(b:tolist())
      local opt2 = optim[case[1]]({ a2, b2 }, { lr = 5.0 })
      opt2:load_state_dict(opt:state_dict())
      assert.equal(0.1, opt2.param_groups[1].lr)
      for _ = 1, 2 do
        for _, pair in ipairs({ { a, a2 }, { b, b2 } }) do
          local g = wick.ones(pair[1].shape, { dtype = "f64" }) * 0.25
          pair[1].grad, pair[2].grad = g, g:clone()
        end
        opt:step()
        opt2:step()
      end
      assert.same(a:tolist(), a2:tolist())
      assert.same(b:tolist(), b2:tolist())
    end)
  end

  it("loads copies (the loaded dict is not aliased)", function()
    local opt, a = trained("SGD", { lr = 0.1, momentum = 0.9 })
    local sd = opt:state_dict()
    local opt2 = optim.SGD({ param({ 0.0, 0.0 }), param({ 0.0 }) }, { lr = 0.1 })
    opt2:load_state_dict(sd)
    local p2 = opt2.param_groups[1].params[1]
    assert.are_not.equal(sd.state[0].momentum_buffer, opt2.state[p2].momentum_buffer)
    assert.same(sd.state[0].momentum_buffer:tolist(), opt2.state[p2].momentum_buffer:tolist())
    assert.is_truthy(a)
  end)

  it("rejects a state dict of another shape", function()
    local opt = trained("SGD", { lr = 0.1, momentum = 0.9 })
    local sd = opt:state_dict()
    assert.has_error(function() optim.SGD({ param({ 1.0 }) }, { lr = 0.1 }):load_state_dict(sd) end,
      "SGD: loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
    assert.has_error(function()
      optim.SGD({ { params = { param({ 1.0 }) } }, { params = { param({ 1.0 }) } } }, { lr = 0.1 }):load_state_dict(sd)
    end, "SGD: loaded state dict has a different number of parameter groups")
    assert.has_error(function()
      optim.SGD({ param({ 1.0, 2.0, 3.0 }), param({ 1.0 }) }, { lr = 0.1 }):load_state_dict(sd)
    end, "SGD: state momentum_buffer of parameter 0 has shape [2], but the parameter has shape [3]")
  end)
end)

describe("optim: errors", function()
  local p = param({ 1.0 })
  local cases = {
    { function() optim.SGD({ p }, { lr = -1 }) end, "SGD: invalid learning rate: -1" },
    { function() optim.SGD({ p }, { lr = 0.1, momentum = -0.5 }) end, "SGD: invalid momentum value: -0.5" },
    { function() optim.SGD({ p }, { lr = 0.1, weight_decay = -1 }) end, "SGD: invalid weight_decay value: -1" },
    { function() optim.SGD({ p }, { lr = 0.1, nesterov = true }) end,
      "SGD: Nesterov momentum requires a momentum and zero dampening" },
    { function() optim.SGD({ p }, {}) end,
      "SGD: parameter group didn't specify a value of required optimization parameter lr" },
    { function() optim.SGD({ p }, { lr = "0.1" }) end, "SGD: lr must be a number (got string)" },
    { function() optim.SGD({ p }, { lr = 0.1, momentun = 0.9 }) end,
      "SGD: unknown option 'momentun' (did you mean 'momentum'?)" },
    { function() optim.SGD({}, { lr = 0.1 }) end, "SGD: optimizer got an empty parameter list" },
    { function() optim.SGD(p, { lr = 0.1 }) end,
      "SGD: params must be a list of tensors or of parameter groups, not a single tensor" },
    { function() optim.SGD({ p, p }, { lr = 0.1 }) end, "SGD: a parameter group contains the same parameter twice" },
    { function() optim.SGD({ p * 2 }, { lr = 0.1 }) end, "SGD: can't optimize a non-leaf Tensor" },
    { function() optim.SGD({ wick.tensor({ 1, 2 }) }, { lr = 0.1 }) end,
      "SGD: can only optimize floating-point tensors (got i64)" },
    { function() optim.Adam({ p }, { lr = -1 }) end, "Adam: invalid learning rate: -1" },
    { function() optim.Adam({ p }, { eps = -1e-8 }) end, "Adam: invalid epsilon value: -1e-08" },
    { function() optim.Adam({ p }, { betas = { 1.5, 0.999 } }) end, "Adam: invalid beta parameter at index 0: 1.5" },
    { function() optim.Adam({ p }, { betas = { 0.9, 1.0 } }) end, "Adam: invalid beta parameter at index 1: 1.0" },
    { function() optim.Adam({ p }, { betas = 0.9 }) end, "Adam: betas must be a table of two numbers" },
    { function() optim.AdamW({ p }, { weight_decay = -0.1 }) end, "AdamW: invalid weight_decay value: -0.1" },
    { function() optim.AdamW({ p }, { amsgrad = 1 }) end, "AdamW: amsgrad must be a boolean (got number)" },
    { function() optim.Adam({ { params = { p }, lr = -2 } }) end, "Adam: invalid learning rate: -2" },
  }
  for i, c in ipairs(cases) do
    it(c[2] .. " (" .. i .. ")", function() assert.has_error(c[1], c[2]) end)
  end

  it("the fused updates check shapes and dtypes", function()
    local a = wick.zeros(2, 3)
    assert.has_error(function() wick._sgd_update(a, wick.zeros(3), nil, { lr = 0.1 }) end,
      "SGD: grad of shape [3] does not match param of shape [2, 3]")
    assert.has_error(function() wick._sgd_update(a, wick.zeros(2, 3, { dtype = "f64" }), nil, { lr = 0.1 }) end,
      "SGD: grad of dtype f64 does not match param of dtype f32")
    assert.has_error(function() wick._sgd_update(wick.zeros(2, { dtype = "i64" }), wick.zeros(2, { dtype = "i64" }), nil, { lr = 0.1 }) end,
      "SGD: parameters must be f32 or f64 (got i64)")
    assert.has_error(function()
      wick._sgd_update(a, wick.zeros(2, 3), wick.zeros(6), { lr = 0.1, momentum = 0.9 })
    end, "SGD: state momentum_buffer of shape [6] does not match param of shape [2, 3]")
    assert.has_error(function()
      wick._adam_update(a, wick.zeros(2, 3), wick.zeros(2, 3), wick.zeros(2, 3, { dtype = "f64" }), nil, { step = 1 })
    end, "Adam: state exp_avg_sq of dtype f64 does not match param of dtype f32")
    assert.has_error(function()
      wick._adam_update(a, wick.zeros(2, 3), wick.zeros(2, 3), wick.zeros(2, 3), nil, { step = 1, amsgrad = true, decoupled = true })
    end, "AdamW: amsgrad needs the state max_exp_avg_sq")
    assert.has_error(function()
      wick._adam_update(a, wick.zeros(2, 3), wick.zeros(2, 3), wick.zeros(2, 3), nil, { step = 0 })
    end, "Adam: step must be at least 1 (got 0)")
    assert.has_error(function() wick._sgd_update(a, a, nil, { lr = 0.1, nesterof = true }) end,
      "_sgd_update: unknown option 'nesterof' (did you mean 'nesterov'?)")
  end)

  it("prints like PyTorch", function()
    local opt = optim.SGD({ param({ 1.0 }) }, { lr = 0.1, momentum = 0.9 })
    assert.equal([[SGD (
Parameter Group 0
    dampening: 0
    lr: 0.1
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0
)]], tostring(opt))
  end)
end)
