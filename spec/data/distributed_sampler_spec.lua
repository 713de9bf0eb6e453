-- DistributedSampler: PyTorch's test vectors (notes/pytorch-dist.md §1), argument errors, the
-- DataLoader protocol, and a live comparison with torch 1.13 (spec/ref/distributed_sampler_ref.py).
local data = wick.data
local here = debug.getinfo(1, "S").source:match("^@(.*)/data/[^/]*$") or "spec"

local err = require("helpers").err

local function ranks(n, r, opts, epoch)
  local out = {}
  for rank = 0, r - 1 do
    local o = { num_replicas = r, rank = rank }
    for k, v in pairs(opts or {}) do o[k] = v end
    local s = data.DistributedSampler(n, o)
    if epoch then s:set_epoch(epoch) end
    out[rank + 1] = s:indices():tolist()
  end
  return out
end

describe("DistributedSampler", function()
  it("matches PyTorch's test vectors", function()
    assert.are.same({ { 4, 5, 0, 2 }, { 1, 3, 8, 4 }, { 7, 9, 6, 1 } }, ranks(10, 3))
    assert.are.same({ { 5, 2, 9, 4 }, { 6, 0, 3, 5 }, { 1, 8, 7, 6 } }, ranks(10, 3, nil, 1))
    assert.are.same({ { 4, 5, 0 }, { 1, 3, 8 }, { 7, 9, 6 } }, ranks(10, 3, { drop_last = true }))
    assert.are.same({ { 0, 4, 8 }, { 1, 5, 9 }, { 2, 6, 0 }, { 3, 7, 1 } }, ranks(10, 4, { shuffle = false }))
    assert.are.same({ { 0 }, { 1 }, { 0 }, { 1 }, { 0 } }, ranks(2, 5, { shuffle = false }))
    assert.are.same({ {}, {}, {}, {}, {} }, ranks(2, 5, { drop_last = true }))
    assert.are.same({ { 1, 5, 2 }, { 6, 4, 1 }, { 3, 0, 6 } }, ranks(7, 3, { seed = 42 }))
  end)

  it("pads cyclically when the padding exceeds the dataset", function()
    assert.are.same({ { 0 }, { 1 }, { 2 }, { 0 }, { 1 }, { 2 }, { 0 } }, ranks(3, 7, { shuffle = false }))
  end)

  it("has #sampler, set_epoch, iter and works as a DataLoader sampler", function()
    local s = data.DistributedSampler(10, { num_replicas = 3, rank = 1 })
    assert.are.equal(4, #s)
    local seen = {}
    for i in s:iter() do seen[#seen + 1] = i end
    assert.are.same({ 1, 3, 8, 4 }, seen)
    s:set_epoch(1)
    assert.are.same({ 6, 0, 3, 5 }, s:indices():tolist())
    assert.are.equal(3, #data.DistributedSampler(10, { num_replicas = 3, rank = 0, drop_last = true }))
    local ds = data.TensorDataset(wick.arange(10))
    local loader = data.DataLoader(ds, { batch_size = 3, sampler = data.DistributedSampler(ds, { num_replicas = 3, rank = 2 }) })
    assert.are.equal(2, #loader)
    local got = {}
    for _, x in loader:iter() do
      for _, v in ipairs(x:tolist()) do got[#got + 1] = v end
    end
    assert.are.same({ 7, 9, 6, 1 }, got)
    assert.are.equal("DataLoader: sampler option is mutually exclusive with shuffle",
      err(data.DataLoader, ds, { shuffle = true, sampler = data.DistributedSampler(ds, { num_replicas = 1, rank = 0 }) }))
  end)

  it("raises PyTorch's errors", function()
    assert.are.equal("DistributedSampler: Invalid rank 4, rank should be in the interval [0, 3]",
      err(data.DistributedSampler, 10, { num_replicas = 4, rank = 4 }))
    assert.are.equal("DistributedSampler: Invalid rank -1, rank should be in the interval [0, 1]",
      err(data.DistributedSampler, 10, { num_replicas = 2, rank = -1 }))
    assert.are.equal("DistributedSampler: num_replicas must be >= 1 (got 0)",
      err(data.DistributedSampler, 10, { num_replicas = 0, rank = 0 }))
    assert.are.equal("DistributedSampler: seed must be an integer (got 1.5)",
      err(data.DistributedSampler, 10, { num_replicas = 1, rank = 0, seed = 1.5 }))
    assert.are.equal("DistributedSampler: shuffle must be a boolean (got number)",
      err(data.DistributedSampler, 10, { num_replicas = 1, rank = 0, shuffle = 1 }))
    assert.matches("unknown option 'num_replica'", err(data.DistributedSampler, 10, { num_replica = 2 }), 1, true)
  end)

  it("takes rank and world size from the environment or the default group", function()
    if os.getenv("RANK") or os.getenv("WORLD_SIZE") then pending("run inside a launcher") return end
    if not wick.dist.is_initialized() then
      assert.are.equal("DistributedSampler: Default process group has not been initialized, please make sure to call init_process_group.",
        err(data.DistributedSampler, 10))
    end
    wick.dist.init_process_group()
    local s = data.DistributedSampler(10)
    assert.are.equal(1, s.num_replicas)
    assert.are.equal(0, s.rank)
    wick.dist.destroy_process_group()
  end)
end)

describe("DistributedSampler: live comparison with python3-torch", function()
  local py = os.getenv("WICK_TORCH_PYTHON") or "/usr/bin/python3"
  it("gives torch's indices for every (N, R, rank, seed, epoch, shuffle, drop_last)", function()
    if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") ~= true then
      pending("python3-torch not installed") return
    end
    local p = io.popen(("%s %s/ref/distributed_sampler_ref.py 2>&1"):format(py, here))
    local src = p:read("a")
    p:close()
    local cases = assert(load(src, "distributed_sampler_ref"))()
    assert.is_true(#cases > 500)
    for _, c in ipairs(cases) do
      local got = ranks(c.n, c.r, { seed = c.seed, shuffle = c.shuffle, drop_last = c.drop_last }, c.epoch)
      assert.are.same(c.ranks, got, string.format("N=%d R=%d seed=%d epoch=%d shuffle=%s drop_last=%s",
        c.n, c.r, c.seed, c.epoch, tostring(c.shuffle), tostring(c.drop_last)))
    end
  end)
end)
