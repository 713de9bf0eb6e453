-- nn.DataParallel on CUDA devices: replicas on every GPU of the machine (one on an H100
-- machine), the batch scattered and the outputs gathered on output_device, gradients summed
-- into the original parameters; compared with the same module run on the CPU.
local nn = wick.nn
local helpers = require("helpers")

local gpu = require("gpu")(_ENV)
local need_cuda, max_diff = gpu.need_cuda, gpu.max_diff

local function model()
  wick.manual_seed(11)
  return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4))
end


describe("nn.DataParallel on CUDA", function()
  it("matches the CPU module's outputs and gradients (all GPUs, and cuda:0 listed twice)", function()
    if not need_cuda() then return end
    local x = wick.randn({ 9, 6 })
    local ref = model()
    local want = ref(x)
    want:pow(2):sum():backward()
    local all = {}
    for i = 0, wick.cuda.device_count() - 1 do all[#all + 1] = i end
    for _, ids in ipairs({ all, { "cuda:0", "cuda:0" } }) do
      local m = model():cuda()
      local dp = nn.DataParallel(m, { device_ids = ids })
      local got = dp(x:cuda())
      assert.are.equal("cuda:0", got.device)
      assert.is_true(max_diff(want, got) < 1e-4)
      got:pow(2):sum():backward()
      local rp = ref:named_parameters()
      for i, item in ipairs(m:named_parameters()) do
        assert.are.equal("cuda:0", item[2].grad.device)
        assert.is_true(max_diff(rp[i][2].grad, item[2].grad) < 1e-3, item[1])
      end
    end
  end)

  it("gathers on output_device = cpu, and trains with SGD like the CPU module", function()
    if not need_cuda() then return end
    local x, y = wick.randn({ 8, 6 }), wick.randint(0, 4, { 8 })
    local ref, m = model(), model():cuda()
    local dp = nn.DataParallel(m, { device_ids = { 0, 0 }, output_device = "cpu" })
    for _, net in ipairs({ ref, dp }) do
      local opt = wick.optim.SGD(net:parameters(), { lr = 0.1, momentum = 0.9 })
      for _ = 1, 3 do
        opt:zero_grad()
        local out = net(x)
        assert.are.equal("cpu", out.device)
        nn.functional.cross_entropy(out, y):backward()
        opt:step()
      end
    end
    for k, v in pairs(ref:state_dict()) do
      assert.is_true(max_diff(v, dp:state_dict()["module." .. k]) < 1e-4, k)
    end
  end)

  it("requires the module on device_ids[1]", function()
    if not need_cuda() then return end
    local dp = nn.DataParallel(model(), { device_ids = { 0 } })
    assert.are.equal("DataParallel: module must have its parameters and buffers on device cuda:0 (device_ids[1]) but found one of them on device: cpu",
      helpers.err(dp, wick.zeros({ 2, 6 })))
  end)
end)
