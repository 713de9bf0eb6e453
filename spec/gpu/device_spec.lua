-- The CUDA runtime on a GPU (src/cuda): devices, the caching allocator (no cudaMalloc in the
-- steady state of a loop), memory statistics, streams and events, copies between host and
-- device for every dtype pair and layout against the CPU's own conversion, pinned memory and
-- non-blocking copies, cuBLAS matmul against the CPU, module:cuda(), autocast.
-- Without a CUDA device every test is pending. WICK_GPU_TWIN=cpu runs the copy and matmul
-- comparisons with the CPU on both sides, which checks this file on machines without a GPU.
local wick = require("wick")
local err = require("helpers").err

local support = require("gpu")(_ENV)
local twin, gpu, cit, git = support.twin, support.gpu, support.cit, support.git
local dev = twin and "cpu" or "cuda:0"

local ALL = { "bool", "u8", "i32", "i64", "f16", "bf16", "f32", "f64" }
local is_float = { f16 = true, bf16 = true, f32 = true, f64 = true }

local function make(dt, shape)
  if dt == "bool" then return wick.randint(0, 2, shape):bool() end
  if is_float[dt] then return (wick.randn(shape) * 40):to(dt) end
  if dt == "u8" then return wick.randint(0, 256, shape):to("u8") end
  return wick.randint(-300, 300, shape):to(dt)
end

local function same(got, want, tol, what)
  local g = got:cpu()
  assert.are.equal(want.dtype, g.dtype, what)
  assert.are.same(want.shape, g.shape, what)
  local ok
  if tol and tol > 0 then
    ok = g:double():isclose(want:double(), { rtol = tol, atol = tol }):all():item()
  else
    ok = g:eq(want):all():item()
  end
  if not ok then
    error(("%s: max |diff| %s"):format(what, (g:double() - want:double()):abs():max():item()), 2)
  end
end

-- the number of cudaMalloc calls so far
local function mallocs() return wick.cuda.memory_stats().num_device_alloc end

local function settle()
  collectgarbage()
  collectgarbage()
  if gpu then wick.cuda.synchronize() end
end

