-- Tensors: creation, dtypes and promotion, views, elementwise math, matmul, errors, memory.
local err = require("helpers").err

local function near(a, b, tol) require("helpers").near(a, b, tol or 1e-6) end

describe("creation", function()
  it("infers dtypes from Lua numbers like PyTorch", function()
    assert.are.equal("i64", wick.tensor{1, 2}.dtype)
    assert.are.equal("f32", wick.tensor{1.0, 2}.dtype)
    assert.are.equal("bool", wick.tensor{true, false}.dtype)
    assert.are.equal("f64", wick.tensor({1, 2}, {dtype = "f64"}).dtype)
    assert.are.equal("f32", wick.tensor({1, 2}, {dtype = wick.float32}).dtype)
  end)

  it("builds nested tables with shape and values", function()
    local t = wick.tensor{{1, 2, 3}, {4, 5, 6}}
    assert.are.same({2, 3}, t.shape)
    assert.are.equal(2, t.shape[1])
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, t:tolist())
    assert.are.equal(2, t:dim())
    assert.are.equal(6, t:numel())
    assert.are.equal(3, t:size(1))
    assert.are.equal(3, t:size(-1))
    assert.are.same({3, 1}, t:stride())
  end)

  it("makes 0-d tensors from numbers", function()
    local t = wick.tensor(3.5)
    assert.are.same({}, t.shape)
    assert.are.equal(3.5, t:item())
    assert.are.equal(7, wick.tensor(7):item())
    assert.is_true(math.type(wick.tensor(7):item()) == "integer")
  end)

  it("fills zeros, ones, full, eye, arange, linspace", function()
    assert.are.same({{0, 0, 0}, {0, 0, 0}}, wick.zeros(2, 3):tolist())
    assert.are.same({{1, 1}}, wick.ones({1, 2}):tolist())
    assert.are.equal("f64", wick.zeros(2, {dtype = "f64"}).dtype)
    assert.are.same({7, 7}, wick.full({2}, 7):tolist())
    assert.are.equal("i64", wick.full({2}, 7).dtype)
    assert.are.equal("f32", wick.full({2}, 0.5).dtype)
    assert.are.same({{1, 0}, {0, 1}}, wick.eye(2):tolist())
    assert.are.same({{1, 0, 0}, {0, 1, 0}}, wick.eye(2, 3):tolist())
    assert.are.same({0, 1, 2, 3}, wick.arange(4):tolist())
    assert.are.equal("i64", wick.arange(4).dtype)
    assert.are.same({2, 4, 6}, wick.arange(2, 8, 2):tolist())
    near(wick.arange(0, 1, 0.25):tolist(), {0, 0.25, 0.5, 0.75})
    assert.are.equal("f32", wick.arange(0, 1, 0.25).dtype)
    near(wick.linspace(0, 1, 5):tolist(), {0, 0.25, 0.5, 0.75, 1})
    local z = wick.zeros_like(wick.ones(2, 2, {dtype = "i32"}))
    assert.are.equal("i32", z.dtype)
    assert.are.same({{0, 0}, {0, 0}}, z:tolist())
    assert.are.same({3, 3}, wick.full_like(wick.ones(2), 3):tolist())
  end)

  it("rejects bad input with clear messages", function()
    assert.are.equal("zeros: unknown option 'dtpye' (did you mean 'dtype'?)",
      err(wick.zeros, 2, {dtpye = "f32"}))
    assert.are.equal("unknown dtype 'f31' (expected one of f32, f64, f16, bf16, i64, i32, u8, bool)",
      err(wick.zeros, 2, {dtype = "f31"}))
    assert.are.equal("tensor: negative dimension -2", err(wick.zeros, 2, -2))
    assert.are.equal("zeros: sizes must be integers (got string)", err(wick.zeros, "a"))
    assert.are.equal("tensor: ragged nested tables (expected length 2 at depth 1, got 1)",
      err(wick.tensor, {{1, 2}, {3}}))
    assert.are.equal("tensor: expected numbers or booleans, got string", err(wick.tensor, {1, "x"}))
    if not wick.build_info().cuda then
      assert.are.equal("wick was built without CUDA", err(wick.zeros, 2, {device = "cuda:0"}))
    elseif not wick.cuda.is_available() then -- spec/cuda_cpu_spec.lua has the rest
      assert.matches("^cuda: no CUDA device is available %(cudaGetDeviceCount: .+%)$",
        err(wick.zeros, 2, {device = "cuda:0"}))
    end
    assert.are.equal("invalid device 'gpu' (expected 'cpu' or 'cuda:N')", err(wick.zeros, 2, {device = "gpu"}))
    assert.are.equal("arange: step must be nonzero", err(wick.arange, 0, 1, 0))
    assert.are.equal("arange: cannot make a tensor of 1e+300 elements from start 0, end 1e+300, step 1",
      err(wick.arange, 1e300))
  end)
