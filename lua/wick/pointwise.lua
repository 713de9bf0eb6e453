-- PyTorch's options of elementwise ops that compose from existing kernels: div's rounding_mode,
-- round's decimals, clamp's type promotion and tensor bounds, add/sub's alpha rules, and
-- promote_types. Each wraps the C function on `wick` and on Tensor (autograd comes with the parts).
local wick = require("wick")

local Tensor = wick.Tensor
local is_tensor = wick.is_tensor

local TORCH_NAMES = { bool = "Bool", u8 = "Byte", i32 = "Int", i64 = "Long", f16 = "Half",
  bf16 = "BFloat16", f32 = "Float", f64 = "Double" }
local FLOATS = { f16 = true, bf16 = true, f32 = true, f64 = true }

local function is_float(x)
  if is_tensor(x) then return FLOATS[x.dtype] == true end
  return math.type(x) == "float"
end

local check_opts = require("wick.util").check_options

-- wick.promote_types(d1, d2): the dtype PyTorch gives two tensors of these dtypes.
function wick.promote_types(d1, d2)
  return wick.mul(wick.empty(0, { dtype = d1 }), wick.empty(0, { dtype = d2 })).dtype
end

local CATEGORY = { bool = 0, u8 = 1, i32 = 1, i64 = 1, f16 = 2, bf16 = 2, f32 = 2, f64 = 2 }
local function operand_dtype(x)
  if is_tensor(x) then return x.dtype end
  if type(x) == "boolean" then return "bool" end
  return math.type(x) == "float" and "f64" or "i64"
end
local function tier(x)
  if not is_tensor(x) then return 0 end
  return x:dim() == 0 and 1 or 2
end

-- wick.result_type(a, b): the dtype of a op b under PyTorch's rules (numbers and 0-d tensors
-- are weaker than dimensioned tensors unless of a higher kind).
function wick.result_type(a, b)
  local ta, tb = tier(a), tier(b)
  local da, db = operand_dtype(a), operand_dtype(b)
  if ta == 0 and tb == 0 then
    local c = math.max(CATEGORY[da], CATEGORY[db])
    return c == 2 and "f32" or c == 1 and "i64" or "bool"
  end
  if ta == tb then return wick.promote_types(da, db) end
  local hi, lo, thi = da, db, ta
  if tb > ta then hi, lo, thi = db, da, tb end
  if CATEGORY[lo] <= CATEGORY[hi] then return hi end
  if math.min(ta, tb) == 0 then return CATEGORY[lo] == 2 and "f32" or "i64" end
  return lo
end

-- The method and function of name `name` become wrap(c_function).
local function rewrap(name, wrap)
  local c_fn, c_method = rawget(wick, name), Tensor[name]
  wick[name] = wrap(c_fn, name)
  Tensor[name] = c_method == c_fn and wick[name] or wrap(c_method, name)
end

-- ---- div(a, b, {rounding_mode = nil | "trunc" | "floor"}) ----
local DIV_OPTS = { rounding_mode = true }
local function div_with(div, op)
  return function(a, b, opts)
    if opts == nil then return div(a, b) end
    local mode = check_opts(op, opts, DIV_OPTS).rounding_mode
    if mode == nil then return div(a, b) end
    if mode == "floor" then return wick.floor_divide(a, b) end
    if mode ~= "trunc" then
      error(("%s: expected rounding_mode to be one of nil, 'trunc', or 'floor' but found '%s'")
        :format(op, tostring(mode)), 2)
    end
    if is_float(a) or is_float(b) then return wick.trunc(div(a, b)) end
    -- integers: a - fmod(a, b) is an exact multiple of b (fmod raises on division by zero)
    local r = wick.fmod(a, b)
    if is_tensor(a) and a.dtype ~= r.dtype then a = a:to(r.dtype) end
    return wick.floor_divide(wick.sub(a, r), b)
  end
end
rewrap("div", div_with)
rewrap("divide", div_with)
local c_div_ = Tensor.div_
function Tensor.div_(a, b, opts)
  if opts == nil or (type(opts) == "table" and opts.rounding_mode == nil) then
    check_opts("div_", opts, DIV_OPTS)
    return c_div_(a, b)
  end
  local r = wick.div(a, b, opts)
  if is_float(r) and not is_float(a) then
    error(("div_: result type %s can't be cast to the desired output type %s"):format(r.dtype, a.dtype), 2)
  end
  return a:copy_(r)