describe("devices", function()
  git("are counted, named and checked", function()
    local n = wick.cuda.device_count()
    assert.is_true(n >= 1)
    assert.are.equal(0, wick.cuda.current_device())
    local p = wick.cuda.get_device_properties(0)
    assert.is_true(#p.name > 0 and p.total_memory > 2 ^ 30 and p.multi_processor_count > 0, p.name)
    assert.are.equal(p.name, wick.cuda.get_device_name())
    assert.are.equal(("cuda: device cuda:%d does not exist (%d CUDA device%s available)"):format(n, n,
      n == 1 and " is" or "s are"), err(wick.zeros, 2, { device = "cuda:" .. n }))
    wick.cuda.set_device(0)
    assert.are.equal("cuda:0", wick.zeros(1, { device = "cuda" }).device)
    assert.are.equal("cuda:0", wick.ones(1):cuda().device)
    assert.is_true(wick.zeros(1, { device = "cuda" }).is_cuda)
  end)

  git("refuse an op on tensors of two devices, naming both", function()
    local a, b = wick.ones(2, { device = "cuda:0" }), wick.ones(2)
    assert.matches("expected all tensors to be on the same device, but found cuda:0 and cpu",
      err(function() return a:matmul(b) end), 1, true)
  end)
end)

describe("the caching allocator", function()
  git("does no cudaMalloc in the steady state of a loop", function()
    local function step()
      local a = wick.zeros(300, 200, { device = dev }) -- small blocks
      local b = wick.ones(200, 3000, { device = dev }) -- large blocks
      local c = a:matmul(b)
      local h = c:to("f64"):cpu()
      return h
    end
    for _ = 1, 3 do step(); settle() end
    local before = mallocs()
    for _ = 1, 40 do step(); settle() end
    assert.are.equal(before, mallocs())
  end)

  git("does no cudaMalloc in the steady state of a training loop", function()
    local nn = wick.nn
    local model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)):cuda()
    local opt = wick.optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
    local loss_fn = nn.CrossEntropyLoss()
    local x, y = wick.randn(32, 64, { device = "cuda" }), wick.randint(0, 10, { 32 }):cuda()
    local function step()
      opt:zero_grad()
      local loss = loss_fn(model(x), y)
      loss:backward()
      opt:step()
      return loss:item()
    end
    local first = step()
    for _ = 1, 4 do step(); settle() end
    local before = mallocs()
    local last
    for _ = 1, 20 do last = step(); settle() end
    assert.are.equal(before, mallocs())
    assert.is_true(last < first, ("loss %g -> %g"):format(first, last))
  end)

  git("keeps the statistics PyTorch keeps", function()
    settle()
    wick.cuda.empty_cache()
    local base = wick.cuda.memory_allocated()
    assert.are.equal(base, wick.cuda.memory_reserved()) -- nothing cached after empty_cache
    local t = wick.zeros(1000, { device = "cuda" }) -- 4000 bytes: one 512-byte step up
    assert.are.equal(base + 4096, wick.cuda.memory_allocated())
    local big = wick.zeros(3 * (1 << 20) // 4 + 1, { device = "cuda" }) -- just over 3 MiB: 4 MiB
    assert.are.equal(base + 4096 + 4 * (1 << 20), wick.cuda.memory_allocated())
    assert.is_true(wick.cuda.max_memory_allocated() >= wick.cuda.memory_allocated())
    t, big = nil, nil
    settle()
    assert.are.equal(base, wick.cuda.memory_allocated())
    assert.is_true(wick.cuda.memory_reserved() >= base + 4096 + 4 * (1 << 20))
    wick.cuda.reset_peak_memory_stats()
    assert.are.equal(base, wick.cuda.max_memory_allocated())
    local reserved = wick.cuda.memory_reserved()
    local again = wick.zeros(1000, { device = "cuda" }) -- served from the cache
    assert.are.equal(reserved, wick.cuda.memory_reserved())
    again = nil
    settle()
    wick.cuda.empty_cache()
    assert.are.equal(wick.cuda.memory_allocated(), wick.cuda.memory_reserved())
    local z = wick.zeros(0, { device = "cuda" })
    assert.are.same({ 0 }, z.shape)
  end)

  git("reports a request it cannot serve and keeps working", function()
    local retries = wick.cuda.memory_stats().num_alloc_retries
    assert.matches("^out of memory allocating %d+ bytes for a f32 tensor of shape %[1099511627776%]$",
      err(wick.zeros, 1 << 40, { device = "cuda" }))
    assert.are.equal(retries + 1, wick.cuda.memory_stats().num_alloc_retries)
    assert.are.same({ 1, 1 }, wick.ones(2, { device = "cuda" }):cpu():tolist())
  end)
end)

