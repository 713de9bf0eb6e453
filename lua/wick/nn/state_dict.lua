-- Module:state_dict() and Module:load_state_dict(sd, {strict}): PyTorch's dotted keys, in
-- registration order, loading checked whole before any value is copied.
local wick = require("wick")

local M = {}

-- An ordered state dict: a plain table of name -> tensor whose pairs() runs in key order;
-- sd:keys() gives that order as an array.
local OrderedDict = {}
OrderedDict.__index = {
  keys = function(sd) return { table.unpack(getmetatable(sd).order) } end,
}
OrderedDict.__pairs = function(sd)
  local order, i = getmetatable(sd).order, 0
  return function()
    i = i + 1
    local k = order[i]
    if k ~= nil then return k, sd[k] end
  end, sd, nil
end
OrderedDict.__name = "nn.StateDict"

local function ordered(keys, values)
  return setmetatable(values, { __index = OrderedDict.__index, __pairs = OrderedDict.__pairs,
                                __name = OrderedDict.__name, order = keys })
end

-- Keys of a table in a stable order: its own order when it is an ordered dict, else sorted.
local function keys_of(sd)
  local mt = getmetatable(sd)
  if mt and mt.order then return mt.order end
  local ks = {}
  for k in next, sd do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

-- The module's persistent state: {name, tensor} for parameters, then persistent buffers, per
-- module in pre-order (PyTorch's _save_to_state_dict order).
local function own_state(self)
  local out = {}
  for _, item in ipairs(self:named_modules()) do
    local prefix, s = item[1], self._state(item[2])
    local pre = prefix == "" and "" or (prefix .. ".")
    for _, n in ipairs(s.param_names) do out[#out + 1] = { pre .. n, s.params[n] } end
    for _, n in ipairs(s.buffer_names) do
      if not s.nonpersistent[n] then out[#out + 1] = { pre .. n, s.buffers[n] } end
    end
  end
  return out
end

-- state_dict({prefix = "", keep_vars = false}): values are detached aliases of the parameters
-- (they share memory), or the parameters themselves with keep_vars.
function M.state_dict(self, opts)
  opts = opts or {}
  local prefix, keys, values = opts.prefix or "", {}, {}
  for _, item in ipairs(own_state(self)) do
    local k = prefix .. item[1]
    keys[#keys + 1] = k
    values[k] = opts.keep_vars and item[2] or item[2]:detach()
  end
  return ordered(keys, values)
end

local function quote_list(ks)
  local q = {}
  for i, k in ipairs(ks) do q[i] = '"' .. k .. '"' end
  return table.concat(q, ", ")
end

local function shape_str(t) return "[" .. table.concat(t.shape, ", ") .. "]" end

local function same_shape(a, b)
  local sa, sb = a.shape, b.shape
  if #sa ~= #sb then return false end
  for i = 1, #sa do
    if sa[i] ~= sb[i] then return false end
  end
  return true
end

-- load_state_dict(sd, {strict = true}): copies values in (under no_grad, converting dtype).
-- Accepts keys prefixed "module." (DDP checkpoints). Returns {missing_keys, unexpected_keys}.
function M.load_state_dict(self, sd, opts)
  if type(sd) ~= "table" then
    error("load_state_dict: expected a table of tensors (got " .. type(sd) .. ")", 0)
  end
  opts = require("wick.util").check_options("load_state_dict", opts, { "strict" })
  local strict = opts.strict ~= false
  local own = own_state(self)
  local own_set = {}
  for _, item in ipairs(own) do own_set[item[1]] = true end
  -- a DDP checkpoint: every key starts with "module." and none of ours does
  local strip, in_keys = true, keys_of(sd)
  for _, k in ipairs(in_keys) do
    if type(k) ~= "string" or k:sub(1, 7) ~= "module." or own_set[k] then strip = false break end
  end
  local src = {}
  for _, k in ipairs(in_keys) do src[strip and k:sub(8) or k] = sd[k] end
  local missing, unexpected = {}, {}
  for _, item in ipairs(own) do
    local k, t = item[1], item[2]
    local v = src[k]
    if v == nil then missing[#missing + 1] = k
    elseif not wick.is_tensor(v) then
      error(("load_state_dict: expected a tensor for %s (got %s)"):format(k, type(v)), 0)
    elseif not same_shape(t, v) then
      error(("load_state_dict: size mismatch for %s: copying a param with shape %s from checkpoint, the shape in current model is %s")
        :format(k, shape_str(v), shape_str(t)), 0)
    end
  end
  for _, k in ipairs(in_keys) do
    local name = strip and k:sub(8) or k
    if not own_set[name] then unexpected[#unexpected + 1] = tostring(name) end
  end
  if strict and (#missing > 0 or #unexpected > 0) then
    local parts = {}
    if #missing > 0 then parts[#parts + 1] = "missing key(s) in state_dict: " .. quote_list(missing) end
    if #unexpected > 0 then parts[#parts + 1] = "unexpected key(s) in state_dict: " .. quote_list(unexpected) end
    error("load_state_dict: " .. table.concat(parts, "; "), 0)
  end
  wick.no_grad(function()
    for _, item in ipairs(own) do
      local v = src[item[1]]
      if v ~= nil then item[2]:copy_(v) end
    end
  end)
  return { missing_keys = missing, unexpected_keys = unexpected }
end

M.OrderedDict = ordered

return function(Module)
  Module.state_dict = M.state_dict
  Module.load_state_dict = M.load_state_dict
  Module._ordered_dict = ordered
end
