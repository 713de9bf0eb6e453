-- Tensor ops composed from existing kernels (autograd comes with the parts), with PyTorch's
-- names and arguments: flip roll tril triu diag trace outer addmm baddbmm lerp addcmul addcdiv
-- clamp_min clamp_max nan_to_num movedim swapaxes view_as reshape_as new_* type_as unflatten
-- std_mean var_mean isin argwhere masked_scatter cdist tile repeat, and t.mT (einsum: wick.einsum).
local wick = require("wick")

local Tensor = wick.Tensor
local is_tensor = wick.is_tensor
local check_options = require("wick.util").check_options

local function dim_of(x, d, op)
  local n = x:dim()
  if math.type(d) ~= "integer" then error(("%s: dim must be an integer (got %s)"):format(op, tostring(d)), 0) end
  if d < -math.max(n, 1) or d >= math.max(n, 1) then
    error(("%s: dimension out of range (expected to be in range of [%d, %d], but got %d)")
      :format(op, -math.max(n, 1), math.max(n, 1) - 1, d), 0)
  end
  return d < 0 and d + n or d
end

local function dims_list(d)
  if type(d) == "table" then return d end
  return { d }
end

local function both(name, fn)
  wick[name] = fn
  Tensor[name] = fn
end

local function index(n, device)
  return wick.arange(n, { device = device })
end

-- flip(x, dims)
both("flip", function(x, dims)
  local y, seen = x, {}
  for _, d in ipairs(dims_list(dims)) do
    d = dim_of(x, d, "flip")
    if seen[d] then error(("flip: dim %d appears multiple times in the list of dims"):format(d), 0) end
    seen[d] = true
    local n = x:size(d)
    if n > 1 then y = y:index_select(d, wick.arange(n - 1, -1, -1, { device = x.device })) end
  end
  return y
end)
both("fliplr", function(x) return wick.flip(x, 1) end)
both("flipud", function(x) return wick.flip(x, 0) end)