describe("copies", function()
  cit("convert every dtype pair as the CPU does, both ways", function()
    for _, from in ipairs(ALL) do
      local x = make(from, { 5, 7 })
      local g = x:to(dev)
      for _, to in ipairs(ALL) do
        local what = from .. " -> " .. to
        same(g:to(to), x:to(to), 0, what .. " on the device")
        same(x:to(dev, to), x:to(to), 0, what .. " host to device")
        same(g:to("cpu", to), x:to(to), 0, what .. " device to host")
      end
    end
  end)

  cit("honour strides on either side", function()
    for _, dt in ipairs({ "f32", "f16", "i64", "u8" }) do
      local x = make(dt, { 6, 8 })
      local views = {
        transposed = function(t) return t:t() end,
        narrowed = function(t) return t:narrow(1, 2, 5) end,
        stepped = function(t) return t:slice(0, 1, 6, 2) end,
        expanded = function(t) return t:narrow(0, 0, 1):expand(4, 8) end,
      }
      for name, view in pairs(views) do
        local want = view(x):contiguous()
        same(view(x):to(dev), want, 0, dt .. " " .. name .. " host to device")
        same(view(x:to(dev)):contiguous(), want, 0, dt .. " " .. name .. " on the device")
        same(view(x:to(dev)):cpu(), want, 0, dt .. " " .. name .. " device to host")
        same(view(x:to(dev)):to("f64"), want:to("f64"), 0, dt .. " " .. name .. " converted on the device")
      end
      -- strided destinations: copy_ into a transposed view, from the host and from the device
      local d = wick.zeros(8, 6, { device = dev, dtype = dt }):t()
      d:copy_(x)
      same(d, x, 0, dt .. " into a transposed device view")
      local h = wick.zeros(8, 6, { dtype = "f64" }):t()
      h:copy_(x:to(dev))
      same(h, x:to("f64"), 0, dt .. " into a transposed host view, converted")
    end
  end)

  cit("fill dense and strided tensors of every dtype", function()
    for _, dt in ipairs(ALL) do
      local v = dt == "bool" and 1 or (dt == "u8" and 200 or -3)
      same(wick.full({ 3, 4 }, v, { device = dev, dtype = dt }), wick.full({ 3, 4 }, v, { dtype = dt }), 0, dt)
      local g = wick.zeros(3, 4, { device = dev, dtype = dt })
      g:narrow(1, 1, 2):fill_(v)
      local c = wick.zeros(3, 4, { dtype = dt })
      c:narrow(1, 1, 2):fill_(v)
      same(g, c, 0, dt .. " strided fill")
    end
    local nz = wick.full({ 2 }, -0.0, { device = dev }):cpu()
    assert.are.equal(-math.huge, 1 / nz[1]:item())
  end)
end)

describe("pinned memory", function()
  git("pins, copies without blocking, and is reused", function()
    local h = wick.arange(1 << 20):float():pin_memory()
    assert.is_true(h:is_pinned())
    assert.is_false(wick.arange(4):is_pinned())
    assert.are.equal(h, h:pin_memory())
    local g = h:to("cuda", { non_blocking = true })
    local back = g:to("cpu", { non_blocking = true })
    wick.cuda.synchronize()
    assert.is_true(back:equal(wick.arange(1 << 20):float()))
    h = nil
    settle()
    local h2 = wick.full({ 1 << 20 }, 5.0):pin_memory() -- the same block, reused
    assert.is_true(h2:to("cuda"):cpu():eq(5):all():item())
    assert.are.equal("pin_memory: only CPU tensors can be pinned (got a tensor on cuda:0)",
      err(g.pin_memory, g))
  end)

  git("DataLoader{pin_memory = true} gives pinned batches", function()
    local ds = wick.data.TensorDataset(wick.randn(10, 3), wick.arange(10))
    for _, x, y in wick.data.DataLoader(ds, { batch_size = 4, pin_memory = true }):iter() do
      assert.is_true(x:is_pinned() and y:is_pinned())
      assert.is_true(x:to("cuda", { non_blocking = true }):cpu():equal(x))
    end
  end)
end)

