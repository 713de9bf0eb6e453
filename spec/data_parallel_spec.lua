-- nn.DataParallel with "cpu" device ids: replicas run one after the other on the host, so the
-- scatter / replicate / gather path and the reduction of gradients into the original
-- parameters are checked here. CUDA devices are covered by spec/gpu/data_parallel_spec.lua.
local nn = wick.nn
local helpers = require("helpers")

local function model()
  wick.manual_seed(3)
  return nn.Sequential(nn.Linear(4, 12), nn.ReLU(), nn.Linear(12, 2))
end

local function max_diff(a, b) return (a - b):abs():max():item() end

describe("nn.DataParallel on cpu devices", function()
  for _, k in ipairs({ 1, 2, 3, 5 }) do
    it("gives the module's outputs and gradients with " .. k .. " device(s)", function()
      local ref = model()
      local x = wick.randn({ 10, 4 })
      local want = ref(x)
      want:pow(2):sum():backward()

      local m = model()
      local ids = {}
      for i = 1, k do ids[i] = "cpu" end
      local dp = nn.DataParallel(m, { device_ids = ids })
      local got = dp(x)
      assert.are.same({ 10, 2 }, got.shape)
      assert.is_true(max_diff(want, got) < 1e-6)
      got:pow(2):sum():backward()
      local rp = ref:named_parameters()
      for i, item in ipairs(m:named_parameters()) do
        assert.is_not_nil(item[2].grad, item[1])
        assert.is_true(max_diff(rp[i][2].grad, item[2].grad) < 1e-5, item[1])
      end
    end)
  end

  it("replicas are copies: they see the parameters of this step, and only the original gets .grad", function()
    local m = model()
    local seen = {}
    m:register_forward_hook(function(mod, args, out)
      seen[#seen + 1] = mod[0].weight
      return out
    end)
    local dp = nn.DataParallel(m, { device_ids = { "cpu", "cpu", "cpu" } })
    dp(wick.randn({ 6, 4 })):sum():backward()
    assert.are.equal(3, #seen)
    assert.are.equal(m[0].weight, seen[1])
    for i = 2, 3 do
      assert.are_not.equal(m[0].weight, seen[i])
      assert.is_false(seen[i].is_leaf)
      assert.are.equal(0, max_diff(m[0].weight, seen[i]))
    end
    assert.is_not_nil(m[0].weight.grad)
  end)

  it("scatters every tensor argument, passes other arguments to each replica, gathers lists", function()
    local Two = wick.class("Two", nn.Module)
    function Two:__init() nn.Module.__init(self) self.fc = nn.Linear(3, 3) end
    function Two:forward(a, scale, b) return { self.fc(a) * scale, b:sum(1) } end
    local m = Two()
    local dp = nn.DataParallel(m, { device_ids = { "cpu", "cpu" } })
    local a, b = wick.randn({ 5, 3 }), wick.randn({ 5, 4 })
    local out = dp(a, 2, b)
    assert.are.equal(0, max_diff(out[1], m(a, 2, b)[1]))
    assert.are.equal(0, max_diff(out[2], b:sum(1)))
  end)

  it("makes a vector of 0-dim outputs and uses fewer replicas than devices for a small batch", function()
    local calls = 0
    local Loss = wick.class("Loss", nn.Module)
    function Loss:__init() nn.Module.__init(self) self.fc = nn.Linear(2, 1) end
    function Loss:forward(x) calls = calls + 1 return self.fc(x):sum() end
    local dp = nn.DataParallel(Loss(), { device_ids = { "cpu", "cpu", "cpu", "cpu" } })
    local out = dp(wick.randn({ 5, 2 })) -- chunks of 2, 2, 1: three replicas
    assert.are.same({ 3 }, out.shape)
    assert.are.equal(3, calls)
  end)

  it("keeps only the first replica's buffer updates (BatchNorm running stats), as PyTorch", function()
    wick.manual_seed(4)
    local bn = nn.BatchNorm1d(3)
    local x = wick.randn({ 8, 3 })
    local dp = nn.DataParallel(bn, { device_ids = { "cpu", "cpu" } })
    dp(x)
    local alone = nn.BatchNorm1d(3)
    alone(x:narrow(0, 0, 4)) -- the first replica's chunk
    assert.is_true(max_diff(alone.running_mean, bn.running_mean) < 1e-6)
    assert.is_true(max_diff(alone.running_var, bn.running_var) < 1e-6)
    assert.are.equal(1, bn.num_batches_tracked:item())
  end)

  it("names the state dict keys under module. as PyTorch", function()
    local dp = nn.DataParallel(model(), { device_ids = { "cpu" } })
    local keys = {}
    for key in pairs(dp:state_dict()) do keys[#keys + 1] = key end
    table.sort(keys)
    assert.are.same({ "module.0.bias", "module.0.weight", "module.2.bias", "module.2.weight" }, keys)
  end)

  it("rejects bad options and inputs with clear errors", function()
    assert.are.equal("DataParallel: expected a Module (got number)", helpers.err(nn.DataParallel, 1))
    assert.are.equal("DataParallel: device_ids must be a non-empty list of devices (got string)",
      helpers.err(nn.DataParallel, model(), { device_ids = "string" }))
    assert.are.equal("DataParallel: device_ids[2] must be a device such as \"cpu\" or \"cuda:0\" (got tpu)",
      helpers.err(nn.DataParallel, model(), { device_ids = { "cpu", "tpu" } }))
    assert.are.equal("DataParallel: unknown option 'device_id' (did you mean 'device_ids'?)",
      helpers.err(nn.DataParallel, model(), { device_id = { "cpu" } }))
    assert.are.equal("DataParallel: dim must be an integer >= 0 (got -1)",
      helpers.err(nn.DataParallel, model(), { dim = -1 }))
    local dp = nn.DataParallel(model(), { device_ids = { "cpu", "cpu" } })
    assert.are.equal("DataParallel: forward needs at least one tensor argument to scatter", helpers.err(dp, 3))
    assert.are.equal("DataParallel: argument 1 has 0 dimension(s); cannot scatter along dim 0",
      helpers.err(dp, wick.tensor(1.0)))
    local Pair = wick.class("Pair", nn.Module)
    function Pair:forward(a, b) return a end
    local dp2 = nn.DataParallel(Pair(), { device_ids = { "cpu", "cpu", "cpu" } })
    assert.are.equal("DataParallel: argument 2 splits into 2 chunks but an earlier one into 3 (sizes along dim 0 differ)",
      helpers.err(dp2, wick.zeros({ 3, 1 }), wick.zeros({ 2, 1 })))
  end)

  it("requires the module on device_ids[1]", function()
    if not wick.cuda.is_available() then
      -- a module on cpu with device_ids on cuda: the check runs before any CUDA work
      local dp = nn.DataParallel(model(), { device_ids = { 0, 1 } })
      assert.are.same({ "cuda:0", "cuda:1" }, dp.device_ids)
      assert.are.equal("DataParallel: module must have its parameters and buffers on device cuda:0 (device_ids[1]) but found one of them on device: cpu",
        helpers.err(dp, wick.zeros({ 4, 4 })))
    else
      pending("this build has a CUDA device; spec/gpu/data_parallel_spec.lua covers it")
    end
  end)
end)
