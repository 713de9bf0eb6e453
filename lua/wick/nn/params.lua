-- Module methods over parameters: parameters/named_parameters with glob patterns, freeze and
-- unfreeze, requires_grad_, zero_grad, and :to / :float / :double converting in place.
local wick = require("wick")
local list = require("wick.nn.list")

local M = {}

-- A glob ("layer1.*", "*.bn?.weight") as an anchored Lua pattern; `*` crosses dots, as fnmatch.
local function glob_pattern(glob)
  local p = glob:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".")
  return "^" .. p .. "$"
end

-- A name matches a pattern when the glob matches it whole, or matches a dotted prefix of it:
-- "fc" and "fc.*" both select fc.weight and fc.bias (but not fc2.weight).
function M.matches(name, glob)
  local pat = glob_pattern(glob)
  if name:match(pat) then return true end
  local prefix = name
  while true do
    prefix = prefix:match("^(.*)%.[^.]*$")
    if not prefix then return false end
    if prefix:match(pat) then return true end
  end
end

-- Splits (pattern, ..., {opts}) arguments.
local function patterns_and_opts(op, ...)
  local pats, opts = {}, nil
  for i = 1, select("#", ...) do
    local a = select(i, ...)
    if type(a) == "string" then pats[#pats + 1] = a
    elseif type(a) == "table" and i == select("#", ...) then opts = a
    else error(("%s: expected glob patterns (strings) and an options table (got %s)"):format(op, type(a)), 0) end
  end
  return pats, opts or {}
end

-- The {name, p} pairs whose names match any of the patterns (all when none); a pattern that
-- matches nothing is an error, so that a typo does not silently select nothing.
local function select_named(self, op, pats, opts)
  local all = self:_named("params", opts.recurse ~= false)
  if #pats == 0 then return all end
  local out, used = {}, {}
  for _, item in ipairs(all) do
    for j, g in ipairs(pats) do
      if M.matches(item[1], g) then
        used[j] = true
        out[#out + 1] = item
        break
      end
    end
  end
  for j, g in ipairs(pats) do
    if not used[j] then
      -- name what there is: the distinct first components of the parameter names
      local heads, seen = {}, {}
      for _, item in ipairs(all) do
        local h = item[1]:match("^[^.]+")
        if not seen[h] then seen[h], heads[#heads + 1] = true, h end
      end
      error(("%s: pattern '%s' matches no parameter (names start with: %s)"):format(op, g,
        #heads > 0 and table.concat(heads, ", ") or "none: the module has no parameters"), 0)
    end
  end
  return out
end

function M.named_parameters(self, ...)
  local pats, opts = patterns_and_opts("named_parameters", ...)
  return list.pairs(select_named(self, "named_parameters", pats, opts))
end

function M.parameters(self, ...)
  local pats, opts = patterns_and_opts("parameters", ...)
  local out = {}
  for _, item in ipairs(select_named(self, "parameters", pats, opts)) do out[#out + 1] = item[2] end
  return list.values(out)
end

-- freeze(..., {bn_eval = true}) pins the BatchNorm layers whose parameters it froze (all of
-- them; for affine = false layers, those whose buffers the patterns select) in eval mode, so
-- their running statistics stay as loaded even after model:train(); unfreezing any of a
-- pinned layer's parameters releases it (to the root's current mode).
local function set_bn_eval(self, pats, selected, on)
  local BatchNorm = require("wick.nn.batchnorm")._BatchNorm
  local class = require("wick.class")
  local chosen = {}
  for _, item in ipairs(selected) do chosen[item[2]] = true end
  for _, item in ipairs(self:named_modules()) do
    local name, m = item[1], item[2]
    if class.isinstance(m, BatchNorm) then
      local own, hit = m:_named("params", false), 0
      for _, p in ipairs(own) do if chosen[p[2]] then hit = hit + 1 end end
      if #own == 0 and on == false then
        local buf = (name == "" and "" or name .. ".") .. "running_mean"
        hit = #pats == 0 and 1 or 0
        for _, g in ipairs(pats) do if M.matches(buf, g) then hit = 1 end end
      end
      if on == false and hit > 0 and (#own == 0 or hit == #own) then
        m._bn_eval = true
        m.training = false
      elseif on == true and hit > 0 and m._bn_eval then
        m._bn_eval = nil
        m.training = self.training
      end
    end
  end
end

local function set_requires_grad(self, op, on, ...)
  local pats, opts = patterns_and_opts(op, ...)
  if op == "freeze" then
    opts = require("wick.nn.util").options(op, opts, { "bn_eval" })
  elseif next(opts) ~= nil then
    error(op .. ": expected glob patterns only (no options table)", 0)
  end
  local selected = select_named(self, op, pats, {})
  for _, item in ipairs(selected) do item[2]:requires_grad_(on) end
  if opts.bn_eval or op == "unfreeze" then set_bn_eval(self, pats, selected, on) end
  return self
end

-- freeze(pattern, ..., {bn_eval = false}) / unfreeze(pattern, ...): no pattern = every
-- parameter. Returns self.
function M.freeze(self, ...) return set_requires_grad(self, "freeze", false, ...) end
function M.unfreeze(self, ...) return set_requires_grad(self, "unfreeze", true, ...) end

function M.requires_grad_(self, on)
  if on == nil then on = true end
  if type(on) ~= "boolean" then error("requires_grad_: expected a boolean (got " .. type(on) .. ")", 0) end
  return set_requires_grad(self, "requires_grad_", on)
end

-- zero_grad({set_to_none = true}): drops the gradients (PyTorch 2's default) or zeroes them.
function M.zero_grad(self, opts)
  local to_none = not (opts and opts.set_to_none == false)
  for p in self:parameters() do
    if to_none then p.grad = nil
    else
      local g = p.grad
      if g then g:zero_() end
    end
  end
  return self
end

local DTYPES = { f32 = true, f64 = true, f16 = true, bf16 = true, i64 = true, i32 = true, u8 = true, bool = true }
local FLOAT = { f32 = true, f64 = true, f16 = true, bf16 = true }

local function dtype_code(s)
  if DTYPES[s] then return s end
  local v = rawget(wick, s)
  if type(v) == "string" and DTYPES[v] then return v end
end

-- to(dtype) / to(device) / to(tensor) / to({dtype, device}): converts parameters and buffers in
-- place, keeping each tensor object (optimizers built before still hold them). A dtype applies
-- to floating point tensors only (num_batches_tracked stays i64), as in PyTorch.
function M.to(self, a, b)
  local dtype, device
  if wick.is_tensor(a) then dtype, device = a.dtype, a.device
  elseif type(a) == "userdata" then -- a wick.device(...)
    device = a
    if type(b) == "string" then dtype = dtype_code(b) or error("to: unknown dtype '" .. b .. "'", 0) end
  elseif type(a) == "string" then
    dtype = dtype_code(a)
    if not dtype then device = a end
    if type(b) == "string" then dtype = dtype_code(b) or error("to: unknown dtype '" .. b .. "'", 0) end
  elseif type(a) == "table" then
    require("wick.util").check_options("to", a, { "dtype", "device" })
    dtype = a.dtype and (dtype_code(a.dtype) or error("to: unknown dtype '" .. tostring(a.dtype) .. "'", 0))
    device = a.device
  else
    error("to: expected a dtype, a device, a tensor or an options table", 0)
  end
  if dtype and not FLOAT[dtype] then
    error("to: nn.Module.to only accepts floating point dtypes (got " .. dtype .. ")", 0)
  end
  local tensors = self:_named("params", true)
  for _, item in ipairs(self:_named("buffers", true)) do tensors[#tensors + 1] = item end
  for _, item in ipairs(tensors) do
    local t = item[2]
    local want = { device = device, dtype = FLOAT[t.dtype] and dtype or nil }
    local new = wick.no_grad(function() return t:to(want) end)
    if not rawequal(new, t) then
      local g = t.grad
      t:set_(new)
      if g then t.grad = wick.no_grad(function() return g:to(want) end) end
    end
  end
  return self
end

function M.float(self) return M.to(self, "f32") end
function M.double(self) return M.to(self, "f64") end
function M.half(self) return M.to(self, "f16") end
function M.bfloat16(self) return M.to(self, "bf16") end
function M.cpu(self) return M.to(self, "cpu") end
function M.cuda(self, index) return M.to(self, index and ("cuda:" .. index) or "cuda") end

return function(Module)
  for k, v in pairs(M) do
    if k ~= "matches" then Module[k] = v end
  end
  Module.glob_matches = M.matches
end
