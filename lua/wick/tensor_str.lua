-- Tensor printing exactly like PyTorch 1.13's torch/_tensor_str.py: print options, the number
-- formatter, summarisation and suffixes. Only the printed (summarised) elements are read.
local M = {}

local DEFAULTS = { precision = 4, threshold = 1000, edgeitems = 3, linewidth = 80 }
local PROFILES = {
  default = { precision = 4, threshold = 1000, edgeitems = 3, linewidth = 80 },
  short = { precision = 2, threshold = 1000, edgeitems = 2, linewidth = 80 },
  full = { precision = 4, threshold = math.huge, edgeitems = 3, linewidth = 80 },
}
local opts = { sci_mode = nil }
for k, v in pairs(DEFAULTS) do opts[k] = v end

local OPTION_NAMES = { "precision", "threshold", "edgeitems", "linewidth", "profile", "sci_mode" }

local check_options = require("wick.util").check_options

local function check_int(name, v, min)
  if math.type(v) ~= "integer" or v < min or (name == "precision" and v > 99) then
    local range = name == "precision" and "an integer from 0 to 99"
      or min == 1 and "a positive integer" or "a non-negative integer"
    error(string.format("set_printoptions: %s must be %s (got %s)", name, range, tostring(v)), 0)
  end
end

-- wick.set_printoptions{precision, threshold, edgeitems, linewidth, profile, sci_mode}.
-- As in PyTorch, sci_mode goes back to automatic when it is not given.
function M.set_printoptions(o)
  o = check_options("set_printoptions", o, OPTION_NAMES)
  if o.precision ~= nil then check_int("precision", o.precision, 0) end
  if o.edgeitems ~= nil then check_int("edgeitems", o.edgeitems, 1) end
  if o.linewidth ~= nil then check_int("linewidth", o.linewidth, 1) end
  if o.threshold ~= nil and (type(o.threshold) ~= "number" or o.threshold ~= o.threshold or o.threshold < 0) then
    error("set_printoptions: threshold must be a non-negative number (got " .. tostring(o.threshold) .. ")", 0)
  end
  if o.sci_mode ~= nil and type(o.sci_mode) ~= "boolean" then
    error("set_printoptions: sci_mode must be a boolean or nil (got " .. tostring(o.sci_mode) .. ")", 0)
  end
  if o.profile ~= nil then
    local p = PROFILES[o.profile]
    if not p then
      error("set_printoptions: unknown profile '" .. tostring(o.profile) .. "' (expected default, short or full)", 0)
    end
    for k, v in pairs(p) do opts[k] = v end
  end
  for k in pairs(DEFAULTS) do
    if o[k] ~= nil then opts[k] = o[k] end
  end
  opts.sci_mode = o.sci_mode
end

function M.get_printoptions()
  return { precision = opts.precision, threshold = opts.threshold, edgeitems = opts.edgeitems,
           linewidth = opts.linewidth, sci_mode = opts.sci_mode }
end

-- ---- reading the elements that will be printed ----

local ELLIPSIS = setmetatable({}, { __name = "ellipsis" }) -- stands for the elided middle

