-- nn.DistributedDataParallel on NCCL with one rank: a CUDA module wrapped in DDP over a
-- one-rank NCCL group trains exactly like the bare module (the reducer's bucket all-reduces
-- run through the communicator; averaging over one rank changes nothing).
local nn = wick.nn
local dist = wick.dist

local function need_cuda() return require("gpu")(_ENV).need_cuda(true) end

local function model()
  wick.manual_seed(2)
  return nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 3))
end

local max_diff = require("gpu")(_ENV).max_diff

describe("DDP on NCCL with one rank", function()
  after_each(function() if dist.is_initialized() then dist.destroy_process_group() end end)

  it("trains like the bare CUDA module", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    local x, y = wick.randn({ 16, 10 }):cuda(), wick.randint(0, 3, { 16 }):cuda()
    local ref = model():cuda()
    local ddp = nn.DDP(model():cuda(), { bucket_cap_mb = 0.001 }) -- several buckets
    for _, net in ipairs({ ref, ddp }) do
      local opt = wick.optim.SGD(net:parameters(), { lr = 0.05, momentum = 0.9 })
      for _ = 1, 3 do
        opt:zero_grad()
        nn.functional.cross_entropy(net(x), y):backward()
        opt:step()
      end
    end
    local want, got = ref:state_dict(), ddp:state_dict()
    for k, v in pairs(want) do
      assert.are.equal("cuda:0", got[k].device)
      assert.is_true(max_diff(v, got[k]) < 1e-5, k)
    end
  end)

  it("takes device_ids = {0}: inputs move to the module's device, outputs to output_device", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    local x = wick.randn({ 4, 10 })
    local ref = model():cuda()
    local ddp = nn.parallel.DistributedDataParallel(model():cuda(), { device_ids = { 0 } })
    local out = ddp(x) -- a CPU input, as a tutorial's loader gives it
    assert.are.equal("cuda:0", out.device)
    assert.is_true(max_diff(ref(x:cuda()), out) < 1e-6)
    local to_cpu = nn.DDP(model():cuda(), { device_ids = { "cuda:0" }, output_device = "cpu" })
    assert.are.equal("cpu", to_cpu(x).device)
    local ok, err = pcall(nn.DDP, model():cuda(), { device_ids = { 0, 1 } })
    assert.is_false(ok)
    assert.are.equal("DistributedDataParallel: device_ids can only be nil or contain a single element (got {0, 1})", err)
  end)
end)