end)

describe("dtypes", function()
  it("promotes like PyTorch, with Lua numbers as weak scalars", function()
    local i = wick.tensor{1, 2}
    local f = wick.tensor{1.0, 2.0}
    assert.are.equal("i64", (i + 1).dtype)
    assert.are.equal("f32", (i + 1.5).dtype)
    assert.are.equal("f32", (f + 1).dtype)
    assert.are.equal("f32", (f + wick.tensor(2.0, {dtype = "f64"})).dtype) -- 0-d is weak
    assert.are.equal("f64", (f + wick.tensor({2.0}, {dtype = "f64"})).dtype)
    assert.are.equal("f32", (i / 2).dtype)                                 -- true division
    assert.are.equal("f32", (i + f).dtype)
    assert.are.equal("i32", (wick.ones(2, {dtype = "i32"}) + 1).dtype)
    assert.are.equal("bool", i:eq(1).dtype)
  end)

  it("converts between dtypes, including f16 and bf16 storage", function()
    local x = wick.tensor{1.5, -2.25, 65504.0, 1e-8}
    near(x:half():float():tolist(), {1.5, -2.25, 65504, 0}, 1e-6)
    assert.are.equal("f16", x:half().dtype)
    near(x:bfloat16():float():tolist(), {1.5, -2.25, 65536, 1e-8}, 1e-2)
    assert.are.same({1, -2, 65504, 0}, x:long():tolist())
    assert.are.same({true, true, true, true}, x:bool():tolist())
    assert.are.equal("f64", x:to("f64").dtype)
    assert.are.equal("f64", x:to{dtype = "f64"}.dtype)
    assert.are.equal("i64", x:to(wick.tensor{1}).dtype)
    assert.are.same({0, 255, 1}, wick.tensor{0, 255, 1}:byte():tolist())
  end)

  it("keeps the tensor when nothing changes", function()
    local x = wick.ones(2)
    assert.are.equal(x, x:float())
    assert.are.equal(x, x:to("f32"))
    assert.are_not.equal(x, x:to{dtype = "f32", copy = true})
  end)
end)