-- Nested lists of the printed values: edgeitems at both ends of every dim longer than
-- 2 * edgeitems, read through views so that a huge tensor costs only what is shown.
local function gather(t, edge)
  local n = t:size(0)
  local out = {}
  if t:dim() == 1 then
    if n <= 2 * edge then return t:tolist() end
    for _, v in ipairs(t:narrow(0, 0, edge):tolist()) do out[#out + 1] = v end
    out[#out + 1] = ELLIPSIS
    for _, v in ipairs(t:narrow(0, n - edge, edge):tolist()) do out[#out + 1] = v end
    return out
  end
  if n <= 2 * edge then
    for i = 0, n - 1 do out[#out + 1] = gather(t:select(0, i), edge) end
  else
    for i = 0, edge - 1 do out[#out + 1] = gather(t:select(0, i), edge) end
    out[#out + 1] = ELLIPSIS
    for i = n - edge, n - 1 do out[#out + 1] = gather(t:select(0, i), edge) end
  end
  return out
end

local function each_value(node, depth, fn)
  if depth == 0 then fn(node) return end
  for _, v in ipairs(node) do
    if v ~= ELLIPSIS then each_value(v, depth - 1, fn) end
  end
end

-- ---- the formatter (torch._tensor_str._Formatter) ----

local function isfinite(v) return v == v and v ~= math.huge and v ~= -math.huge end

-- Python's "{:.Nf}" / "{:.Ne}": C's printf except that NaN never has a sign.
local function pyfmt(v, conv, prec)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  return string.format("%." .. prec .. conv, v)
end

local function new_formatter(data, ndim, floating)
  local f = { floating = floating, int_mode = true, sci_mode = false, width = 1 }
  local prec = opts.precision
  if not floating then
    each_value(data, ndim, function(v)
      local s = type(v) == "boolean" and (v and "True" or "False") or tostring(v)
      if #s > f.width then f.width = #s end
    end)
    return f
  end
  local vals, vmin, vmax = {}, math.huge, 0
  each_value(data, ndim, function(v)
    if v ~= 0 and isfinite(v) then
      vals[#vals + 1] = v
      local a = math.abs(v)
      if a < vmin then vmin = a end
      if a > vmax then vmax = a end
    end
  end)
  if #vals == 0 then return f end -- as PyTorch: returns before applying a forced sci_mode
  for _, v in ipairs(vals) do
    if v ~= math.ceil(v) then f.int_mode = false break end
  end
  local function widest(conv, p, extra)
    for _, v in ipairs(vals) do
      local n = #pyfmt(v, conv, p) + extra
      if n > f.width then f.width = n end
    end
  end
  if f.int_mode then
    if vmax / vmin > 1000.0 or vmax > 1.0e8 then
      f.sci_mode = true
      widest("e", prec, 0)
    else
      widest("f", 0, 1)
    end
  elseif vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4 then
    f.sci_mode = true
    widest("e", prec, 0)
  else
    widest("f", prec, 0)
  end
  if opts.sci_mode ~= nil then f.sci_mode = opts.sci_mode end
  return f
end

local function format_value(f, v)
  local s
  if f.floating then
    if f.sci_mode then
      s = pyfmt(v, "e", opts.precision)
    elseif f.int_mode then
      s = pyfmt(v, "f", 0)
      if isfinite(v) then s = s .. "." end
    else
      s = pyfmt(v, "f", opts.precision)
    end
  elseif type(v) == "boolean" then
    s = v and "True" or "False"
  else
    s = tostring(v)
  end
  if #s < f.width then s = string.rep(" ", f.width - #s) .. s end
  return s
end

-- ---- layout (torch._tensor_str._vector_str / _tensor_str_with_formatter) ----

local function vector_str(f, row, indent)
  local per_line = math.max(1, (opts.linewidth - indent) // (f.width + 2))
  local lines, line = {}, {}
  for _, v in ipairs(row) do
    line[#line + 1] = v == ELLIPSIS and " ..." or format_value(f, v)
    if #line == per_line then
      lines[#lines + 1] = table.concat(line, ", ")
      line = {}
    end
  end
  if #line > 0 then lines[#lines + 1] = table.concat(line, ", ") end
  return "[" .. table.concat(lines, ",\n" .. string.rep(" ", indent + 1)) .. "]"
end

local function nested_str(f, node, ndim, indent)
  if ndim == 1 then return vector_str(f, node, indent) end
  local parts = {}
  for i, v in ipairs(node) do
    parts[i] = v == ELLIPSIS and "..." or nested_str(f, v, ndim - 1, indent + 1)
  end
  return "[" .. table.concat(parts, "," .. string.rep("\n", ndim - 1) .. string.rep(" ", indent + 1)) .. "]"
end

local function add_suffixes(s, suffixes, indent)
  local out = { s }
  local nl = s:match(".*()\n")
  local last = nl and (#s - nl + 2) or (#s + 2) -- PyTorch's len(s) - s.rfind("\n") + 1
  for _, suf in ipairs(suffixes) do
    if last + #suf + 2 > opts.linewidth then
      out[#out + 1] = ",\n" .. string.rep(" ", indent) .. suf
      last = indent + #suf
    else
      out[#out + 1] = ", " .. suf
      last = last + #suf + 2
    end
  end
  out[#out + 1] = ")"
  return table.concat(out)
end

local DEFAULT_DTYPES = { f32 = true, i64 = true, bool = true }
local FLOATING = { f32 = true, f64 = true, f16 = true, bf16 = true }

local function grad_suffix(t)
  -- autograd fields are optional: a build without them simply has none to show
  local ok, gf = pcall(function() return t.grad_fn end)
  if ok and gf ~= nil then
    local okn, name = pcall(function()
      local n = gf.name
      if type(n) == "function" then return n(gf) end
      return n
    end)
    if not okn or type(name) ~= "string" then name = tostring(gf):match("^<(.*)>$") or tostring(gf) end
    return "grad_fn=<" .. name .. ">"
  end
  local ok2, rg = pcall(function() return t.requires_grad end)
  if ok2 and rg == true then return "requires_grad=true" end
end

-- tostring(t): PyTorch's repr, with wick's dtype names (`dtype=f64`).
function M.tensor_str(t)
  local prefix = "tensor("
  local indent = #prefix
  local suffixes = {}
  local dtype, device = t.dtype, t.device
  if device ~= "cpu" then suffixes[#suffixes + 1] = "device='" .. device .. "'" end
  local body
  local numel, ndim = t:numel(), t:dim()
  if numel == 0 then
    if ndim ~= 1 then
      suffixes[#suffixes + 1] = "size=(" .. table.concat(t:size(), ", ") .. (ndim == 1 and ",)" or ")")
    end
    if dtype ~= "f32" then suffixes[#suffixes + 1] = "dtype=" .. dtype end
    body = "[]"
  else
    if not DEFAULT_DTYPES[dtype] then suffixes[#suffixes + 1] = "dtype=" .. dtype end
    local data
    if ndim == 0 then
      data = t:item()
    elseif numel > opts.threshold then
      data = gather(t, opts.edgeitems)
    else
      data = t:tolist()
    end
    local f = new_formatter(data, ndim, FLOATING[dtype] or false)
    body = ndim == 0 and format_value(f, data) or nested_str(f, data, ndim, indent)
  end
  local g = grad_suffix(t)
  if g then suffixes[#suffixes + 1] = g end
  return add_suffixes(prefix .. body, suffixes, indent)
end

return M
