-- optim.Optimizer: the base class of SGD, Adam, AdamW. Holds parameter groups (each a table of
-- hyperparameters plus `params`), per-parameter state, and PyTorch's state_dict layout.
local wick = require("wick")
local class = require("wick.class")
local config = require("wick.config")
local check_options = require("wick.util").check_options

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
  opts = check_options("zero_grad", opts, { "set_to_none" })
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

-- state_dict, load_state_dict (and their helper _param_keys)
for k, f in pairs(require("wick.optim.state_dict")) do Optimizer[k] = f end

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

-- Validates an options table against the names a constructor accepts (helpers of the
-- optimizers, kept out of REPL completion by their leading underscore).
Optimizer._check_options = check_options

-- group[k] as a number, else "<op>: <k> must be a number (got <type>)".
function Optimizer._check_number(op, group, k)
  local v = group[k]
  if type(v) ~= "number" then
    error(string.format("%s: %s must be a number (got %s)", op, k, type(v)), 0)
  end
  return v
end

function Optimizer._check_boolean(op, group, k)
  local v = group[k]
  if type(v) ~= "boolean" then
    error(string.format("%s: %s must be a boolean (got %s)", op, k, type(v)), 0)
  end
  return v
end

-- opt.step() (Python's dot) says to write opt:step()
class.guard_methods(Optimizer, "Optimizer", "opt")

return Optimizer