describe("streams and events", function()
  git("make a stream current inside a function and restore the previous one", function()
    local default = wick.cuda.current_stream()
    assert.is_true(default == wick.cuda.default_stream())
    local s = wick.cuda.Stream()
    assert.is_false(s == default)
    local x = wick.cuda.stream(s, function()
      assert.is_true(wick.cuda.current_stream() == s)
      return wick.full({ 1 << 20 }, 2.0, { device = "cuda" })
    end)
    assert.is_true(wick.cuda.current_stream() == default)
    wick.cuda.current_stream():wait_stream(s)
    assert.is_true((x:cpu()):eq(2):all():item())
    s:synchronize()
    assert.is_true(s:query())
    assert.are.equal("boom", err(wick.cuda.stream, s, function() error("boom", 0) end))
    assert.is_true(wick.cuda.current_stream() == default)
  end)

  git("keep memory used on a side stream from reuse until that stream is done (record_stream)", function()
    local s = wick.cuda.Stream()
    local x = wick.full({ 1 << 22 }, 3.0, { device = "cuda" })
    s:wait_stream(wick.cuda.current_stream())
    local y = wick.cuda.stream(s, function() return x * 2 end)
    x:record_stream(s)
    local ptr_before = wick.cuda.memory_allocated()
    x = nil
    settle() -- synchronizes the device, so the recorded event is done and the block is free again
    local z = wick.zeros(1 << 22, { device = "cuda" })
    assert.are.equal(ptr_before, wick.cuda.memory_allocated())
    wick.cuda.current_stream():wait_stream(s)
    assert.is_true(y:cpu():eq(6):all():item())
    assert.is_true(z:cpu():eq(0):all():item())
    assert.are.equal("record_stream: expected a CUDA tensor (got a tensor on cpu)",
      err(function() wick.ones(2):record_stream(s) end))
  end)

  git("record, wait and time", function()
    local a, b = wick.cuda.Event({ enable_timing = true }), wick.cuda.Event({ enable_timing = true })
    a:record()
    local m = wick.ones(512, 512, { device = "cuda" })
    for _ = 1, 10 do m = m:matmul(m) / 512 end
    b:record()
    b:synchronize()
    assert.is_true(b:query())
    local ms = a:elapsed_time(b)
    assert.is_true(ms >= 0 and ms < 10000, tostring(ms))
    local s = wick.cuda.Stream()
    local e = wick.cuda.Event():record()
    s:wait_event(e)
    e:wait(s)
    wick.cuda.synchronize()
    assert.matches("elapsed_time", err(function()
      local x, y = wick.cuda.Event(), wick.cuda.Event()
      x:record(); y:record(); y:synchronize()
      return x:elapsed_time(y)
    end))
  end)
end)

describe("matmul (cuBLAS)", function()
  local TOL = { f32 = 1e-4, f64 = 1e-10, f16 = 2e-2, bf16 = 5e-2 }
  cit("matches the CPU for every float dtype, layout and batch", function()
    for dt, tol in pairs(TOL) do
      local a, b = wick.randn(3, 20, 30):to(dt), wick.randn(3, 30, 10):to(dt)
      local cases = {
        { a, b },
        { a:transpose(1, 2):contiguous():transpose(1, 2), b },   -- column-major a
        { a, b:transpose(1, 2):contiguous():transpose(1, 2) },   -- column-major b
        { a:narrow(2, 0, 30), b:slice(1, 0, 30) },
        { a[1], b },                                                -- broadcast batch
        { a:select(0, 0), b:select(0, 2) },                         -- plain 2-D
        { a:select(0, 0):select(0, 0), b:select(0, 0) },            -- vector @ matrix
        { a:slice(2, 0, 30, 2), b:slice(1, 0, 30, 2) },             -- no unit stride: copied
      }
      for i, c in ipairs(cases) do
        local want = c[1]:double():matmul(c[2]:double()):to(dt)
        same(c[1]:to(dev):matmul(c[2]:to(dev)), want, tol, dt .. " case " .. i)
      end
    end
    local e = wick.zeros(4, 0, { device = dev }):matmul(wick.zeros(0, 3, { device = dev }))
    same(e, wick.zeros(4, 3), 0, "empty inner dimension")
  end)

  git("under autocast computes in bf16 and sends f32 gradients", function()
    local a = wick.randn(64, 32, { device = "cuda", requires_grad = true })
    local b = wick.randn(32, 16, { device = "cuda" })
    local y = wick.autocast("bf16", function() return a:matmul(b) end)
    assert.are.equal("bf16", y.dtype)
    same(y, a:detach():cpu():bfloat16():double():matmul(b:cpu():bfloat16():double()):bfloat16(), 5e-2, "autocast")
    y:float():sum():backward()
    assert.are.equal("f32", a.grad.dtype)
    assert.are.equal("cuda:0", a.grad.device)
  end)
end)

describe("modules", function()
  git("move with module:cuda() and module:to(device)", function()
    local m = wick.nn.Linear(3, 2)
    local w = m.weight
    assert.are.equal(m, m:cuda())
    assert.are.equal("cuda:0", m.weight.device)
    assert.is_true(rawequal(w, m.weight))
    m:to(wick.device("cpu"))
    assert.are.equal("cpu", m.weight.device)
    m:to(wick.device("cuda:0"))
    assert.are.equal("cuda:0", m.bias.device)
  end)
end)
