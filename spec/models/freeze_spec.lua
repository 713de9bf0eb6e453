-- Transfer learning on the model zoo: freeze(pattern, {bn_eval = true}) keeps the frozen
-- BatchNorm layers in eval mode across train(), gradients reach only the head, and summary()
-- reports trainable vs frozen per layer.
local wick = require("wick")

local function bn_modes(m)
  local out = {}
  for _, item in ipairs(m:named_modules()) do
    if item[2]:type_name() == "BatchNorm2d" then out[item[1]] = item[2].training end
  end
  return out
end

describe("freeze with bn_eval", function()
  it("keeps frozen BatchNorm layers in eval mode after train()", function()
    wick.manual_seed(0)
    local m = wick.models.resnet18 { num_classes = 4 }
    m:freeze("*", { bn_eval = true }):unfreeze("fc")
    m:train()
    assert.is_true(m.training)
    assert.is_true(m.fc.training)
    for name, training in pairs(bn_modes(m)) do assert.is_false(training, name) end
    -- running statistics do not move, and the frozen body computes as in eval mode
    local before = m.bn1.running_mean:clone()
    local x = wick.randn(2, 3, 32, 32)
    local y = m(x)
    assert.are.equal(0, m.bn1.num_batches_tracked:item())
    assert.are.equal(0, (m.bn1.running_mean - before):abs():max():item())
    local y_eval = wick.no_grad(function() return m:eval()(x) end)
    assert.is_true((y:detach() - y_eval):abs():max():item() < 1e-6)
    m:train()
    y:sum():backward()
    assert.is_not_nil(m.fc.weight.grad)
    assert.is_nil(m.conv1.weight.grad)
    assert.is_nil(m.layer4[1].bn2.weight.grad)
  end)

  it("unfreeze releases the pinned BatchNorm layers; plain freeze pins nothing", function()
    local m = wick.models.resnet18 { num_classes = 4 }
    m:freeze("*", { bn_eval = true })
    m:unfreeze("layer4")
    m:train()
    local modes = bn_modes(m)
    assert.is_true(modes["layer4.0.bn1"])
    assert.is_true(modes["layer4.1.downsample.0"] == nil)
    assert.is_true(modes["layer4.0.downsample.1"])
    assert.is_false(modes["layer3.1.bn2"])
    assert.is_false(modes["bn1"])
    -- a layer is pinned only when all its parameters were frozen by that call
    local m2 = wick.models.resnet18 { num_classes = 4 }
    m2:freeze("bn1.weight", { bn_eval = true }):train()
    assert.is_true(m2.bn1.training)
    m2:freeze("layer1", { bn_eval = false }):train()
    for name, training in pairs(bn_modes(m2)) do assert.is_true(training, name) end
    m2:eval():train()
    assert.is_true(m2.layer1[0].bn1.training)
  end)

  it("pins affine = false BatchNorm layers by their buffer names", function()
    local nn = wick.nn
    local m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, { affine = false }), nn.Linear(2, 2))
    m:freeze("0", { bn_eval = true }):train()
    assert.is_true(m[1].training)
    m:freeze("*", { bn_eval = true }):unfreeze("2"):train()
    assert.is_false(m[1].training)
    assert.is_true(m[2].training)
  end)

  it("checks its options", function()
    local m = wick.models.resnet18 { num_classes = 4 }
    assert.has_error(function() m:freeze("fc", { bn_evl = true }) end,
      "freeze: unknown option 'bn_evl' (did you mean 'bn_eval'?)")
    assert.has_error(function() m:unfreeze("fc", { bn_eval = true }) end,
      "unfreeze: expected glob patterns only (no options table)")
  end)

  it("summary shows trainable vs frozen per layer", function()
    local m = wick.models.resnet18 { num_classes = 4 }
    m:freeze("*", { bn_eval = true }):unfreeze("fc")
    m:train()
    local s = m:summary({ 1, 3, 32, 32 }, { print = false })
    local rows = {}
    for _, r in ipairs(s.rows) do rows[r.label:match("^%s*(%S+)")] = r end
    assert.are.equal(0, rows["conv1"].trainable)
    assert.are.equal(9408, rows["conv1"].params)
    assert.are.equal(rows["fc"].params, rows["fc"].trainable)
    assert.are.equal(512 * 4 + 4, s.trainable_params)
    assert.are.equal(s.total_params - s.trainable_params, s.frozen_params)
    assert.is_true(m.fc.training)
    assert.is_false(m.bn1.training) -- summary leaves the modes as they were
  end)
end)
