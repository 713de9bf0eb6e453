-- wick.cuda, wick.device, autocast and pinned memory on a machine without a CUDA device (the
-- CPU-only build and the CUDA build alike): everything answers, nothing crashes, and every
-- request for the device raises a clear error. spec/gpu/device_spec.lua covers the GPU side.
local wick = require("wick")
local helper = require("wick_run")
local err = require("spec.support.helpers").err

local built = wick.build_info().cuda
local NO_DEVICE = "^cuda: no CUDA device is available %(cudaGetDeviceCount: .+%)$"

-- The error a CUDA request raises here, checked word for word where the build fixes it.
local function assert_no_cuda(msg, op)
  if built then
    assert.matches(op and ("^" .. op .. ": " .. NO_DEVICE:sub(2)) or NO_DEVICE, msg)
  else
    assert.are.equal((op and op .. ": " or "") .. "wick was built without CUDA", msg)
  end
end

describe("wick.cuda without a device", function()
  before_each(function()
    if wick.cuda.is_available() then pending("a CUDA device is present: spec/gpu/device_spec.lua") end
  end)

  it("reports nothing available", function()
    assert.is_false(wick.cuda.is_available())
    assert.are.equal(0, wick.cuda.device_count())
    assert.are.equal(built, wick.cuda.is_built())
  end)

  it("raises a clear error for a CUDA tensor, whichever way it is asked for", function()
    assert_no_cuda(err(wick.zeros, 2, { device = "cuda:0" }))
    assert_no_cuda(err(wick.zeros, 2, { device = "cuda" }))
    assert_no_cuda(err(wick.zeros, 2, { device = wick.device("cuda:0") }))
    local t = wick.ones(3)
    assert_no_cuda(err(t.cuda, t))
    assert_no_cuda(err(t.to, t, "cuda"))
    assert_no_cuda(err(t.to, t, "cuda:1", { non_blocking = true }))
    assert_no_cuda(err(t.to, t, { device = "cuda:0", dtype = "f16" }))
    assert_no_cuda(err(wick.randn, 2, 3, { device = "cuda:0" }))
    assert_no_cuda(err(t.to, t, wick.device("cuda")))
    -- and again: the answer is cached, not a crash the second time
    assert_no_cuda(err(t.cuda, t))
  end)

  it("raises for the device functions and returns zeros for the memory statistics", function()
    for _, name in ipairs({ "current_device", "synchronize", "Stream", "Event", "current_stream",
      "get_device_properties", "get_device_name" }) do
      if built then assert.matches(NO_DEVICE, err(wick.cuda[name]))
      else assert.are.equal((name == "get_device_name" and "get_device_properties" or name)
          .. ": wick was built without CUDA", err(wick.cuda[name])) end
    end
    if built then assert.matches(NO_DEVICE, err(wick.cuda.set_device, 0))
    else assert.are.equal("set_device: wick was built without CUDA", err(wick.cuda.set_device, 0)) end
    assert.are.equal(0, wick.cuda.memory_allocated())
    assert.are.equal(0, wick.cuda.max_memory_allocated())
    assert.are.equal(0, wick.cuda.memory_reserved())
    assert.are.equal(0, wick.cuda.memory_stats().num_device_alloc)
    wick.cuda.reset_peak_memory_stats()
    wick.cuda.empty_cache()
  end)

  it("cannot pin memory, and says why", function()
    local t = wick.arange(6)
    assert.is_false(t:is_pinned())
    assert_no_cuda(err(t.pin_memory, t), "pin_memory")
    if not built then
      assert.are.equal("record_stream: wick was built without CUDA", err(t.record_stream, t))
    end
  end)

  it("DataLoader{pin_memory = true} gives ordinary batches, as PyTorch does without a GPU", function()
    local ds = wick.data.TensorDataset(wick.arange(10):float():view(5, 2), wick.arange(5))
    local loader = wick.data.DataLoader(ds, { batch_size = 2, pin_memory = true })
    local seen = 0
    for step, x, y in loader:iter() do
      assert.is_false(x:is_pinned())
      assert.are.same(y:tolist(), wick.arange(step * 2, math.min(step * 2 + 2, 5)):tolist())
      seen = seen + 1
    end
    assert.are.equal(3, seen)
  end)

  it("wick info says there is no CUDA device", function()
    local r = helper.run({ "info" })
    assert.are.equal(0, r.code, r.err)
    local line = r.out:match("\nCUDA    ([^\n]*)")
    assert.are.equal(built and "yes, no CUDA device available" or "no (built without CUDA)", line)
  end)
end)

