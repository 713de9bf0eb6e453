-- DataLoader (num_workers = 0): batching, #loader, drop_last, samplers, seeded shuffling with
-- PyTorch's orders (spec/ref/data_ref.py), collate, option errors, and the progress bar.
local helpers = require("helpers")
local data = wick.data

local err = require("helpers").err

local ds = data.TensorDataset(wick.arange(20):float():reshape(10, 2), wick.arange(10))

-- the label batches of each epoch
local function epochs(loader, n)
  local out = {}
  for e = 1, n or 1 do
    local ep = {}
    for _, _, y in loader:iter() do ep[#ep + 1] = y:tolist() end
    out[e] = ep
  end
  return out
end

-- a dataset in plain Lua, without get_batch
local function lua_dataset(n)
  return setmetatable({}, {
    __len = function() return n end,
    __index = { get = function(_, i) return wick.full({ 2 }, i * 1.0), i, "s" .. i end },
  })
end

describe("DataLoader", function()
  it("batches in order, with a 0-based step", function()
    local loader = data.DataLoader(ds, { batch_size = 4 })
    assert.are.equal(3, #loader)
    local steps, sizes = {}, {}
    for step, x, y in loader:iter() do
      steps[#steps + 1] = step
      sizes[#sizes + 1] = x:size(0)
      assert.are.same({ x:size(0), 2 }, x.shape)
      assert.are.equal(y:size(0), x:size(0))
    end
    assert.are.same({ 0, 1, 2 }, steps)
    assert.are.same({ 4, 4, 2 }, sizes)
    assert.are.same({ { { 0, 1, 2, 3 }, { 4, 5, 6, 7 }, { 8, 9 } } }, epochs(loader))
  end)

  it("drops the last partial batch with drop_last", function()
    local loader = data.DataLoader(ds, { batch_size = 4, drop_last = true })
    assert.are.equal(2, #loader)
    assert.are.same({ { { 0, 1, 2, 3 }, { 4, 5, 6, 7 } } }, epochs(loader))
    assert.are.equal(0, #data.DataLoader(ds, { batch_size = 11, drop_last = true }))
    assert.are.same({ {} }, epochs(data.DataLoader(ds, { batch_size = 11, drop_last = true })))
  end)

  it("defaults to batches of 1", function()
    local loader = data.DataLoader(ds)
    assert.are.equal(10, #loader)
    for _, x in loader:iter() do assert.are.same({ 1, 2 }, x.shape) end
  end)

  it("shuffles like PyTorch's DataLoader with the same seed", function()
    local want = { { { 3, 7, 5, 2 }, { 0, 8, 1, 6 }, { 9, 4 } }, { { 1, 3, 2, 7 }, { 5, 9, 0, 6 }, { 4, 8 } } }
    assert.are.same(want, epochs(data.DataLoader(ds, { batch_size = 4, shuffle = true, seed = 0 }), 2))
    assert.are.same(want, epochs(data.DataLoader(ds, { batch_size = 4, shuffle = true,
      generator = wick.Generator():manual_seed(0) }), 2))
    assert.are.same({ { { 7, 4, 8 }, { 1, 2, 3 }, { 6, 5, 9 } }, { { 2, 1, 6 }, { 3, 5, 9 }, { 4, 7, 8 } } },
      epochs(data.DataLoader(ds, { batch_size = 3, shuffle = true, drop_last = true, seed = 5 }), 2))
    wick.manual_seed(0)
    assert.are.same({ { { 6, 7, 1, 4 }, { 2, 0, 9, 8 }, { 3, 5 } }, { { 2, 4, 7, 0 }, { 8, 9, 5, 3 }, { 6, 1 } } },
      epochs(data.DataLoader(ds, { batch_size = 4, shuffle = true }), 2))
  end)

  it("takes a sampler: any object with # and indices()", function()
    local reverse = setmetatable({}, { __len = function() return 5 end,
      __index = { indices = function() return { 9, 7, 5, 3, 1 } end } })
    assert.are.same({ { { 9, 7 }, { 5, 3 }, { 1 } } }, epochs(data.DataLoader(ds, { batch_size = 2, sampler = reverse })))
    assert.are.equal(3, #data.DataLoader(ds, { batch_size = 2, sampler = reverse }))
    local rs = data.RandomSampler(ds, { generator = wick.Generator():manual_seed(0), num_samples = 4 })
    assert.are.equal(1, #data.DataLoader(ds, { batch_size = 4, sampler = rs }))
  end)

  it("collates samples of datasets without get_batch", function()
    local loader = data.DataLoader(lua_dataset(5), { batch_size = 2 })
    local got = {}
    for step, x, i, s in loader:iter() do
      got[step + 1] = { x.shape, i:tolist(), s }
    end
    assert.are.same({ { { 2, 2 }, { 0, 1 }, { "s0", "s1" } }, { { 2, 2 }, { 2, 3 }, { "s2", "s3" } },
      { { 1, 2 }, { 4 }, { "s4" } } }, got)
  end)

  it("calls a custom collate with the samples, even when the dataset has get_batch", function()
    local seen
    local loader = data.DataLoader(ds, { batch_size = 3, collate = function(samples)
      seen = samples
      local s = 0
      for _, sample in ipairs(samples) do s = s + sample[2]:item() end
      return s, #samples
    end })
    local sums = {}
    for _, s, n in loader:iter() do sums[#sums + 1] = { s, n } end
    assert.are.same({ { 3, 3 }, { 12, 3 }, { 21, 3 }, { 9, 1 } }, sums)
    assert.are.equal(2, seen[1].n)
    assert.are.same({ 18, 19 }, seen[1][1]:tolist())
    local alias = data.DataLoader(ds, { batch_size = 10, collate_fn = function(samples) return #samples end })
    for _, n in alias:iter() do assert.are.equal(10, n) end
  end)

  it("can be left early and iterated again", function()
    local loader = data.DataLoader(ds, { batch_size = 3 })
    for step in loader:iter() do if step == 1 then break end end
    assert.are.same({ { { 0, 1, 2 }, { 3, 4, 5 }, { 6, 7, 8 }, { 9 } } }, epochs(loader))
  end)

  it("checks its options", function()
    assert.are.equal("DataLoader: unknown option 'batchsize' (did you mean 'batch_size'?)",
      err(data.DataLoader, ds, { batchsize = 2 }))
    assert.are.equal("DataLoader: batch_size must be positive (got 0)", err(data.DataLoader, ds, { batch_size = 0 }))
    assert.are.equal("DataLoader: batch_size must be an integer (got float)", err(data.DataLoader, ds, { batch_size = 2.5 }))
    assert.are.equal("DataLoader: num_workers must be >= 0 (got -1)", err(data.DataLoader, ds, { num_workers = -1 }))
    assert.are.equal("DataLoader: shuffle must be a boolean (got string)", err(data.DataLoader, ds, { shuffle = "yes" }))
    assert.are.equal("DataLoader: sampler option is mutually exclusive with shuffle",
      err(data.DataLoader, ds, { shuffle = true, sampler = data.SequentialSampler(ds) }))
    assert.are.equal("DataLoader: give collate or collate_fn, not both",
      err(data.DataLoader, ds, { collate = print, collate_fn = print }))
    assert.are.equal("DataLoader: give seed or generator, not both",
      err(data.DataLoader, ds, { seed = 1, generator = wick.Generator() }))
    assert.are.equal("DataLoader: expected a dataset (got number)", err(data.DataLoader, 5))
    assert.are.equal("DataLoader: sampler must have #sampler and sampler:indices() (got table)",
      err(data.DataLoader, ds, { sampler = {} }))
  end)

  it("prints its shape", function()
    assert.are.equal("DataLoader(3 batches of 4, 0 workers)", tostring(data.DataLoader(ds, { batch_size = 4 })))
  end)
end)

describe("progress bar", function()
  local progress = require("wick.data.progress")

  it("draws step/total, samples/s, ETA and the postfix", function()
    local now = 0
    local out = {}
    local bar = progress.new(4, { desc = "epoch 1", width = 80, interval = 0,
      clock = function() return now end, out = function(s) out[#out + 1] = s end })
    now = 2
    bar:set_postfix({ loss = wick.tensor(0.123456), lr = 0.1 })
    bar:update(1, 128)
    assert.are.equal("\repoch 1:  25%|██▎      | 1/4 [00:02<00:06, 64.0 samples/s, loss=0.1235, lr=0.1]", out[1])
    now = 4
    bar:set_postfix({ loss = 0.5 })
    bar:update(4, 512)
    bar:close()
    assert.are.equal("\repoch 1: 100%|█████████████████████| 4/4 [00:04<00:00, 128 samples/s, loss=0.5]\n", out[#out])
    bar:close()
    assert.are.equal(3, #out)
  end)

  it("leaves the bar out on narrow terminals, and blanks what a longer line left", function()
    local out, now = {}, 0
    local bar = progress.new(2, { width = 30, interval = 0, clock = function() return now end,
      out = function(s) out[#out + 1] = s end })
    now = 1
    bar:set_postfix({ loss = 12.5 })
    bar:update(1, 10)
    bar:set_postfix({})
    bar:update(2, 20)
    assert.are.same({ "\r 50% 1/2 [00:01<00:01, 10.0 samples/s, loss=12.5]",
      "\r100% 2/2 [00:01<00:00, 20.0 samples/s]           " }, out)
  end)

  it("is drawn on stderr when asked for, and silent when not a terminal", function()
    local code = [[
      local ds = wick.data.TensorDataset(wick.zeros(10, 2), wick.zeros(10))
      for _, opts in ipairs({ { batch_size = 4, progress = %s } }) do
        local loader = wick.data.DataLoader(ds, opts)
        for step in loader:iter() do loader:set_postfix({ loss = step * 0.25 }) end
      end
      print(wick.data._isatty(1))
    ]]
    local out, e = helpers.wick(("-e %q"):format(code:format("true")))
    assert.are.equal("false\n", out)
    assert.matches("\r[^\r]* 3/3 %[00:00<00:00, [%d.]+ samples/s, loss=0.5%] *\n$", e)
    out, e = helpers.wick(("-e %q"):format(code:format("nil")))
    assert.are.equal("false\n", out)
    assert.are.equal("", e)
  end)
end)

-- PyTorch's `for x, y in loader:` is `for x, y in loader() do`; what a Python habit writes
-- instead raises with that spelling.
describe("DataLoader loops", function()
  local LOOP = "write 'for x, y in loader() do' (or 'for step, x, y in loader:iter() do' for a 0-based step too)"

  it("loader() yields x, y per batch, an epoch per loop", function()
    local loader = data.DataLoader(ds, { batch_size = 4 })
    for _ = 1, 2 do
      local got = {}
      for x, y in loader() do got[#got + 1] = { x:size(0), y:tolist() } end
      assert.are.same({ { 4, { 0, 1, 2, 3 } }, { 4, { 4, 5, 6, 7 } }, { 2, { 8, 9 } } }, got)
    end
  end)

  it("loader() with workers closes them when the loop breaks", function()
    local loader = data.DataLoader(ds, { batch_size = 2, num_workers = 2 })
    for x, y in loader() do
      assert.are.same({ 0, 1 }, y:tolist())
      break
    end
    local n = 0
    for _ in loader() do n = n + 1 end
    assert.are.equal(5, n)
  end)

  it("`for x, y in loader do` and ipairs(loader) raise with the right spelling", function()
    local loader = data.DataLoader(ds, { batch_size = 4 })
    assert.are.equal("DataLoader: a loader is not an iterator: " .. LOOP,
      err(function() for _ in loader do end end))
    assert.are.equal("DataLoader: loader[1] is not a batch (ipairs(loader) runs no loop): " .. LOOP,
      err(function() for _ in ipairs(loader) do end end))
    assert.is_nil(loader.no_such_field)
    assert.are.equal(4, loader.batch_size)
  end)
end)
