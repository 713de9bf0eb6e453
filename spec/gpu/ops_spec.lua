-- The CUDA kernels of the backend slots (kernels/*.cu) against their CPU twins: binary, unary,
-- unary_backward, where, reduce, index_select, gather, scatter, random and cumulative, for
-- every dtype, on contiguous, transposed, strided and broadcast operands made on the device.
-- Tolerances by dtype: exact for integers and bool, 1e-6 relative for simple f32 ops and 1e-5
-- for transcendental ones, 1e-2 for f16/bf16 (computed in f32 on the GPU, in f64 on the CPU).
-- Without a CUDA device every test is pending. WICK_GPU_TWIN=cpu runs the same comparisons with
-- the CPU on both sides, which checks this file itself on machines without a GPU.
local err = require("helpers").err

local gpu = require("gpu")(_ENV)
local twin, dev, git = gpu.twin, gpu.dev, gpu.cit

local ALL = {"bool", "u8", "i32", "i64", "f16", "bf16", "f32", "f64"}
local FLOATS = {"f16", "bf16", "f32", "f64"}
local is_float = {f16 = true, bf16 = true, f32 = true, f64 = true}

-- Does the CPU refuse op on dtype dt, as PyTorch does ("not implemented for 'Bool'")? Such
-- combinations never reach a kernel, so there is nothing to compare.
local function refused(dt, op, binary)
  local t = wick.ones({1}, {dtype = dt})
  return not pcall(function() if binary then return t[op](t, t) end return t[op](t) end)
end

-- On the device (a copy even when the twin is the CPU, so in-place ops never alias).
local function on_dev(t) return twin and t:clone() or t:to(dev) end

-- A test tensor: floats randn * scale, integers in [lo, hi), bools half true.
local function make(dt, shape, o)
  o = o or {}
  if dt == "bool" then return wick.randint(0, 2, shape):bool() end
  if dt == "u8" then return wick.randint(math.max(o.lo or 0, 0), o.hi or 100, shape):to("u8") end
  if not is_float[dt] then return wick.randint(o.lo or -50, o.hi or 50, shape):to(dt) end
  return (wick.randn(shape) * (o.scale or 2)):to(dt)
end

-- Operand layouts of an [r, c] tensor, each made from a base of its own shape and then viewed
-- the same way on both sides (t:cuda() gives contiguous tensors, so views are made after).
local LAYOUTS = {
  contiguous = {function(r, c) return {r, c} end, function(t) return t end},
  transposed = {function(r, c) return {c, r} end, function(t) return t:t() end},
  strided = {function(r, c) return {r, 2 * c + 1} end, function(t, r, c) return t:slice(1, 1, 2 * c + 1, 2) end},
  broadcast = {function(r, c) return {1, c} end, function(t, r, c) return t:expand(r, c) end},
  column = {function(r, c) return {r, 1} end, function(t, r, c) return t:expand(r, c) end},
}

-- Returns the CPU operand and its device twin for layout `lay` of dtype dt.
local function pair(dt, lay, r, c, o)
  local L = LAYOUTS[lay]
  local base = make(dt, L[1](r, c), o)
  if o and o.fix then base = o.fix(base) end
  return L[2](base, r, c), L[2](on_dev(base), r, c)
end

local function tol_for(dt, math_fn)
  if not is_float[dt] then return 0 end
  if dt == "f16" or dt == "bf16" then return 1e-2 end
  if dt == "f32" then return math_fn and 1e-5 or 1e-6 end
  return math_fn and 1e-12 or 1e-14
end

-- got (device) equals want (CPU) in dtype and shape, and within tol (NaN equals NaN).
local function same(got, want, tol, what)
  local g = got:cpu()
  assert.are.equal(want.dtype, g.dtype, what)
  assert.are.same(want.shape, g.shape, what)
  local ok
  if is_float[want.dtype] then
    ok = g:double():isclose(want:double(), {rtol = tol, atol = tol, equal_nan = true}):all():item()
  else
    ok = g:eq(want):all():item()
  end
  if not ok then
    local d = (g:double() - want:double()):abs()
    local bad = d:gt(tol):logical_or(g:double():isnan():logical_xor(want:double():isnan()))
    error(("%s: %d elements differ (max |diff| %s)"):format(what, bad:sum():item(),
      wick.where(d:isnan(), 0, d):max():item()), 2)
  end
end

local R, C = 33, 65 -- odd sizes: vector tails and misaligned rows

describe("CUDA kernels against the CPU", function()
  git("binary ops: every dtype and operand layout", function()
    local ops = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "fmod", "remainder",
      "floor_divide", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
      "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"}
    local math_op = {pow = true, atan2 = true, div = true}
    local nonzero = function(b) return wick.where(b:eq(0), wick.ones_like(b), b) end
    local pairs_of = {{"contiguous", "contiguous"}, {"transposed", "contiguous"},
      {"strided", "transposed"}, {"contiguous", "broadcast"}, {"column", "strided"}}
    for _, dt in ipairs(ALL) do
      for _, op in ipairs(ops) do
        local skip = refused(dt, op, true)
        if not skip then
          for _, lp in ipairs(pairs_of) do
            local divop = op == "fmod" or op == "remainder" or op == "floor_divide"
            local bo = {fix = (divop and not is_float[dt]) and nonzero or nil}
            if op == "pow" and not is_float[dt] then bo.lo, bo.hi = 0, 4 end
            local a, da = pair(dt, lp[1], R, C)
            local b, db = pair(dt, lp[2], R, C, bo)
            local want = a[op](a, b)
            same(da[op](da, db), want, tol_for(want.dtype, math_op[op]),
                 ("%s %s (%s, %s)"):format(op, dt, lp[1], lp[2]))
          end
          -- a Lua number (weak scalar) and a 0-d tensor
          local a, da = pair(dt, "transposed", R, C)
          local s = (dt == "bool") and 1 or 3
          same(da[op](da, s), a[op](a, s), tol_for(a[op](a, s).dtype, math_op[op]), op .. " scalar " .. dt)
          local z = make(dt, {1})[0] -- 0-d
          if op == "fmod" or op == "remainder" or op == "floor_divide" then z = wick.ones({1}, {dtype = dt})[0] end
          same(da[op](da, on_dev(z)), a[op](a, z), tol_for(a[op](a, z).dtype, math_op[op]), op .. " 0-d " .. dt)
        end
      end
    end
  end)

  git("in-place binary ops on strided destinations", function()
    for _, dt in ipairs({"i32", "i64", "f16", "bf16", "f32", "f64"}) do
      for _, op in ipairs({"add_", "mul_", "sub_", "maximum_"}) do
        local a, da = pair(dt, "transposed", R, C)
        local b, db = pair(dt, "broadcast", R, C)
        a[op](a, b)
        da[op](da, db)
        same(da, a, tol_for(dt), op .. " " .. dt)
      end
    end
  end)

  git("large contiguous and misaligned operands (vector path and its fallback)", function()
    local n = (1 << 20) + 3
    for _, dt in ipairs({"u8", "f16", "f32", "f64", "i64"}) do
      local a, b = make(dt, {n}), make(dt, {n})
      local da, db = on_dev(a), on_dev(b)
      same(da + db, a + b, tol_for(dt), "add " .. dt)
      same(da:slice(0, 1, n) * db:slice(0, 0, n - 1), a:slice(0, 1, n) * b:slice(0, 0, n - 1),
           tol_for(dt), "misaligned mul " .. dt)
      same(da:gt(db), a:gt(b), 0, "gt " .. dt)
    end
  end)

  git("integer division by zero is an error", function()
    for _, dt in ipairs({"u8", "i32", "i64"}) do
      local a = on_dev(wick.tensor({7, 8}, {dtype = dt}))
      local b = on_dev(wick.tensor({1, 0}, {dtype = dt}))
      for _, op in ipairs({"floor_divide", "remainder", "fmod"}) do
        assert.are.equal("ZeroDivisionError: integer division by zero",
          err(function() return a[op](a, b) end))
      end
    end
    -- and the device is usable afterwards
    same(on_dev(wick.tensor{7, -8}) // on_dev(wick.tensor{2, 3}), wick.tensor{3, -3}, 0, "after")
  end)

  git("unary ops: every dtype and layout", function()
    local simple = {"neg", "abs", "sign", "square", "relu", "floor", "ceil", "round", "trunc",
      "logical_not", "isnan", "isinf", "isfinite", "bitwise_not"}
    local mathy = {"reciprocal", "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
      "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "erf", "sigmoid", "gelu",
      "silu", "softplus"}
    local function run(dt, op, f, tol)
      for _, lay in ipairs({"contiguous", "transposed", "strided"}) do
        local a, da = pair(dt, lay, R, C)
        local want = f(a)
        same(f(da), want, tol or tol_for(want.dtype, true), ("%s %s %s"):format(op, dt, lay))
      end
    end
    for _, dt in ipairs(ALL) do
      for _, op in ipairs(simple) do
        if not refused(dt, op) then run(dt, op, function(t) return t[op](t) end, tol_for(dt)) end
      end
      for _, op in ipairs(mathy) do
        if not refused(dt, op) then run(dt, op, function(t) return t[op](t) end) end
      end
      if is_float[dt] then run(dt, "gelu tanh", function(t) return t:gelu({approximate = "tanh"}) end) end
      if dt ~= "bool" then -- float bounds promote integer tensors to f32; integer bounds keep them
        local lo, hi = -1.5, 0.5
        if not is_float[dt] then lo, hi = 1, 60 end
        run(dt, "clamp", function(t) return t:clamp(lo, 2 * hi) end)
        run(dt, "clamp min", function(t) return t:clamp(lo, nil) end)
        run(dt, "clamp max", function(t) return t:clamp(nil, hi) end)
      end
      if is_float[dt] then
        run(dt, "leaky_relu", function(t) return t:leaky_relu(0.1) end)
        run(dt, "elu", function(t) return t:elu(1.5) end)
        run(dt, "hardtanh", function(t) return t:hardtanh(-0.5, 0.75) end)
      end
    end
  end)

  git("unary ops keep NaN, infinities and signed zeros", function()
    local nan, inf = 0 / 0, math.huge
    local base = wick.tensor{nan, inf, -inf, 0.0, -0.0, 2.5, -2.5, 0.5, -0.5, 1e-30}
    for _, dt in ipairs(FLOATS) do
      local a = base:to(dt)
      local da = on_dev(a)
      for _, op in ipairs({"relu", "sign", "abs", "round", "floor", "exp", "log", "sqrt",
                           "sigmoid", "tanh", "isnan", "isinf", "isfinite"}) do
        same(da[op](da), a[op](a), tol_for(dt, true), op .. " specials " .. dt)
      end
      same(da:maximum(on_dev(wick.zeros(10):to(dt))), a:maximum(wick.zeros(10):to(dt)), 0, "maximum nan " .. dt)
      same(da:clamp(-1, 1), a:clamp(-1, 1), 0, "clamp nan " .. dt)
    end
  end)

  git("unary gradients (unary_backward) in every float dtype", function()
    local ops = {
      {"exp"}, {"log"}, {"sqrt"}, {"tanh"}, {"sigmoid"}, {"relu"}, {"gelu"}, {"silu"}, {"softplus"},
      {"sin"}, {"cos"}, {"abs"}, {"square"}, {"reciprocal"}, {"rsqrt"}, {"erf"}, {"atan"},
      {"neg"}, {"expm1"}, {"log1p"}, {"sinh"}, {"cosh"}, {"tan"},
      {"clamp", -0.5, 0.75}, {"leaky_relu", 0.2}, {"elu", 1.5}, {"hardtanh", -0.5, 0.75},
      {"gelu", {approximate = "tanh"}},
    }
    local positive = {log = true, sqrt = true, rsqrt = true, log1p = true, reciprocal = true}
    for _, dt in ipairs(FLOATS) do
      for _, spec in ipairs(ops) do
        local op = spec[1]
        local fix = positive[op] and function(t) return t:abs() + 0.5 end or nil
        local a, da = pair(dt, "transposed", R, C, {fix = fix, scale = 1})
        local g, dg = pair(dt, "contiguous", R, C, {scale = 1})
        local function grad(x, gy)
          x = x:detach():requires_grad_()
          x[op](x, spec[2], spec[3]):backward(gy)
          return x.grad
        end
        same(grad(da, dg), grad(a, g), tol_for(dt, true) * (dt == "f32" and 10 or 1), op .. " grad " .. dt)
      end
    end
  end)

  git("where with broadcast condition and operands", function()
    for _, dt in ipairs(ALL) do
      local c, dc = pair("bool", "column", R, C)
      local a, da = pair(dt, "transposed", R, C)
      local b, db = pair(dt, "broadcast", R, C)
      same(wick.where(dc, da, db), wick.where(c, a, b), 0, "where " .. dt)
      local c2, dc2 = pair("bool", "strided", R, C)
      same(wick.where(dc2, da, 0), wick.where(c2, a, 0), 0, "where scalar " .. dt)
    end
  end)

  git("reductions over every combination of dims", function()
    local combos = {{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}}
    local shape = {6, 7, 9}
    for _, dt in ipairs(ALL) do
      for _, perm in ipairs({false, true}) do
        local base = make(dt, shape, {lo = -3, hi = 4, scale = 1})
        local a = perm and base:permute(2, 0, 1) or base
        local da = perm and on_dev(base):permute(2, 0, 1) or on_dev(base)
        for _, dims in ipairs(combos) do
          local what = ("%s %s%s"):format(dt, table.concat(dims, ","), perm and " permuted" or "")
          local sum_tol = (dt == "f16" or dt == "bf16") and 2e-2 or tol_for(dt, true)
          same(da:sum(dims), a:sum(dims), sum_tol, "sum " .. what)
          same(da:sum(dims, {keepdim = true}), a:sum(dims, {keepdim = true}), sum_tol, "sum keepdim " .. what)
          if dt ~= "bool" then
            same(da:amax(dims), a:amax(dims), 0, "amax " .. what)
            same(da:amin(dims), a:amin(dims), 0, "amin " .. what)
          end
          same(da:any(dims), a:any(dims), 0, "any " .. what)
          same(da:all(dims), a:all(dims), 0, "all " .. what)
          if #dims == 1 then
            same(da:prod(dims), a:prod(dims), sum_tol, "prod " .. what)
            if dt ~= "bool" then
              same(da:argmax(dims[1]), a:argmax(dims[1]), 0, "argmax " .. what)
              same(da:argmin(dims[1]), a:argmin(dims[1]), 0, "argmin " .. what)
            end
          end
        end
        same(da:sum({}), a:sum({}), (dt == "f16" or dt == "bf16") and 2e-2 or tol_for(dt, true), "sum all " .. dt)
        if dt ~= "bool" then same(da:argmax(), a:argmax(), 0, "argmax all " .. dt) end
      end
    end
  end)

  git("reductions of large tensors (split and two-pass paths)", function()
    for _, dt in ipairs({"f32", "f64", "bf16", "i64", "i32"}) do
      for _, shape in ipairs({{1 << 20}, {3, 200000}, {200000, 3}, {5000, 7}, {7, 5000}, {64, 4096}}) do
        local a = make(dt, shape, {lo = -1000, hi = 1000, scale = 1})
        local da = on_dev(a)
        local what = dt .. " [" .. table.concat(shape, ",") .. "]"
        local tol = dt == "bf16" and 2e-2 or tol_for(dt, true)
        same(da:sum(0), a:sum(0), tol, "sum(0) " .. what)
        same(da:sum(#shape - 1), a:sum(#shape - 1), tol, "sum(-1) " .. what)
        same(da:amax(0), a:amax(0), 0, "amax(0) " .. what)
        same(da:argmin(#shape - 1), a:argmin(#shape - 1), 0, "argmin(-1) " .. what)
        same(da:argmax(0), a:argmax(0), 0, "argmax(0) " .. what)
      end
    end
  end)

  git("argmax/argmin take the first extreme; NaN wins and propagates", function()
    local nan = 0 / 0
    local t = wick.tensor{{1, 3, 3, 2, 3}, {0, 0, 0, 0, 0}, {5, -1, 5, -1, -1}, {2, nan, 1, nan, 9}}
    for _, dt in ipairs({"f32", "f64", "f16", "bf16"}) do
      local a = t:to(dt)
      local da = on_dev(a)
      same(da:argmax(1), wick.tensor{1, 0, 0, 1}, 0, "argmax ties " .. dt)
      same(da:argmin(1), wick.tensor{0, 0, 1, 1}, 0, "argmin ties " .. dt)
      same(da:argmax(0), a:argmax(0), 0, "argmax dim 0 " .. dt)
      same(da:amax(1), a:amax(1), 0, "amax nan " .. dt)
      same(da:amin(0), a:amin(0), 0, "amin nan " .. dt)
      same(da:sum(1), a:sum(1), 0, "sum nan " .. dt)
      -- a long row whose maximum repeats far apart: the first index, across thread blocks
      local long = wick.zeros(1 << 18):to(dt)
      long[100] = 7; long[200000] = 7; long[3000] = nan; long[250000] = nan
      local dl = on_dev(long)
      assert.are.equal(3000, dl:argmax():item())
      assert.are.equal(3000, dl:argmin():item())
      long[3000] = 0; long[250000] = 0
      assert.are.equal(100, on_dev(long):argmax():item())
    end
    for _, dt in ipairs({"i32", "i64", "u8"}) do
      local a = wick.tensor({{4, 9, 9, 1}, {2, 2, 7, 7}}, {dtype = dt})
      same(on_dev(a):argmax(1), wick.tensor{1, 2}, 0, "int argmax ties " .. dt)
      same(on_dev(a):argmin(1), wick.tensor{3, 0}, 0, "int argmin ties " .. dt)
    end
  end)

  git("integer sums wrap and empty reductions give the identity", function()
    local big = wick.full({4}, 4611686018427387904, {dtype = "i64"}) -- 2^62
    same(on_dev(big):sum(), big:sum(), 0, "wrapping sum")
    local e = wick.zeros({3, 0}, {dtype = "f32"})
    same(on_dev(e):sum(1), e:sum(1), 0, "empty sum")
    same(on_dev(e):prod(1), e:prod(1), 0, "empty prod")
    same(on_dev(e):all(1), e:all(1), 0, "empty all")
  end)

  git("index_select, gather and scatter in every dtype", function()
    for _, dt in ipairs(ALL) do
      for _, lay in ipairs({"contiguous", "transposed"}) do
        local a, da = pair(dt, lay, R, C)
        local i0 = wick.randint(0, R, {50})
        local i1 = wick.randint(0, C, {40})
        same(da:index_select(0, on_dev(i0)), a:index_select(0, i0), 0, "index_select 0 " .. dt .. lay)
        same(da:index_select(1, on_dev(i1)), a:index_select(1, i1), 0, "index_select 1 " .. dt .. lay)
        local g1 = wick.randint(0, C, {R, 20})
        local g0 = wick.randint(0, R, {10, C})
        same(da:gather(1, on_dev(g1)), a:gather(1, g1), 0, "gather 1 " .. dt .. lay)
        same(da:gather(0, on_dev(g0)), a:gather(0, g0), 0, "gather 0 " .. dt .. lay)
        same(da:gather(1, on_dev(g1):t():contiguous():t()), a:gather(1, g1), 0, "gather strided idx " .. dt)
        -- scatter with duplicate indices: the last write of a row wins; sums may add atomically
        local src, dsrc = pair(dt, "contiguous", R, 20)
        for _, op in ipairs({"scatter_", "scatter_add_"}) do
          local x, dx = a:clone(), da:clone()
          x[op](x, 1, g1, src)
          dx[op](dx, 1, on_dev(g1), dsrc)
          same(dx, x, tol_for(dt), op .. " 1 " .. dt .. lay)
          local s0, ds0 = pair(dt, "transposed", 10, C)
          local y, dy = a:clone(), da:clone()
          y[op](y, 0, g0, s0)
          dy[op](dy, 0, on_dev(g0), ds0)
          same(dy, y, tol_for(dt), op .. " 0 " .. dt .. lay)
        end
      end
    end
    -- an embedding-shaped lookup
    local w = wick.randn(1000, 64)
    local ids = wick.randint(0, 1000, {4096})
    same(on_dev(w):index_select(0, on_dev(ids)), w:index_select(0, ids), 0, "embedding rows")
    -- and its gradient: index_add_ of many rows into few (the atomic path)
    for _, dt in ipairs({"f32", "f64", "i64", "i32", "bf16", "f16", "u8"}) do
      local z = make(dt, {1000, 64})
      local src = make(dt, {4096, 64}, {scale = 0.5})
      local dz = on_dev(z)
      z:index_add_(0, ids, src)
      dz:index_add_(0, on_dev(ids), on_dev(src))
      same(dz, z, (dt == "bf16" or dt == "f16") and 5e-2 or tol_for(dt, true), "index_add_ " .. dt)
    end
  end)

  git("cumsum and cumprod along every dim", function()
    for _, dt in ipairs(ALL) do
      for _, shape in ipairs({{4, 5, 300}, {300, 3}, {7}}) do
        local base = make(dt, shape, {lo = -2, hi = 3, scale = 0.5})
        for d = 0, #shape - 1 do
          local what = ("%s [%s] dim %d"):format(dt, table.concat(shape, ","), d)
          local tol = (dt == "f16" or dt == "bf16") and 5e-2 or tol_for(dt, true)
          same(on_dev(base):cumsum(d), base:cumsum(d), tol, "cumsum " .. what)
          if #shape > 1 then
            local tb, dtb = base:transpose(0, #shape - 1), on_dev(base):transpose(0, #shape - 1)
            same(dtb:cumsum(d), tb:cumsum(d), tol, "cumsum transposed " .. what)
          end
          local small = is_float[dt] and (base:abs() * 0.01 + 0.995):to(dt) or base
          same(on_dev(small):cumprod(d), small:cumprod(d), tol, "cumprod " .. what)
        end
      end
    end
  end)

  git("cumsum and cumprod of a few very long lines (the split scan)", function()
    for _, dt in ipairs({"f32", "f64", "i64", "i32", "bf16"}) do
      local a = make(dt, {2, 300000}, {lo = -3, hi = 4, scale = 0.5})
      local tol = dt == "bf16" and 5e-2 or tol_for(dt, true)
      same(on_dev(a):cumsum(1), a:cumsum(1), tol, "long cumsum " .. dt)
      local p = is_float[dt] and (a * 1e-4 + 1):to(dt) or a
      same(on_dev(p):cumprod(1), p:cumprod(1), tol, "long cumprod " .. dt)
    end
  end)

  git("random fills: ranges, moments, every dtype, strided destinations", function()
    local n = 200000
    for _, dt in ipairs(FLOATS) do
      local u = on_dev(wick.zeros(n):to(dt)):uniform_(-1, 3):cpu():double()
      assert.is_true(u:min():item() >= -1 and u:max():item() <= 3, "uniform range " .. dt)
      assert.is_true(math.abs(u:mean():item() - 1) < 0.02, "uniform mean " .. dt)
      local z = on_dev(wick.zeros(n):to(dt)):normal_(2, 3):cpu():double()
      assert.is_true(math.abs(z:mean():item() - 2) < 0.05, "normal mean " .. dt)
      assert.is_true(math.abs(z:std():item() - 3) < 0.05, "normal std " .. dt)
      local e = on_dev(wick.zeros(n):to(dt)):exponential_(4):cpu():double()
      assert.is_true(e:min():item() >= 0 and math.abs(e:mean():item() - 0.25) < 0.01, "exponential " .. dt)
    end
    for _, dt in ipairs(ALL) do
      local b = on_dev(wick.zeros({n}, {dtype = dt})):bernoulli_(0.3):cpu():double()
      assert.is_true(math.abs(b:mean():item() - 0.3) < 0.01, "bernoulli " .. dt)
      assert.is_true(b:eq(0):logical_or(b:eq(1)):all():item(), "bernoulli values " .. dt)
      if dt ~= "bool" then
        local r = on_dev(wick.zeros({n}, {dtype = dt})):random_(3, 10):cpu()
        assert.are.equal(3, r:min():item())
        assert.are.equal(9, r:max():item())
        assert.is_true(math.abs(r:double():mean():item() - 6) < 0.05, "random_ mean " .. dt)
      end
    end
    local wide = on_dev(wick.zeros({n}, {dtype = "i64"})):random_(0, 1 << 40):cpu():double()
    assert.is_true(wide:max():item() > 2 ^ 39 and wide:min():item() >= 0, "64-bit range")
    -- a transposed destination: every element is written
    local t = on_dev(wick.full({300, 7}, 0 / 0)):t()
    t:uniform_(0, 1)
    assert.is_false(t:cpu():isnan():any():item())
  end)

  git("random fills follow the generator: manual_seed repeats, streams advance", function()
    local function draw() return on_dev(wick.zeros(1000)):normal_():cpu() end
    wick.manual_seed(7)
    local a, b = draw(), draw()
    wick.manual_seed(7)
    same(draw(), a, 0, "manual_seed repeats")
    assert.is_false(a:equal(b))
    local g = wick.Generator()
    g:manual_seed(3)
    local x = on_dev(wick.zeros(100)):uniform_(0, 1, {generator = g}):cpu()
    g:manual_seed(3)
    same(on_dev(wick.zeros(100)):uniform_(0, 1, {generator = g}), x, 0, "explicit generator")
  end)
end)
