-- Optimizer:state_dict / load_state_dict, PyTorch's layout: state by 0-based parameter index
-- (or by name for named parameters) and the groups' hyperparameters. Mixed into Optimizer.
local wick = require("wick")
local config = require("wick.config")

local M = {}
local is_tensor = wick.is_tensor

-- The keys of parameters in a state dict: names when every group was given names, else
-- 0-based positions over all groups (PyTorch's packing).
function M:_param_keys()
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
function M:state_dict()
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
function M:load_state_dict(sd)
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

return M
