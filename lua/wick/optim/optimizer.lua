-- optim.Optimizer: the base class of SGD, Adam, AdamW. Holds parameter groups (each a table of
-- hyperparameters plus `params`), per-parameter state, and PyTorch's state_dict layout.
local wick = require("wick")
local class = require("wick.class")
local config = require("wick.config")

local Optimizer = class("Optimizer")

local is_tensor = wick.is_tensor

-- A list of tensors, or of {name, tensor} pairs, from what a user may pass as parameters: a
-- list, a map name -> tensor (taken in name order), an iterator (model:named_parameters()).
local function param_list(op, params)
  if is_tensor(params) then
    error(op .. ": params must be a list of tensors or of parameter groups, not a single tensor", 0)
  end
  local list = {}
  if type(params) == "function" then
    for a, b in params do
      if is_tensor(a) then list[#list + 1] = a
      elseif is_tensor(b) then list[#list + 1] = type(a) == "string" and { a, b } or b
      else error(op .. ": the parameter iterator gave a value that is not a tensor", 0) end
    end
    return list
  end
  if type(params) ~= "table" then
    error(op .. ": params must be a list of tensors or of parameter groups (got " .. type(params) .. ")", 0)
  end
  if params[1] == nil and next(params) ~= nil then -- a map name -> tensor
    local names = {}
    for k, v in pairs(params) do
      if type(k) ~= "string" or not is_tensor(v) then
        error(op .. ": a table of named parameters must map names to tensors", 0)
      end
      names[#names + 1] = k
    end
    table.sort(names)
    for i, k in ipairs(names) do list[i] = { k, params[k] } end
    return list
  end
  for i, v in ipairs(params) do list[i] = v end
  return list
end

local function is_group(v)
  return type(v) == "table" and not is_tensor(v) and v.params ~= nil
end

-- optimizer(params, defaults): params is a list of tensors, named parameters, or a list of
-- groups {params = ..., lr = ...}; defaults fill what a group leaves out (nil = required).
function Optimizer:__init(params, defaults, required)
  local op = self.__name
  self.defaults = defaults
  self._required = required or {}
  self.state = {}
  self.param_groups = {}
  local list = param_list(op, params)
  if #list == 0 then error(op .. ": optimizer got an empty parameter list", 0) end
  if not is_group(list[1]) then list = { { params = list } } end
  for _, g in ipairs(list) do self:add_param_group(g) end
end

-- Adds a group {params = ..., <hyperparameter> = value}; missing hyperparameters come from
-- the defaults. A parameter may belong to only one group.
function Optimizer:add_param_group(group)
  local op = self.__name
  if not is_group(group) then
    error(op .. ": a parameter group must be a table with a 'params' field", 0)
  end
  local g = {}
  for k, v in pairs(group) do
    if k ~= "params" then g[k] = type(v) == "table" and config.copy(v) or v end
  end
  local list = is_tensor(group.params) and { group.params } or param_list(op, group.params)
  local params, names = {}, {}
  local seen = {}
  for i, e in ipairs(list) do
    local name, p = nil, e
    if type(e) == "table" and not is_tensor(e) then name, p = e[1], e[2] end
    if not is_tensor(p) then
      error(string.format("%s: parameter %d of a group is not a tensor (got %s)", op, i, type(p)), 0)
    end
    if not p:is_floating_point() then
      error(string.format("%s: can only optimize floating-point tensors (got %s)", op, p.dtype), 0)
    end
    if not p.is_leaf then error(op .. ": can't optimize a non-leaf Tensor", 0) end
    if seen[p] then error(op .. ": a parameter group contains the same parameter twice", 0) end
    seen[p] = true
    params[i], names[i] = p, name
  end
  if #params == 0 then error(op .. ": a parameter group has no parameters", 0) end
  local n_named = 0
  for _ in pairs(names) do n_named = n_named + 1 end
  if n_named ~= 0 and n_named ~= #params then
    error(op .. ": a parameter group mixes named and unnamed parameters", 0)
  end
  for _, other in ipairs(self.param_groups) do
    for _, p in ipairs(other.params) do
      if seen[p] then error(op .. ": some parameters appear in more than one parameter group", 0) end
    end
  end
  for k, v in pairs(self.defaults) do
    if g[k] == nil then g[k] = type(v) == "table" and config.copy(v) or v end
  end
  for _, k in ipairs(self._required) do
    if g[k] == nil then
      error(string.format("%s: parameter group didn't specify a value of required optimization parameter %s", op, k), 0)
    end
  end
  self:_check_group(g)
  g.params = params
  g.param_names = n_named > 0 and names or nil
  self.param_groups[#self.param_groups + 1] = g
end

-- Subclasses validate hyperparameters here (raising PyTorch's messages).
function Optimizer:_check_group(group) end

-- Clears gradients: to nil by default (set_to_none = true), or zeroes them in place.
function Optimizer:zero_grad(opts)
  local set_to_none = true
  opts = config.check_options("zero_grad", opts, { "set_to_none" })
  if opts.set_to_none ~= nil then set_to_none = opts.set_to_none end
  for _, g in ipairs(self.param_groups) do
    for _, p in ipairs(g.params) do
      if set_to_none then p.grad = nil
      else
        local grad = p.grad
        if grad then grad:zero_() end
      end
    end
  end
end

-- One update of every parameter that requires grad and has a gradient. closure (optional)
-- re-evaluates the model with grad enabled and returns the loss, which step returns.
function Optimizer:step(closure)
  local loss
  if closure ~= nil then loss = wick.enable_grad(closure) end
  for _, group in ipairs(self.param_groups) do
    self:_step_group(group)
  end
  return loss
end

-- Calls update(p, grad, state) for each trainable parameter of the group with a gradient;
-- state is created on first use (so frozen parameters never get any).
function Optimizer:_each_param(group, update)
  local state = self.state
  for _, p in ipairs(group.params) do
    if p.requires_grad then
      local grad = p.grad
      if grad then
        local s = state[p]
        if s == nil then s = {}; state[p] = s end
        update(p, grad, s)
      end
    end
  end
end

-- The keys of parameters in a state dict: names when every group was given names, else
-- 0-based positions over all groups (PyTorch's packing).
function Optimizer:_param_keys()
  local named = true
  for _, g in ipairs(self.param_groups) do named = named and g.param_names ~= nil end
  local keys, i = {}, 0
  for _, g in ipairs(self.param_groups) do
    for j, p in ipairs(g.params) do
      keys[p] = named and g.param_names[j] or i
      i = i + 1
    end
  end
  return keys
end

-- {state = {[key] = {...}}, param_groups = {{lr = ..., params = {key, ...}}, ...}}. The state
-- tensors are the optimizer's own (as in PyTorch): clone them to keep a snapshot.
function Optimizer:state_dict()
  local keys = self:_param_keys()
  local groups, state = {}, {}
  for i, g in ipairs(self.param_groups) do
    local out = {}
    for k, v in pairs(g) do
      if k ~= "params" and k ~= "param_names" then out[k] = type(v) == "table" and config.copy(v) or v end
    end
    local ids = {}
    for j, p in ipairs(g.params) do ids[j] = keys[p] end
    out.params = ids
    groups[i] = out
  end
  for p, s in pairs(self.state) do
    if keys[p] ~= nil then
      local copy = {}
      for k, v in pairs(s) do copy[k] = v end
      state[keys[p]] = copy
    end
  end
  return { state = state, param_groups = groups }
end

local function shape_str(t)
  return "[" .. table.concat(t.shape, ", ") .. "]"
end

-- Loads a state_dict: groups must match in number and sizes; hyperparameters are restored and
-- state tensors copied (floating ones cast to their parameter's dtype).
function Optimizer:load_state_dict(sd)
  local op = self.__name
  if type(sd) ~= "table" or type(sd.param_groups) ~= "table" or type(sd.state) ~= "table" then
    error(op .. ": load_state_dict expects a table with 'state' and 'param_groups'", 0)
  end
  local saved = sd.param_groups
  if #saved ~= #self.param_groups then
    error(op .. ": loaded state dict has a different number of parameter groups", 0)
  end
  for i, g in ipairs(self.param_groups) do
    if type(saved[i].params) ~= "table" or #saved[i].params ~= #g.params then
      error(op .. ": loaded state dict contains a parameter group that doesn't match the size of optimizer's group", 0)
    end
  end
  -- saved key -> parameter: by name when both sides are named, else by position
  local by_key = {}
  for i, g in ipairs(self.param_groups) do
    local ids = saved[i].params
    local by_name = g.param_names and type(ids[1]) == "string"
    local index = {}
    if by_name then for j, name in ipairs(g.param_names) do index[name] = g.params[j] end end
    for j, id in ipairs(ids) do
      local p = by_name and index[id] or (not by_name and g.params[j])
      if not p then
        error(string.format("%s: loaded state dict names parameter '%s', which the optimizer does not have", op, tostring(id)), 0)
      end
      by_key[id] = p
    end
  end
  local state = {}
  for id, s in pairs(sd.state) do
    local p = by_key[id]
    if p == nil then
      error(string.format("%s: loaded state dict has state for unknown parameter %s", op, tostring(id)), 0)
    end
    local copy = {}
    for k, v in pairs(s) do
      if is_tensor(v) then
        if k ~= "step" and v:is_floating_point() then
          if shape_str(v) ~= shape_str(p) then
            error(string.format("%s: state %s of parameter %s has shape %s, but the parameter has shape %s",
              op, k, tostring(id), shape_str(v), shape_str(p)), 0)
          end
          v = v:to(p.dtype)
        end
        copy[k] = v:clone()
      else
        copy[k] = type(v) == "table" and config.copy(v) or v
      end
    end
    state[p] = copy
  end
  self.state = state
  for i, g in ipairs(self.param_groups) do
    for k, v in pairs(saved[i]) do
      if k ~= "params" and k ~= "param_names" then g[k] = type(v) == "table" and config.copy(v) or v end
    end
  end
end

local function fmt(v)
  if type(v) == "boolean" then return v and "True" or "False" end
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = fmt(x) end
    return "(" .. table.concat(parts, ", ") .. ")"
  end
  return tostring(v)
end

-- Like PyTorch: the class name, then each group's hyperparameters in name order.
function Optimizer:__tostring()
  local lines = { self.__name .. " (" }
  for i, g in ipairs(self.param_groups) do
    lines[#lines + 1] = "Parameter Group " .. (i - 1)
    local keys = {}
    for k in pairs(g) do if k ~= "params" and k ~= "param_names" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do lines[#lines + 1] = "    " .. k .. ": " .. fmt(g[k]) end
  end
  lines[#lines + 1] = ")"
  return table.concat(lines, "\n")
end

-- Validates an options table against the names a constructor accepts.
Optimizer.check_options = config.check_options

-- group[k] as a number, else "<op>: <k> must be a number (got <type>)".
function Optimizer.check_number(op, group, k)
  local v = group[k]
  if type(v) ~= "number" then
    error(string.format("%s: %s must be a number (got %s)", op, k, type(v)), 0)
  end
  return v
end

function Optimizer.check_boolean(op, group, k)
  local v = group[k]
  if type(v) ~= "boolean" then
    error(string.format("%s: %s must be a boolean (got %s)", op, k, type(v)), 0)
  end
  return v
end

return Optimizer
