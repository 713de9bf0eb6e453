-- DataLoader(num_workers > 0): forked workers give the same batches in the same order as
-- num_workers = 0; errors, deaths and timeouts in a worker surface in the parent with the
-- worker's number; workers are seeded like PyTorch's and are gone when the epoch ends.
local helpers = require("helpers")
local data = wick.data

local err = require("helpers").err

-- every batch of one epoch, as plain Lua values (tensors as {dtype, shape, values})
local function plain(v)
  if wick.is_tensor(v) then return { v.dtype, v.shape, v:tolist() } end
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = plain(x) end
  return t
end

local function epoch(loader)
  local out = {}
  local f, s, c, closer <close> = loader:iter()
  while true do
    local r = table.pack(f(s, c))
    if r[1] == nil then break end
    out[#out + 1] = { r[1], plain(table.pack(table.unpack(r, 2, r.n))) }
  end
  return out
end

-- the process ids of this process's children
local function children()
  local pid = helpers.pid()
  local f = io.open(("/proc/%d/task/%d/children"):format(pid, pid))
  if not f then return nil end
  local s = f:read("a")
  f:close()
  local out = {}
  for p in s:gmatch("%d+") do out[#out + 1] = tonumber(p) end
  return out
end

-- a dataset in plain Lua: tensors, numbers, strings, booleans and tables in each sample
local function lua_dataset(n, get)
  return setmetatable({}, {
    __len = function() return n end,
    __index = { get = get or function(_, i)
      return wick.arange(6):float():reshape(2, 3):t() * i, i, { name = "s" .. i, odd = i % 2 == 1, w = i / 4 }
    end },
  })
end

describe("DataLoader workers", function()
  local ds = data.TensorDataset(wick.randn(50, 3, 4), wick.arange(50))

  it("give the batches of num_workers = 0, in the same order", function()
    for _, opts in ipairs({
      { batch_size = 4 },
      { batch_size = 7, shuffle = true, seed = 3 },
      { batch_size = 5, shuffle = true, seed = 1, drop_last = true, prefetch_factor = 1 },
      { batch_size = 1 },
    }) do
      local want = epoch(data.DataLoader(ds, opts))
      for _, nw in ipairs({ 1, 2, 3 }) do
        opts.num_workers = nw
        assert.are.same(want, epoch(data.DataLoader(ds, opts)))
      end
      opts.num_workers = nil
    end
  end)

  it("send every kind of value a collate returns", function()
    local lds = lua_dataset(9)
    local want = epoch(data.DataLoader(lds, { batch_size = 4 }))
    assert.are.same(want, epoch(data.DataLoader(lds, { batch_size = 4, num_workers = 2 })))
    local function collate(samples)
      return { n = #samples, nested = { { true, false }, "x" }, big = 2 ^ 60, f = 0.1, [3] = wick.tensor(true) },
        nil, samples[1][1]
    end
    want = epoch(data.DataLoader(lds, { batch_size = 2, collate = collate }))
    assert.are.same(want, epoch(data.DataLoader(lds, { batch_size = 2, collate = collate, num_workers = 3 })))
    assert.are.equal(3, want[1][2].n)
  end)

  it("grow their shared memory for large batches", function()
    -- 3 rows of 100000 f32 are more than the first 1 MiB of a slot
    local big = data.TensorDataset(wick.randn(6, 100000))
    local steps = 0
    for step, x in data.DataLoader(big, { batch_size = 3, num_workers = 2 }):iter() do
      assert.is_true(wick.equal(big.tensors[1]:narrow(0, step * 3, 3), x))
      steps = steps + 1
    end
    assert.are.equal(2, steps)
  end)

  it("load FashionMNIST like the main process", function()
    local f = io.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb")
    if not f then pending("dataset-fashion-mnist not installed"); return end
    f:close()
    local test = data.FashionMNIST(nil, "test")
    local a, b = {}, {}
    for step, x, y in data.DataLoader(test, { batch_size = 500, shuffle = true, seed = 9 }):iter() do a[step] = { x, y } end
    for step, x, y in data.DataLoader(test, { batch_size = 500, shuffle = true, seed = 9, num_workers = 2 }):iter() do
      assert.is_true(wick.equal(a[step][1], x))
      assert.is_true(wick.equal(a[step][2], y))
      b[#b + 1] = step
    end
    assert.are.equal(20, #b)
  end)

  it("report an error raised in ds:get with the worker's message", function()
    local bad = lua_dataset(10, function(_, i)
      if i == 5 then error("bad sample " .. i, 0) end
      return i
    end)
    -- sample 5 is in batch 2, which worker 2 % 2 = 0 computes
    local loader = data.DataLoader(bad, { batch_size = 2, num_workers = 2 })
    local seen = {}
    local msg = err(function() for step in loader:iter() do seen[#seen + 1] = step end end)
    assert.are.same({ 0, 1 }, seen)
    assert.are.equal("DataLoader worker 0: bad sample 5", msg:match("^[^\n]*"))
    assert.matches("\nstack traceback:\n", msg)
    -- the next epoch starts fresh workers
    msg = err(function() for _ in loader:iter() do end end)
    assert.are.equal("DataLoader worker 0: bad sample 5", msg:match("^[^\n]*"))
  end)

  it("report values that cannot leave a worker", function()
    local loader = data.DataLoader(ds, { batch_size = 2, num_workers = 1, collate = function() return print end })
    assert.are.equal("DataLoader worker 0: cannot send a function to the main process " ..
      "(batches hold tensors, numbers, strings, booleans and tables)", err(function() for _ in loader:iter() do end end))
  end)

  it("report a worker that exits or is killed, never hang", function()
    local dying = lua_dataset(8, function(_, i)
      if i == 6 then os.exit(3) end
      return i
    end)
    local msg = err(function() for _ in data.DataLoader(dying, { batch_size = 2, num_workers = 2 }):iter() do end end)
    assert.matches("^DataLoader worker 1 %(pid %d+%) exited unexpectedly with exit code 3$", msg)
    local killed = lua_dataset(8, function(_, i)
      if i == 2 then os.execute("kill -9 " .. helpers.pid()) end
      return i
    end)
    msg = err(function() for _ in data.DataLoader(killed, { batch_size = 2, num_workers = 3 }):iter() do end end)
    assert.matches("^DataLoader worker 1 %(pid %d+%) was killed by signal 9 %(Killed%)$", msg)
  end)

  it("time out when asked to", function()
    local slow = lua_dataset(2, function(_, i)
      os.execute("sleep 3")
      return i
    end)
    local t0 = wick.perf_counter()
    assert.are.equal("DataLoader timed out after 0.3 seconds waiting for batch 0 from worker 0",
      err(function() for _ in data.DataLoader(slow, { num_workers = 2, timeout = 0.3 }):iter() do end end))
    assert.is_true(wick.perf_counter() - t0 < 2)
  end)

  it("are seeded per worker from the loader's generator, and know who they are", function()
    local rnd = lua_dataset(8, function(_, i)
      local info = data.get_worker_info()
      return wick.rand(1):item(), info.id, info.num_workers, math.random(1000)
    end)
    local function run()
      local out = {}
      for _, r, id, nw, m in data.DataLoader(rnd, { batch_size = 2, num_workers = 2, seed = 4 }):iter() do
        out[#out + 1] = { r:tolist(), id:tolist(), nw:tolist(), m:tolist() }
      end
      return out
    end
    local a = run()
    assert.are.same(a, run())
    assert.are.same({ 0, 0 }, a[1][2])
    assert.are.same({ 1, 1 }, a[2][2])
    assert.are.same({ 2, 2 }, a[1][3])
    -- the two workers draw different numbers
    assert.are_not.same(a[1][1], a[2][1])
    assert.is_nil(data.get_worker_info())
  end)

  it("run worker_init_fn in each worker, and report its errors", function()
    local got = {}
    local ids = lua_dataset(4, function(_, i) return i, _G.worker_tag end)
    local loader = data.DataLoader(ids, { batch_size = 1, num_workers = 2,
      worker_init_fn = function(id) _G.worker_tag = "w" .. id end })
    for _, i, tag in loader:iter() do got[#got + 1] = tag[1] end
    assert.are.same({ "w0", "w1", "w0", "w1" }, got)
    assert.is_nil(_G.worker_tag)
    loader = data.DataLoader(ids, { num_workers = 1, worker_init_fn = function() error("no init", 0) end })
    assert.are.equal("DataLoader worker 0: no init", err(function() for _ in loader:iter() do end end):match("^[^\n]*"))
  end)

  it("are gone when the epoch ends, is left, or fails", function()
    local before = children()
    if not before then pending("/proc/<pid>/task/<pid>/children is not available"); return end
    local loader = data.DataLoader(ds, { batch_size = 2, num_workers = 3 })
    for step in loader:iter() do
      if step == 0 then assert.are.equal(#before + 3, #children()) end
      if step == 2 then break end
    end
    assert.are.same(before, children())
    for _ in loader:iter() do end
    assert.are.same(before, children())
    pcall(function() for _ in loader:iter() do error("boom") end end)
    assert.are.same(before, children())
    -- an iterator dropped without ending its loop: loader:close() (or the GC) stops its workers
    local f, s, c = loader:iter()
    assert.are.equal(0, (f(s, c)))
    assert.are.equal(#before + 3, #children())
    loader:close()
    assert.are.same(before, children())
  end)

  it("of two loaders open at once do not hold each other up", function()
    local a = data.DataLoader(ds, { batch_size = 2, num_workers = 2 })
    local b = data.DataLoader(ds, { batch_size = 2, num_workers = 2 })
    local fa, sa, ca = a:iter()
    assert.are.equal(0, (fa(sa, ca)))
    local fb, sb, cb = b:iter()
    assert.are.equal(0, (fb(sb, cb)))
    -- a's idle workers leave as soon as their sockets close (b's workers hold no copies)
    local t0 = wick.perf_counter()
    a:close()
    assert.is_true(wick.perf_counter() - t0 < 0.3)
    assert.are.equal(1, (fb(sb, 0)))
    b:close()
    -- an epoch of one loader inside the epoch of another
    local inner = data.DataLoader(ds, { batch_size = 10, num_workers = 2 })
    local n = 0
    for step in a:iter() do
      if step == 1 then for _ in inner:iter() do n = n + 1 end end
    end
    assert.are.equal(5, n)
  end)

  it("print once, from the worker", function()
    local code = [[
      local ds = setmetatable({}, { __len = function() return 2 end,
        __index = { get = function(_, i) print("get " .. i); return i end } })
      io.write("before ")
      for _ in wick.data.DataLoader(ds, { num_workers = 1 }):iter() do end
      print("after")
    ]]
    local out = helpers.wick(("-e %q"):format(code))
    assert.are.equal("before get 0\nget 1\nafter\n", out)
  end)
end)