end

-- ---- round(x, {decimals = 0}) ----
local ROUND_OPTS = { decimals = true }
local function round_with(round, op)
  return function(x, opts)
    if opts == nil then return round(x) end
    local d = check_opts(op, opts, ROUND_OPTS).decimals
    if d == nil then return round(x) end
    if math.type(d) ~= "integer" then
      error(("%s: decimals must be an integer (got %s)"):format(op, tostring(d)), 2)
    end
    if not is_float(x) then
      error(("%s: not implemented for '%s'"):format(op, TORCH_NAMES[x.dtype] or x.dtype), 2)
    end
    if d == 0 then return round(x) end
    local p = 10.0 ^ math.abs(d)
    if d > 0 then return round(x * p) / p end
    return round(x / p) * p
  end
end
rewrap("round", round_with)

-- ---- clamp(x, min, max) / clamp(x, {min =, max =}): PyTorch's promotion over x and the bounds ----
local CLAMP_OPTS = { min = true, max = true }
local INT_WRAP = { u8 = 256, i32 = 4294967296 }

local function clamp_bounds(op, x, lo, hi)
  if type(lo) == "table" and not is_tensor(lo) then
    local o = check_opts(op, lo, CLAMP_OPTS)
    lo, hi = o.min, o.max
  end
  if lo == nil and hi == nil then
    error(op .. ": at least one of 'min' or 'max' must not be nil", 3)
  end
  return lo, hi
end

-- A scalar bound as PyTorch stores it in an integer dtype (two's complement wrap-around).
local function int_bound(v, dtype)
  if v == nil or FLOATS[dtype] then return v end
  local i = math.tointeger(v) or v
  local m = INT_WRAP[dtype]
  if m and math.type(i) == "integer" then
    i = i % m
    if dtype == "i32" and i >= m // 2 then i = i - m end
  end
  return i
end

local function clamp_dtype(x, lo, hi)
  if FLOATS[x.dtype] then return x.dtype end
  if is_float(lo) or is_float(hi) then return "f32" end
  if x.dtype == "bool" and (math.type(lo) == "integer" or math.type(hi) == "integer") then return "i64" end
  return x.dtype
end

local function clamp_with(clamp, op)
  return function(x, lo, hi)
    lo, hi = clamp_bounds(op, x, lo, hi)
    if is_tensor(lo) or is_tensor(hi) then
      local y = x
      if lo ~= nil then y = wick.maximum(y, lo) end
      if hi ~= nil then y = wick.minimum(y, hi) end
      return y
    end
    local ct = clamp_dtype(x, lo, hi)
    if ct ~= x.dtype then x = x:to(ct) end
    return clamp(x, int_bound(lo, ct), int_bound(hi, ct))
  end
end
rewrap("clamp", clamp_with)
rewrap("clip", clamp_with)
local c_clamp_ = Tensor.clamp_
function Tensor.clamp_(x, lo, hi)
  lo, hi = clamp_bounds("clamp_", x, lo, hi)
  if is_tensor(lo) or is_tensor(hi) then return x:copy_(wick.clamp(x, lo, hi)) end
  local ct = clamp_dtype(x, lo, hi)
  if ct ~= x.dtype then
    error(("clamp_: result type %s can't be cast to the desired output type %s"):format(ct, x.dtype), 2)
  end
  return c_clamp_(x, int_bound(lo, ct), int_bound(hi, ct))
end
Tensor.clip_ = Tensor.clamp_

-- softmax/log_softmax of an empty integer tensor: an empty tensor of its dtype, as in PyTorch
local function softmax_with(softmax)
  return function(x, ...)
    if is_tensor(x) and not FLOATS[x.dtype] and select("#", ...) < 2 and x:numel() == 0 then
      return x:clone()
    end
    return softmax(x, ...)
  end
end
rewrap("softmax", softmax_with)
rewrap("log_softmax", softmax_with)

return {
  torch_name = function(dtype) return TORCH_NAMES[dtype] or dtype end,
  is_float = is_float,
}