-- roll(x, shifts, dims): without dims, over the flattened tensor
both("roll", function(x, shifts, dims)
  if dims == nil then
    return wick.roll(x:flatten(), shifts, 0):reshape(x.shape)
  end
  local sh, ds = dims_list(shifts), dims_list(dims)
  if #sh ~= #ds then
    error(("roll: shifts and dimensions must align. shifts: %d, dims: %d"):format(#sh, #ds), 0)
  end
  local y = x
  for i, d in ipairs(ds) do
    d = dim_of(x, d, "roll")
    local n = x:size(d)
    if n > 0 then
      local s = sh[i] % n
      if s ~= 0 then y = wick.cat({ y:narrow(d, n - s, s), y:narrow(d, 0, n - s) }, d) end
    end
  end
  return y
end)

-- The [rows, cols] mask col - row <= k (tril) or >= k (triu).
local function band(x, k, upper)
  if x:dim() < 2 then error((upper and "triu" or "tril") .. ": input tensor must have at least 2 dimensions", 0) end
  local r, c = x:size(-2), x:size(-1)
  local off = index(c, x.device):unsqueeze(0) - index(r, x.device):unsqueeze(1)
  return upper and off:ge(k or 0) or off:le(k or 0)
end
both("tril", function(x, k) return x:masked_fill(band(x, k, false):logical_not(), 0) end)
both("triu", function(x, k) return x:masked_fill(band(x, k, true):logical_not(), 0) end)

-- diag(v 1-d, k = 0): a matrix with v on diagonal k; diag(m 2-d, k = 0): diagonal k of m
both("diag", function(x, k)
  k = k or 0
  if x:dim() == 1 then
    local n = x:size(0)
    local m = wick.eye(n, { dtype = x.dtype, device = x.device }) * x:unsqueeze(0)
    if k == 0 then return m end
    local a = math.abs(k)
    local pad = k > 0 and { a, 0, 0, a } or { 0, a, a, 0 }
    return wick.nn.functional.pad(m, pad)
  elseif x:dim() == 2 then
    local r, c = x:size(0), x:size(1)
    local i0, j0 = k >= 0 and 0 or -k, k >= 0 and k or 0
    local n = math.max(0, math.min(r - i0, c - j0))
    local rows = index(n, x.device) + i0
    local flat = rows * c + rows + (j0 - i0)
    return x:reshape(-1):index_select(0, flat)
  end
  error(("diag: expected a 1-D or 2-D tensor (got %d-D)"):format(x:dim()), 0)
end)
both("trace", function(x)
  if x:dim() ~= 2 then error("trace: expected a matrix", 0) end
  local d = wick.diag(x)
  if x.dtype == "bool" or not x:is_floating_point() then return d:sum() end
  return d:sum()
end)

both("outer", function(a, b)
  if a:dim() ~= 1 or b:dim() ~= 1 then error("outer: expected 1-D tensors", 0) end
  return a:unsqueeze(1) * b:unsqueeze(0)
end)
wick.ger = wick.outer

-- beta * input + alpha * (m1 @ m2); beta = 0 ignores input (NaN in it does not propagate)
local function scaled_sum(op, input, prod, opts)
  opts = check_options(op, opts, { "alpha", "beta" })
  local beta, alpha = opts.beta or 1, opts.alpha or 1
  if alpha ~= 1 then prod = prod * alpha end
  if beta == 0 then return prod + wick.zeros_like(input) end
  if beta ~= 1 then input = input * beta end
  return input + prod
end
both("addmm", function(input, m1, m2, opts)
  if m1:dim() ~= 2 or m2:dim() ~= 2 then error("addmm: expected 2-D matrices", 0) end
  return scaled_sum("addmm", input, m1:matmul(m2), opts)
end)
both("baddbmm", function(input, b1, b2, opts)
  if b1:dim() ~= 3 or b2:dim() ~= 3 then error("baddbmm: expected 3-D tensors", 0) end
  return scaled_sum("baddbmm", input, wick.bmm(b1, b2), opts)
end)
both("addbmm", function(input, b1, b2, opts)
  return scaled_sum("addbmm", input, wick.bmm(b1, b2):sum(0), opts)
end)
both("addmv", function(input, m, v, opts) return scaled_sum("addmv", input, m:matmul(v), opts) end)

-- lerp(start, end, weight): PyTorch's two-sided formula (exact at weight 0 and 1)
both("lerp", function(a, b, w)
  local d = b - a
  if is_tensor(w) then
    return wick.where(w:abs():lt(0.5), a + w * d, b - d * (1 - w))
  end
  if math.abs(w) < 0.5 then return a + d * w end
  return b - d * (1 - w)
end)

local function value_opt(op, opts)
  return check_options(op, opts, { "value" }).value or 1
end
both("addcmul", function(x, t1, t2, opts)
  local v = value_opt("addcmul", opts)
  local p = t1 * t2
  return x + (v == 1 and p or p * v)
end)
both("addcdiv", function(x, t1, t2, opts)
  local v = value_opt("addcdiv", opts)
  local p = t1 / t2
  return x + (v == 1 and p or p * v)
end)

both("clamp_min", function(x, v) return wick.clamp(x, v, nil) end)
both("clamp_max", function(x, v) return wick.clamp(x, nil, v) end)

local FMAX = { f32 = 3.4028234663852886e38, f64 = 1.7976931348623157e308, f16 = 65504.0, bf16 = 3.3895313892515355e38 }
-- nan_to_num(x, {nan = 0, posinf = max finite, neginf = lowest finite})
both("nan_to_num", function(x, opts)
  opts = check_options("nan_to_num", opts, { "nan", "neginf", "posinf" })
  if not x:is_floating_point() then return x:clone() end
  local big = FMAX[x.dtype]
  local y = x:masked_fill(x:isnan(), opts.nan or 0.0)
  y = y:masked_fill(x:eq(math.huge), opts.posinf or big)
  return y:masked_fill(x:eq(-math.huge), opts.neginf or -big)
end)

-- movedim(x, source, destination): ints or tables of ints
both("movedim", function(x, src, dst)
  local s, d = dims_list(src), dims_list(dst)
  if #s ~= #d then
    error(("movedim: Invalid source or destination dims: source (%d dims) should contain the same number of dims as destination (%d dims)")
      :format(#s, #d), 0)
  end
  local n = x:dim()
  local perm, used, taken = {}, {}, {}
  for i = 1, #s do
    local a, b = dim_of(x, s[i], "movedim"), dim_of(x, d[i], "movedim")
    if used[a] or taken[b] then error("movedim: repeated dim", 0) end
    perm[b + 1], used[a], taken[b] = a, true, true
  end
  local rest = {}
  for i = 0, n - 1 do if not used[i] then rest[#rest + 1] = i end end
  local j = 1
  for i = 1, n do
    if perm[i] == nil then perm[i] = rest[j]; j = j + 1 end
  end
  return x:permute(perm)
end)
wick.moveaxis, Tensor.moveaxis = wick.movedim, wick.movedim
both("swapaxes", function(x, a, b) return x:transpose(a, b) end)
both("swapdims", function(x, a, b) return x:transpose(a, b) end)

Tensor.view_as = function(x, o) return x:view(o.shape) end
Tensor.reshape_as = function(x, o) return x:reshape(o.shape) end
Tensor.type_as = function(x, o) return x:to(o.dtype) end

-- new_zeros/new_ones/new_empty(size, {dtype, device}), new_full(size, value, opts),
-- new_tensor(data, opts): x's dtype and device unless given
local function like(x, opts)
  local o = { dtype = x.dtype, device = x.device }
  for k, v in pairs(opts or {}) do o[k] = v end
  return o
end
function Tensor.new_zeros(x, size, opts) return wick.zeros(size, like(x, opts)) end
function Tensor.new_ones(x, size, opts) return wick.ones(size, like(x, opts)) end
function Tensor.new_empty(x, size, opts) return wick.empty(size, like(x, opts)) end
function Tensor.new_full(x, size, v, opts) return wick.full(size, v, like(x, opts)) end
function Tensor.new_tensor(x, data, opts) return wick.tensor(data, like(x, opts)) end

-- unflatten(dim, sizes): dim split into sizes (one may be -1)
both("unflatten", function(x, d, sizes)
  d = dim_of(x, d, "unflatten")
  local shape = {}
  for i = 0, d - 1 do shape[#shape + 1] = x:size(i) end
  local known, infer = 1, nil
  for _, s in ipairs(sizes) do
    if s == -1 then infer = #shape + 1 else known = known * s end
    shape[#shape + 1] = s
  end
  -- -1 is inferred from the size of dim itself (a view of an empty tensor could not)
  if infer and known > 0 then shape[infer] = x:size(d) // known end
  if known * (infer and shape[infer] or 1) ~= x:size(d) then
    error(("unflatten: Provided sizes don't multiply up to the size of dim %d (%d) in the input tensor"):format(d, x:size(d)), 0)
  end
  for i = d + 1, x:dim() - 1 do shape[#shape + 1] = x:size(i) end
  return x:view(shape)
end)

-- std_mean / var_mean(x, dim, {correction, unbiased, keepdim}) -> std (or var), mean
both("std_mean", function(x, dim, opts)
  local o = opts
  if type(dim) == "table" and not dim[1] then o, dim = dim, nil end
  local keep = o and o.keepdim and { keepdim = true } or nil
  local m = dim == nil and x:mean() or x:mean(dim, keep)
  return dim == nil and x:std(o) or x:std(dim, o), m
end)
both("var_mean", function(x, dim, opts)
  local o = opts
  if type(dim) == "table" and not dim[1] then o, dim = dim, nil end
  local keep = o and o.keepdim and { keepdim = true } or nil
  local m = dim == nil and x:mean() or x:mean(dim, keep)
  return dim == nil and x:var(o) or x:var(dim, o), m
end)

-- isin(elements, test_elements, {invert = false}): bool, elements' shape
both("isin", function(e, t, opts)
  local inv = opts and opts.invert
  if not is_tensor(e) then e = wick.tensor(e) end
  if not is_tensor(t) then t = wick.tensor(t) end
  local r
  if t:numel() == 0 then r = wick.zeros(e.shape, { dtype = "bool", device = e.device })
  else r = e:unsqueeze(-1):eq(t:reshape(-1)):any(-1) end
  if inv then r = r:logical_not() end
  return r
end)

both("argwhere", function(x) return wick.nonzero(x) end)

-- masked_scatter(x, mask, source): the true positions of mask (broadcast to x), in order, take
-- consecutive elements of source
both("masked_scatter", function(x, mask, source)
  if mask.dtype ~= "bool" then error("masked_scatter: expected a bool mask", 0) end
  local shape = {}
  local nx, nm = x:dim(), mask:dim()
  for i = 1, math.max(nx, nm) do
    local a = i <= nx and x:size(nx - i) or 1
    local b = i <= nm and mask:size(nm - i) or 1
    if a ~= b and a ~= 1 and b ~= 1 then
      error(("masked_scatter: the shapes of the tensor and the mask cannot be broadcast (%d and %d)"):format(a, b), 0)
    end
    table.insert(shape, 1, a == 1 and b or a)
  end
  x = x:expand(shape)
  local m = mask:expand(shape):reshape(-1)
  local pos = wick.nonzero(m):reshape(-1)
  local n = pos:numel()
  if n > source:numel() then
    error("masked_scatter: Number of elements of source < number of ones in mask", 0)
  end
  if n == 0 then return x:clone() end
  return x:reshape(-1):scatter(0, pos, source:reshape(-1):narrow(0, 0, n)):reshape(x.shape)
end)

-- cdist(x1 [*, P, M], x2 [*, R, M], p = 2): pairwise p-norm distances [*, P, R]
both("cdist", function(x1, x2, p)
  p = p or 2.0
  if x1:size(-1) ~= x2:size(-1) then
    error(("cdist: X1 and X2 must have the same number of columns. X1: %d X2: %d"):format(x1:size(-1), x2:size(-1)), 0)
  end
  local d = x1:unsqueeze(-2) - x2:unsqueeze(-3)
  return d:norm(p, -1)
end)

-- tile(x, reps) / x["repeat"](x, sizes) ("repeat" is a Lua keyword: t:tile{...} reads better)
local function rep(op, x, sizes, tile)
  if type(sizes) ~= "table" then error(op .. ": expected a table of repetitions", 0) end
  local n = x:dim()
  if not tile and #sizes < n then
    error(("%s: Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"):format(op), 0)
  end
  local reps = {}
  for i = 1, math.max(#sizes, n) - #sizes do reps[i] = 1 end
  for _, s in ipairs(sizes) do reps[#reps + 1] = s end
  local m = #reps
  local base = x:reshape((function()
    local s = {}
    for i = 1, m - n do s[i] = 1 end
    for i = 0, n - 1 do s[#s + 1] = x:size(i) end
    return s
  end)())
  local view, expand, final = {}, {}, {}
  for i = 1, m do
    view[#view + 1], view[#view + 2] = 1, base:size(i - 1)
    expand[#expand + 1], expand[#expand + 2] = reps[i], base:size(i - 1)
    final[i] = reps[i] * base:size(i - 1)
  end
  return base:reshape(view):expand(expand):reshape(final)
end
both("tile", function(x, reps) return rep("tile", x, reps, true) end)
Tensor["repeat"] = function(x, ...)
  local sizes = select("#", ...) == 1 and type(...) == "table" and ... or { ... }
  return rep("repeat", x, sizes, false)
end

wick._tensor_getters.mT = function(t)
  if t:dim() < 2 then error("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.", 0) end
  return t:transpose(-2, -1)
end
