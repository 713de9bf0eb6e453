-- Lua-side Tensor methods (added to the C method table) and printing.
local wick = require("wick")
local tensor_str = require("wick.tensor_str")

local Tensor = wick.Tensor
local meta = debug.getregistry()["wick.Tensor"]

meta.__tostring = function(t)
  local ok, s = pcall(tensor_str.tensor_str, t)
  if ok then return s end
  if tostring(s):find("attempt to use a released tensor", 1, true) then
    return "wick.Tensor (released)"
  end
  error(s, 0)
end

-- x.sahpe (a typo, or a Python habit such as x.numpy) raises instead of giving nil: the C
-- __index calls this for a field that is no method, property or getter.
local PROPERTIES = { "shape", "dtype", "device", "ndim", "T", "is_cuda" }
wick._tensor_hooks.missing = function(_, k)
  local names = {}
  for name in pairs(Tensor) do if type(name) == "string" then names[#names + 1] = name end end
  for name in pairs(wick._tensor_getters) do names[#names + 1] = name end
  table.move(PROPERTIES, 1, #PROPERTIES, #names + 1, names)
  table.sort(names)
  local s = require("wick.util").suggest(k, names)
  error(string.format("Tensor: no field or method '%s'%s", k, s and string.format(" (did you mean '%s'?)", s) or ""), 0)
end

wick.set_printoptions = tensor_str.set_printoptions
wick.get_printoptions = tensor_str.get_printoptions

-- t:type(): PyTorch's legacy type names ("torch.FloatTensor" -> "wick.FloatTensor");
-- t:type(dtype) converts like t:to(dtype).
local TYPE_NAMES = {
  f32 = "FloatTensor", f64 = "DoubleTensor", f16 = "HalfTensor", bf16 = "BFloat16Tensor",
  i64 = "LongTensor", i32 = "IntTensor", u8 = "ByteTensor", bool = "BoolTensor",
}
local TYPE_DTYPES = {}
for dt, name in pairs(TYPE_NAMES) do TYPE_DTYPES["wick." .. name] = dt end

function Tensor.type(t, dtype)
  if dtype == nil then
    local name = TYPE_NAMES[t.dtype]
    if t.device ~= "cpu" then return "wick." .. t.device:match("^%a+") .. "." .. name end
    return "wick." .. name
  end
  return t:to(TYPE_DTYPES[dtype] or dtype)
end

-- True when no element of the boolean tensor b is false (no reduction needed: the count of
-- false elements is the dot product of their 0/1 indicator with itself, exact in f64).
local function all_true(b)
  local off = b:logical_not():double():flatten()
  return off:dot(off):item() == 0
end

-- wick.equal(a, b) / t:equal(other): same shape and equal elements (NaN is never equal).
function Tensor.equal(a, b)
  if not wick.is_tensor(a) or not wick.is_tensor(b) then
    error("equal: expected two tensors (got " .. type(a) .. " and " .. type(b) .. ")", 0)
  end
  if a:dim() ~= b:dim() then return false end
  for d = 0, a:dim() - 1 do
    if a:size(d) ~= b:size(d) then return false end
  end
  return all_true(a:eq(b))
end
wick.equal = Tensor.equal

local ALLCLOSE_OPTS = { "rtol", "atol", "equal_nan" }

-- PyTorch's isclose: |a - b| <= atol + rtol * |b|, equal infinities close, NaN only with equal_nan.
function Tensor.isclose(a, b, o)
  o = o or {}
  if not wick.is_tensor(a) or not wick.is_tensor(b) then
    error("isclose: expected two tensors (got " .. type(a) .. " and " .. type(b) .. ")", 0)
  end
  require("wick.util").check_options("isclose", o, ALLCLOSE_OPTS)
  local rtol, atol = o.rtol or 1e-5, o.atol or 1e-8
  if a.dtype ~= b.dtype then
    error("isclose: dtypes must match (got " .. a.dtype .. " and " .. b.dtype .. ")", 0)
  end
  local close = wick.eq(a, b)
  if o.equal_nan then close = close:logical_or(wick.isnan(a):logical_and(wick.isnan(b))) end
  if a.dtype == "bool" then return close end
  local err = wick.abs(wick.sub(a, b))
  local allowed = wick.abs(wick.mul(b, rtol)) + atol
  return close:logical_or(err:isfinite():logical_and(err:le(allowed)))
end
wick.isclose = Tensor.isclose

function Tensor.allclose(a, b, o)
  return all_true(Tensor.isclose(a, b, o))
end
wick.allclose = Tensor.allclose

return Tensor
