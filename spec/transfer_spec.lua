-- recipes/transfer_fashion.lua in a bounded form (fewer steps and test images): pretraining on
-- Fashion-MNIST classes 0-4 helps on classes 5-9, the frozen extractor is left bit-identical,
-- only the unfrozen layers train, with the config's per-group learning rates.
local helpers = require("helpers")

local root = debug.getinfo(1, "S").source:match("^@(.*)/spec/transfer_spec%.lua$") or "."
local have_data = io.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ~= nil

describe("recipes/transfer_fashion.lua", function()
  it("beats training from scratch with the same budget, training only what is not frozen", function()
    if not have_data then pending("dataset-fashion-mnist not installed"); return end
    local r = dofile(root .. "/recipes/transfer_fashion.lua")
    r.dir = root .. "/recipes" -- as wick run sets it
    local res = r:run { overrides = { "pretrain.steps=150", "transfer.steps=20", "test_samples=1000" } }
    -- the benefit of pretraining (5-9 points at these settings; seeds fixed, so reproducible)
    assert.is_true(res.pretrain_accuracy > 0.75, tostring(res.pretrain_accuracy))
    assert.is_true(res.transfer_accuracy > res.scratch_accuracy + 0.02,
      ("transfer %.4f, scratch %.4f"):format(res.transfer_accuracy, res.scratch_accuracy))
    assert.are.equal(res.transfer_accuracy - res.scratch_accuracy, res.gain)
    -- freeze patterns from the config: the convolutions, bit-identical after training, no grad
    local frozen = {}
    for name in pairs(res.frozen_before) do frozen[#frozen + 1] = name end
    table.sort(frozen)
    assert.are.same({ "0.bias", "0.weight", "3.bias", "3.weight" }, frozen)
    local params = {}
    for _, item in ipairs(res.model:named_parameters()) do params[item[1]] = item[2] end
    for name, before in pairs(res.frozen_before) do
      assert.is_false(params[name].requires_grad, name)
      assert.is_nil(params[name].grad, name)
      assert.is_true(params[name]:equal(before), name .. " changed")
    end
    -- the trained layers have gradients
    for _, name in ipairs { "7.weight", "7.bias", "9.weight", "9.bias" } do
      assert.is_true(params[name].requires_grad, name)
      assert.is_truthy(params[name].grad, name)
    end
  end)

  it("takes its freeze patterns and learning rates from the config, with clear errors", function()
    if not have_data then pending("dataset-fashion-mnist not installed"); return end
    local r = dofile(root .. "/recipes/transfer_fashion.lua")
    r.dir = root .. "/recipes" -- as wick run sets it
    local small = { "pretrain.steps=1", "transfer.steps=1", "test_samples=10" }
    local function with(...)
      local o = table.move(small, 1, #small, 1, {})
      for _, s in ipairs { ... } do o[#o + 1] = s end
      return o
    end
    -- everything but the head frozen: one group suffices
    local res = r:run { overrides = with('transfer.freeze=["0", "3", "7"]', 'transfer.groups=[{params: "9", lr: 0.1}]') }
    local n = 0
    for _ in pairs(res.frozen_before) do n = n + 1 end
    assert.are.equal(6, n)
    assert.are.equal("transfer_fashion: trainable parameter '7.weight' is in no group of transfer.groups",
      helpers.err(r.run, r, { overrides = with('transfer.groups=[{params: "9", lr: 0.1}]') }))
    assert.are.equal("transfer_fashion: group 1 (0) selects no trainable parameter",
      helpers.err(r.run, r, { overrides = with('transfer.groups=[{params: "0", lr: 0.1}, {params: ["7", "9"], lr: 0.1}]') }))
    assert.are.equal("freeze: pattern 'features.*' matches no parameter (names start with: 0, 3, 7, 9)",
      helpers.err(r.run, r, { overrides = with('transfer.freeze=["features.*"]') }))
  end)
end)