describe("wick.device", function()
  it("names a device like torch.device", function()
    local d = wick.device("cuda:1")
    assert.are.equal("cuda:1", tostring(d))
    assert.are.equal("cuda", d.type)
    assert.are.equal(1, d.index)
    assert.are.equal("cpu", tostring(wick.device("cpu")))
    assert.is_nil(wick.device("cpu").index)
    assert.are.equal("cuda:2", tostring(wick.device("cuda", 2)))
    assert.are.equal("cuda:0", tostring(wick.device("cuda")))
    assert.is_true(wick.device("cuda", 1) == d)
    assert.is_false(wick.device("cuda:0") == d)
    assert.is_true(wick._device_is(d, "cuda:1"))
    assert.are.equal(d, wick.device(d))
  end)

  it("is accepted wherever a device name is", function()
    local cpu = wick.device("cpu")
    assert.are.equal("cpu", wick.zeros(2, { device = cpu }).device)
    local t = wick.ones(2):to(cpu, "f64")
    assert.are.equal("f64", t.dtype)
    local m = wick.nn.Linear(2, 3)
    assert.are.equal(m, m:to(cpu))
    assert.are.equal("cpu", m.weight.device)
  end)

  it("rejects bad names and indices", function()
    assert.are.equal("invalid device 'gpu' (expected 'cpu' or 'cuda:N')", err(wick.device, "gpu"))
    assert.are.equal("invalid device 'cuda:x'", err(wick.device, "cuda:x"))
    assert.are.equal("device: 'cuda:0' already has an index", err(wick.device, "cuda:0", 1))
    assert.are.equal("device: the cpu device has no index 1", err(wick.device, "cpu", 1))
  end)
end)

describe("to with non_blocking on the CPU", function()
  it("converts as a blocking copy would", function()
    local t = wick.arange(4)
    local f = t:to("f64", { non_blocking = true })
    assert.are.equal("f64", f.dtype)
    assert.are.same({ 0, 1, 2, 3 }, f:tolist())
    assert.are.equal("to: unknown option 'nonblocking' (did you mean 'non_blocking'?)",
      err(t.to, t, "f64", { nonblocking = true }))
  end)
end)

describe("wick.autocast", function()
  it("computes matmul in bf16 and sends f32 gradients back", function()
    wick.manual_seed(0)
    local a = wick.randn(3, 5, { requires_grad = true })
    local b = wick.randn(5, 4, { requires_grad = true })
    local y = wick.autocast("bf16", function() return a:matmul(b) end)
    assert.are.equal("bf16", y.dtype)
    local want = a:detach():bfloat16():matmul(b:detach():bfloat16())
    assert.is_true(y:detach():equal(want))
    y:float():sum():backward()
    assert.are.equal("f32", a.grad.dtype)
    assert.are.equal("f32", b.grad.dtype)
    -- d(sum(a b))/da = ones @ b^T, with b seen in bf16
    local ga = wick.ones(3, 4):bfloat16():matmul(b:detach():bfloat16():t()):float()
    assert.is_true(a.grad:allclose(ga, {rtol = 1e-2, atol = 1e-2}))
  end)

  it("covers nn.Linear, leaves f64 and the region's outside alone, and restores after errors", function()
    local lin = wick.nn.Linear(4, 2)
    local x = wick.randn(3, 4)
    local y = wick.autocast("f16", function() return lin(x) end)
    assert.is_true(y.dtype == "f16" or y.dtype == "f32") -- bias added in f32 promotes
    assert.is_true(y:float():allclose(lin(x), {rtol = 1e-2, atol = 1e-2}))
    local d = wick.autocast("bf16", function() return x:double():matmul(x:double():t()) end)
    assert.are.equal("f64", d.dtype)
    assert.are.equal("f32", x:matmul(x:t()).dtype)
    local inner = wick.autocast("bf16", function()
      return wick.autocast(false, function() return x:matmul(x:t()) end)
    end)
    assert.are.equal("f32", inner.dtype)
    assert.are.equal("boom", err(wick.autocast, "bf16", function() error("boom", 0) end))
    assert.are.equal("f32", x:matmul(x:t()).dtype)
    assert.is_nil(wick._autocast_get())
  end)

  it("returns every value of the function", function()
    local a, b, n = wick.autocast("bf16", function(p, q) return p, q, select("#", p, q) end, 1, 2)
    assert.are.same({ 1, 2, 2 }, { a, b, n })
  end)

  it("rejects what is not a low-precision dtype", function()
    assert.are.equal("autocast: dtype must be bf16 or f16 (got i64)", err(wick.autocast, "i64", function() end))
    assert.are.equal("autocast: expected a function after the dtype", err(wick.autocast, "bf16"))
    assert.are.equal("autocast: expected a dtype ('bf16' or 'f16') or false, then a function",
      err(wick.autocast, 3, function() end))
  end)
end)
