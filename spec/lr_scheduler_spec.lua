-- optim.lr_scheduler: learning rates equal PyTorch 1.13's for the same settings (reference
-- values from spec/ref/lr_scheduler_ref.py), state_dict round trip, and argument errors.
local wick = require("wick")
local optim = wick.optim
local S = optim.lr_scheduler

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"
local refs = dofile(here .. "/ref/lr_scheduler_ref.lua")

local function optimizer(kind)
  local p1, p2 = wick.zeros(2):requires_grad_(), wick.zeros(3):requires_grad_()
  local groups = { { params = { p1 } }, { params = { p2 }, lr = 0.01 } }
  if kind == "adam" then return optim.Adam(groups, { lr = 0.1 }) end
  return optim.SGD(groups, { lr = 0.1, momentum = 0.9 })
end

local makers = {
  StepLR = { "sgd", function(o) return S.StepLR(o, 3, { gamma = 0.5 }) end },
  MultiStepLR = { "sgd", function(o) return S.MultiStepLR(o, { 2, 5, 5, 8 }, { gamma = 0.1 }) end },
  ExponentialLR = { "sgd", function(o) return S.ExponentialLR(o, 0.9) end },
  LambdaLR = { "sgd", function(o) return S.LambdaLR(o, function(e) return 0.95 ^ e end) end },
  LinearLR = { "sgd", function(o)
    return S.LinearLR(o, { start_factor = 0.25, end_factor = 1.0, total_iters = 4 }) end },
  LinearLR_default = { "sgd", function(o) return S.LinearLR(o) end },
  LinearLR_decay = { "sgd", function(o)
    return S.LinearLR(o, { start_factor = 1.0, end_factor = 0.1, total_iters = 5 }) end },
  CosineAnnealingLR = { "sgd", function(o) return S.CosineAnnealingLR(o, 5, { eta_min = 0.001 }) end },
  OneCycleLR = { "sgd", function(o) return S.OneCycleLR(o, { 0.1, 0.05 }, { total_steps = 20 }) end },
  OneCycleLR_three_phase = { "adam", function(o)
    return S.OneCycleLR(o, 0.2, { epochs = 2, steps_per_epoch = 5, three_phase = true,
      anneal_strategy = "linear", pct_start = 0.25 })
  end },
}

local function close(a, b)
  return math.abs(a - b) <= 1e-12 * math.max(math.abs(a), math.abs(b), 1e-300)
end

local function momenta(o, kind)
  local m = {}
  for i, g in ipairs(o.param_groups) do m[i] = kind == "adam" and g.betas[1] or g.momentum end
  return m
end

describe("lr_scheduler: same learning rates as PyTorch", function()
  for _, ref in ipairs(refs) do
    it(ref.name, function()
      local kind, make = makers[ref.name][1], makers[ref.name][2]
      local o = optimizer(kind)
      local s = make(o)
      local got, moms = { s:get_last_lr() }, { momenta(o, kind) }
      for _ = 1, ref.steps do
        o:step()
        s:step()
        got[#got + 1] = s:get_last_lr()
        moms[#moms + 1] = momenta(o, kind)
      end
      for e, want in ipairs(ref.lrs) do
        for gi = 1, 2 do
          if not close(got[e][gi], want[gi]) then
            error(string.format("epoch %d group %d: lr %.17g, PyTorch %.17g", e - 1, gi - 1, got[e][gi], want[gi]))
          end
          if not close(moms[e][gi], ref.momenta[e][gi]) then
            error(string.format("epoch %d group %d: momentum %.17g, PyTorch %.17g", e - 1, gi - 1,
              moms[e][gi], ref.momenta[e][gi]))
          end
        end
      end
      assert.equal(got[#got][1], o.param_groups[1].lr)
    end)
  end
end)

describe("lr_scheduler: behaviour", function()
  it("records initial_lr in the groups and base_lrs", function()
    local o = optimizer("sgd")
    local s = S.StepLR(o, 2)
    assert.same({ 0.1, 0.01 }, s.base_lrs)
    assert.equal(0.1, o.param_groups[1].initial_lr)
    assert.equal(0, s.last_epoch)
  end)

  it("get_last_lr returns a copy", function()
    local o = optimizer("sgd")
    local s = S.StepLR(o, 2)
    local l = s:get_last_lr()
    l[1] = 5
    assert.equal(0.1, s:get_last_lr()[1])
  end)

  it("state_dict round trip resumes the schedule", function()
    local o1 = optimizer("sgd")
    local s1 = S.CosineAnnealingLR(o1, 10)
    for _ = 1, 4 do o1:step(); s1:step() end
    local sd = s1:state_dict()
    assert.is_nil(sd.optimizer)
    assert.equal(4, sd.last_epoch)
    local o2 = optimizer("sgd")
    o2:load_state_dict(o1:state_dict())
    local s2 = S.CosineAnnealingLR(o2, 10)
    s2:load_state_dict(sd)
    for _ = 1, 3 do s1:step(); s2:step() end
    assert.same(s1:get_last_lr(), s2:get_last_lr())
    assert.equal(o1.param_groups[2].lr, o2.param_groups[2].lr)
  end)

  it("schedules the lr the optimizer uses", function()
    local p = wick.tensor({ 1.0 }):requires_grad_()
    local o = optim.SGD({ p }, { lr = 1.0 })
    local s = S.StepLR(o, 1, { gamma = 0.5 })
    for _ = 1, 3 do
      p.grad = wick.tensor({ 1.0 })
      o:step()
      s:step()
    end
    -- 1 - 1 - 0.5 - 0.25
    assert.equal(-0.75, p:item())
  end)

  it("resuming needs initial_lr", function()
    local o = optimizer("sgd")
    assert.has_error(function() S.StepLR(o, 2, { last_epoch = 3 }) end,
      "StepLR: param 'initial_lr' is not specified in param_groups[0] when resuming an optimizer")
  end)

  it("rejects bad arguments", function()
    local o = optimizer("sgd")
    assert.has_error(function() S.StepLR({}, 2) end, "StepLR: expected an optimizer (got table)")
    assert.has_error(function() S.StepLR(o, 0) end, "StepLR: step_size must be a positive integer (got 0)")
    assert.has_error(function() S.StepLR(o, 2, { gama = 0.1 }) end,
      "StepLR: unknown option 'gama' (did you mean 'gamma'?)")
    assert.has_error(function() S.LinearLR(o, { start_factor = 2 }) end,
      "LinearLR: Starting multiplicative factor expected to be between 0 and 1.")
    assert.has_error(function() S.OneCycleLR(o, 0.1) end,
      "OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)")
    assert.has_error(function() S.OneCycleLR(o, 0.1, { total_steps = 0 }) end,
      "OneCycleLR: Expected positive integer total_steps, but got 0")
    assert.has_error(function() S.OneCycleLR(o, { 0.1 }, { total_steps = 5 }) end,
      "OneCycleLR: expected 2 values for max_lr, got 1")
    assert.has_error(function() S.OneCycleLR(o, 0.1, { total_steps = 5, anneal_strategy = "exp" }) end,
      "OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got exp")
  end)

  it("OneCycleLR refuses to step past total_steps", function()
    local s = S.OneCycleLR(optimizer("sgd"), 0.1, { total_steps = 2 })
    s:step()
    s:step()
    assert.has_error(function() s:step() end,
      "OneCycleLR: Tried to step 4 times. The specified number of total steps is 2")
  end)
end)