describe("views", function()
  it("share storage and see writes", function()
    local t = wick.arange(6):view(2, 3)
    local v = t:transpose(0, 1)
    assert.is_true(v:_same_storage(t))
    assert.are.same({3, 2}, v.shape)
    assert.is_false(v:is_contiguous())
    v[0][1] = 100
    assert.are.equal(100, t:tolist()[2][1])
    assert.are.same({{0, 100}, {1, 4}, {2, 5}}, v:tolist())
    assert.are.same({{0, 100}, {1, 4}, {2, 5}}, t.T:tolist())
    assert.are.same({{0, 100}, {1, 4}, {2, 5}}, t:t():tolist())
  end)

  it("reshape copies only when it has to", function()
    local t = wick.arange(6):view(2, 3)
    assert.is_true(t:reshape(3, 2):_same_storage(t))
    assert.is_true(t:reshape(-1):_same_storage(t))
    local r = t:t():reshape(6)
    assert.is_false(r:_same_storage(t))
    assert.are.same({0, 3, 1, 4, 2, 5}, r:tolist())
    assert.are.equal("view: size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces); use reshape instead",
      err(function() return t:t():view(6) end))
    assert.are.equal("view: shape '[4, -1]' is invalid for input of size 6", err(function() return t:view(4, -1) end))
    assert.are.equal("view: only one dimension can be inferred", err(function() return t:view(-1, -1) end))
  end)

  it("unsqueeze, squeeze, expand, flatten, permute, narrow, select, slice", function()
    local t = wick.arange(6):view(2, 3)
    assert.are.same({1, 2, 3}, t:unsqueeze(0).shape)
    assert.are.same({2, 3, 1}, t:unsqueeze(-1).shape)
    assert.are.same({2, 3}, t:unsqueeze(1):squeeze().shape)
    assert.are.same({2, 3}, t:unsqueeze(1):squeeze(1).shape)
    assert.are.same({2, 1, 3}, t:unsqueeze(1):squeeze(0).shape)
    local e = wick.tensor{{1}, {2}}:expand(2, 3)
    assert.are.same({{1, 1, 1}, {2, 2, 2}}, e:tolist())
    assert.are.same({1, 0}, e:stride())
    assert.are.same({4, 2, 3}, t:expand(4, -1, -1).shape)
    assert.are.same({6}, t:flatten().shape)
    assert.are.same({2, 12}, wick.zeros(2, 3, 4):flatten(1).shape)
    assert.are.same({3, 2}, t:permute(1, 0).shape)
    assert.are.same({{1, 2}, {4, 5}}, t:narrow(1, 1, 2):tolist())
    assert.are.same({3, 4, 5}, t:select(0, 1):tolist())
    assert.are.same({1, 4}, t:select(1, -2):tolist())
    assert.are.same({3, 4, 5}, t[1]:tolist())
    assert.are.same({0, 2, 4}, wick.arange(6):slice(0, 0, 6, 2):tolist())
    assert.are.same({4, 5}, wick.arange(6):slice(0, -2):tolist())
    assert.are.equal(2, #t)
  end)

  it("reports bad dims and indices", function()
    local t = wick.zeros(2, 3)
    assert.are.equal("select: dimension out of range (expected to be in range of [-2, 1], but got 2)",
      err(function() return t:select(2, 0) end))
    assert.are.equal("index 3 is out of bounds for dimension 1 with size 3", err(function() return t:select(1, 3) end))
    assert.are.equal("index 2 is out of bounds for dimension 0 with size 2", err(function() return t[2] end))
    assert.are.equal("narrow: start (2) + length (2) exceeds dimension size (3)",
      err(function() return t:narrow(1, 2, 2) end))
    assert.are.equal("expand: the expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1 (shape [2, 3] to [2, 4])",
      err(function() return t:expand(2, 4) end))
    assert.are.equal("permute: repeated dim 0", err(function() return t:permute(0, 0) end))
    assert.are.equal("t: expects a tensor with <= 2 dimensions, but self is 3D",
      err(function() return wick.zeros(1, 2, 3):t() end))
    assert.are.equal("Tensor: cannot set field 'foo'", err(function() t.foo = 1 end))
  end)
end)

describe("elementwise math", function()
  local a = wick.tensor{{1.0, -2.0, 3.0}, {0.5, 4.0, -0.25}}

  it("applies operators between tensors and numbers", function()
    near((a + 1):tolist()[1], {2, -1, 4})
    near((1 - a):tolist()[1], {0, 3, -2})
    near((a * a):tolist()[2], {0.25, 16, 0.0625})
    near((a / 2):tolist()[1], {0.5, -1, 1.5})
    near((a ^ 2):tolist()[1], {1, 4, 9})
    near((-a):tolist()[1], {-1, 2, -3})
    assert.are.same({1, 1, 0}, (wick.tensor{7, -3, 4} % 2):tolist())   -- Python-style remainder
    assert.are.same({3, -2, 2}, (wick.tensor{7, -3, 4} // 2):tolist())  -- floor division
    near(wick.tensor{7.5, -3.5}:fmod(2):tolist(), {1.5, -1.5})
  end)

  it("broadcasts", function()
    local col = wick.tensor{{10.0}, {20.0}}
    local row = wick.tensor{1.0, 2.0, 3.0}
    assert.are.same({{11, 12, 13}, {21, 22, 23}}, (col + row):tolist())
    assert.are.equal("add: shapes [2, 3] and [2] cannot be broadcast (dimension 1: 3 vs 2)",
      err(function() return a + wick.ones(2) end))
  end)

  it("computes unary functions", function()
    local x = wick.tensor{-1.0, 0.0, 2.0}
    near(x:exp():tolist(), {math.exp(-1), 1, math.exp(2)})
    near(x:abs():tolist(), {1, 0, 2})
    near(x:relu():tolist(), {0, 0, 2})
    near(x:sigmoid():tolist(), {1 / (1 + math.exp(1)), 0.5, 1 / (1 + math.exp(-2))})
    near(x:tanh():tolist(), {-0.7615941559557649, 0, 0.9640275800758169})
    near(wick.tensor{1.0, 4.0}:sqrt():tolist(), {1, 2})
    near(wick.tensor{1.0, math.exp(1)}:log():tolist(), {0, 1})
    near(x:clamp(-0.5, 1):tolist(), {-0.5, 0, 1})
    near(x:clamp{min = 0}:tolist(), {0, 0, 2})
    near(x:leaky_relu(0.1):tolist(), {-0.1, 0, 2})
    near(x:gelu():tolist(), {-0.15865525393145707, 0, 1.9544997361036416})
    near(x:gelu{approximate = "tanh"}:tolist(), {-0.15880800939172324, 0, 1.9545976940871754})
    near(x:silu():tolist(), {-0.2689414213699951, 0, 1.7615941559557646})
    near(wick.tensor{-1.5, 0.5, 2.5}:round():tolist(), {-2, 0, 2})                -- half to even
    assert.are.same({1, 0, 2}, wick.tensor{-1, 0, 2}:abs():tolist())
    assert.are.equal("i64", wick.tensor{-1, 0, 2}:abs().dtype)
    assert.are.equal("f32", wick.tensor{1, 2}:exp().dtype)
    assert.are.same({false, true, false}, wick.tensor{1.0, 0 / 0, 1 / 0}:isnan():tolist())
  end)

  it("compares and selects", function()
    local x = wick.tensor{1, 5, 3}
    assert.are.same({false, true, false}, x:gt(3):tolist())
    assert.are.same({true, true, false}, x:le(wick.tensor{1, 5, 2}):tolist())
    assert.are.same({1, 0, 3}, wick.where(x:eq(5), 0, x):tolist())
    assert.are.same({0, 5, 0}, x:where(x:eq(5), 0):tolist())
    assert.are.same({false, true}, wick.tensor{true, false}:logical_not():tolist())
  end)

  it("updates in place", function()
    local x = wick.tensor{1.0, 2.0}
    local v = x:_version()
    assert.are.equal(x, x:add_(1))
    assert.are.same({2, 3}, x:tolist())
    x:mul_(wick.tensor{2.0, 0.5}):add_(x, {alpha = -0.5})
    near(x:tolist(), {2, 0.75})
    x:relu_():neg_()
    near(x:tolist(), {-2, -0.75})
    assert.is_true(x:_version() > v)
    x:zero_()
    assert.are.same({0, 0}, x:tolist())
    x:fill_(2.5)
    assert.are.same({2.5, 2.5}, x:tolist())
    x:copy_(wick.tensor{7, 8})
    assert.are.same({7, 8}, x:tolist())
    assert.are.equal("add_: result type f32 can't be cast to the desired output type i64",
      err(function() wick.tensor{1}:add_(0.5) end))
    assert.are.equal("exp_: result type f32 can't be cast to the desired output type i64",
      err(function() wick.tensor{1}:exp_() end))
    assert.are.equal("mul_: output with shape [2] doesn't match the broadcast shape of [2, 2]",
      err(function() x:mul_(wick.ones(2, 2)) end))
  end)

  it("rejects operations that PyTorch rejects", function()
    assert.are.equal("sub: subtraction of two bool tensors is not supported; use logical_xor",
      err(function() return wick.tensor{true} - wick.tensor{false} end))
    assert.are.equal("bitwise_and: not defined for floating point tensors (f32)",
      err(function() return wick.ones(2) & wick.ones(2) end))
    assert.are.equal("ZeroDivisionError: integer division by zero",
      err(function() return wick.tensor{1} // 0 end))
    local msg = err(function() return wick.add(wick.ones(1), "x") end)
    assert.are.equal("bad argument #2 to 'add' (Tensor or number expected, got string)", msg:gsub("^[^:]*:%d+: ", ""))
  end)

  it("runs on large and strided tensors (OpenMP paths)", function()
    local n = 1 << 18
    local x = wick.arange(n):float()
    local y = (x * 2 + 1):tolist()
    assert.are.equal(1, y[1]); assert.are.equal(2 * (n - 1) + 1, y[n])
    local m = wick.arange(512 * 512):view(512, 512):float()
    local s = (m.T + m):tolist()
    assert.are.equal((1 * 512 + 3) + (3 * 512 + 1), s[2][4]) -- m[1][3] + m[3][1], 0-based
  end)
end)

describe("matmul", function()
  it("multiplies with PyTorch's shape rules", function()
    local a = wick.tensor{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}
    local b = wick.tensor{{1.0, 0.0, 2.0}, {0.0, 1.0, 3.0}}
    assert.are.same({{1, 2, 8}, {3, 4, 18}, {5, 6, 28}}, a:matmul(b):tolist())
    assert.are.same({{1, 2, 8}, {3, 4, 18}, {5, 6, 28}}, wick.mm(a, b):tolist())
    assert.are.same({{35, 44}, {44, 56}}, a.T:matmul(a):tolist())        -- transposed operand
    assert.are.same({5, 11, 17}, a:matmul(wick.tensor{1.0, 2.0}):tolist()) -- matrix @ vector
    assert.are.same({22, 28}, wick.tensor{1.0, 2.0, 3.0}:matmul(a):tolist())
    assert.are.equal(14, wick.tensor{1.0, 2.0, 3.0}:dot(wick.tensor{1.0, 2.0, 3.0}):item())
    assert.are.same({}, wick.matmul(wick.ones(3), wick.ones(3)).shape)
    assert.are.same({4, 3, 3}, wick.matmul(wick.ones(4, 3, 2), wick.ones(2, 3)).shape)
    assert.are.same({5, 4, 3, 2}, wick.matmul(wick.ones(5, 1, 3, 7), wick.ones(4, 7, 2)).shape)
    assert.are.same({2, 2, 4}, wick.bmm(wick.ones(2, 2, 3), wick.ones(2, 3, 4)).shape)
    assert.are.same({{3, 3}}, wick.matmul(wick.ones(1, 3, {dtype = "i64"}), wick.ones(3, 2, {dtype = "i64"})):tolist())
    local d = wick.matmul(wick.ones(2, 3, {dtype = "f64"}), wick.ones(3, 2, {dtype = "f64"}))
    assert.are.equal("f64", d.dtype)
    assert.are.same({{3, 3}, {3, 3}}, d:tolist())
  end)

  it("names the shapes that do not fit", function()
    assert.are.equal("matmul: shapes [128, 784] and [512, 10] cannot be multiplied (784 != 512)",
      err(wick.matmul, wick.zeros(128, 784), wick.zeros(512, 10)))
    assert.are.equal("mm: expected 2-D tensors, got 3-D and 2-D", err(wick.mm, wick.zeros(1, 2, 2), wick.zeros(2, 2)))
    assert.are.equal("matmul: expected both tensors to have the same dtype, but got f32 and f64",
      err(wick.matmul, wick.zeros(2, 2), wick.zeros(2, 2, {dtype = "f64"})))
    assert.are.equal("bmm: batch sizes differ (2 != 3)", err(wick.bmm, wick.zeros(2, 2, 2), wick.zeros(3, 2, 2)))
  end)
end)

describe("memory", function()
  local function rss_kb()
    local f = assert(io.open("/proc/self/status"))
    local kb = f:read("a"):match("VmRSS:%s*(%d+)")
    f:close()
    return tonumber(kb)
  end

  it("frees temporaries without collectgarbage()", function()
    local x = wick.zeros(1 << 20) -- 4 MB
    for _ = 1, 200 do local y = x * 2 end
    local before, rss = wick.memory_stats().live_bytes, rss_kb()
    for _ = 1, 1000 do local y = x * 2 end -- 4 GB allocated in total
    assert.is_true(wick.memory_stats().live_bytes - before < 300 * 1024 * 1024)
    assert.is_true(rss_kb() - rss < 300 * 1024, "resident set grew by " .. (rss_kb() - rss) .. " kB")
  end)

  it("releases at once with <close>, and a released tensor says so", function()
    local n = wick.memory_stats().live_tensors
    local kept
    do
      local t <close> = wick.zeros(10)
      kept = t
      assert.are.equal(n + 1, wick.memory_stats().live_tensors)
    end
    assert.are.equal(n, wick.memory_stats().live_tensors)
    assert.are.equal("attempt to use a released tensor", err(function() return kept + 1 end))
  end)
end)
