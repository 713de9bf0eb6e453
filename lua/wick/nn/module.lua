-- nn.Module: the base class of layers. Registers parameters, buffers and children (by field
-- assignment or register_*), walks them under PyTorch's dotted names, train/eval, apply, hooks.
-- Walking the tree is in nn/walk.lua, state dicts in state_dict.lua, freezing and :to in
-- params.lua, printing in repr.lua, summary in summary.lua.
local wick = require("wick")
local class = require("wick.class")

local Module = class("nn.Module")

-- Everything a module holds lives in one hidden table, so that every field assignment reaches
-- __newindex (a Module or parameter assigned to a field is registered, as in PyTorch).
local STATE = setmetatable({}, { __name = "nn.Module state" })
local PARAMETER = setmetatable({}, { __mode = "k" }) -- tensors made by nn.Parameter

local function state(self)
  local s = rawget(self, STATE)
  if not s then
    s = {
      attrs = { training = true },
      params = {}, param_names = {},
      buffers = {}, buffer_names = {}, nonpersistent = {},
      modules = {}, module_names = {},
      hooks = {}, pre_hooks = {}, next_hook = 0,
    }
    rawset(self, STATE, s)
  end
  return s
end
Module._state = state

function Module.is_module(v) return type(v) == "table" and rawget(v, STATE) ~= nil end
local is_module = Module.is_module

-- "Linear" for nn.Linear, "Net" for a user class named "Net".
function Module.type_name(m)
  local name = getmetatable(m).__name or "Module"
  return (name:gsub("^nn%.", ""))
end

local function od_set(map, names, k, v)
  if map[k] == nil then names[#names + 1] = k end
  map[k] = v
end

local function od_remove(map, names, k)
  if map[k] == nil then return end
  map[k] = nil
  for i, n in ipairs(names) do
    if n == k then table.remove(names, i) break end
  end
end

local function forget(s, k)
  od_remove(s.params, s.param_names, k)
  od_remove(s.buffers, s.buffer_names, k)
  od_remove(s.modules, s.module_names, k)
  s.nonpersistent[k] = nil
  s.attrs[k] = nil
end

local function check_name(self, what, name)
  if type(name) ~= "string" then
    error(("%s: %s name should be a string (got %s)"):format(Module.type_name(self), what, type(name)), 0)
  elseif name == "" or name:find(".", 1, true) then
    error(("%s: %s name can't be empty or contain \".\" (got \"%s\")"):format(Module.type_name(self), what, name), 0)
  end
end

-- nn.Parameter(t, requires_grad = true): a leaf sharing t's storage, marked as a parameter so
-- that assigning it to a module field registers it even when it does not require grad.
function Module.Parameter(t, requires_grad)
  if not wick.is_tensor(t) then error("Parameter: expected a tensor (got " .. type(t) .. ")", 0) end
  local p = t:detach()
  p:requires_grad_(requires_grad ~= false)
  PARAMETER[p] = true
  return p
end

function Module:register_parameter(name, t)
  check_name(self, "parameter", name)
  local s = state(self)
  if t == nil then return forget(s, name) end
  if not wick.is_tensor(t) then
    error(("%s: cannot assign a %s as parameter '%s' (expected a tensor or nil)"):format(Module.type_name(self), type(t), name), 0)
  end
  if not t.is_leaf then
    error(("%s: cannot assign a non-leaf tensor as parameter '%s' (parameters must be leaves: use t:detach())"):format(Module.type_name(self), name), 0)
  end
  if s.params[name] == nil then forget(s, name) end
  PARAMETER[t] = true
  od_set(s.params, s.param_names, name, t)
end

-- register_buffer(name, tensor, {persistent = true}): non-persistent buffers stay out of state_dict.
function Module:register_buffer(name, t, opts)
  check_name(self, "buffer", name)
  local s = state(self)
  if t == nil then return forget(s, name) end
  if not wick.is_tensor(t) then
    error(("%s: cannot assign a %s as buffer '%s' (expected a tensor or nil)"):format(Module.type_name(self), type(t), name), 0)
  end
  if s.buffers[name] == nil then forget(s, name) end
  od_set(s.buffers, s.buffer_names, name, t)
  s.nonpersistent[name] = (opts and opts.persistent == false) or nil
end

function Module:add_module(name, m)
  check_name(self, "module", name)
  local s = state(self)
  if m == nil then return forget(s, name) end
  if not is_module(m) then
    error(("%s: cannot assign a %s as child module '%s' (expected a Module or nil)"):format(Module.type_name(self), type(m), name), 0)
  end
  if s.modules[name] == nil then forget(s, name) end
  od_set(s.modules, s.module_names, name, m)
end
Module.register_module = Module.add_module

function Module.__init(self) state(self) end

function Module.__index(self, k)
  local s = rawget(self, STATE)
  if s then
    local v = s.params[k]
    if v ~= nil then return v end
    v = s.buffers[k]
    if v ~= nil then return v end
    v = s.modules[k]
    if v ~= nil then return v end
    v = s.attrs[k]
    if v ~= nil then return v end
  end
  local cls = getmetatable(self)
  if type(k) ~= "string" and cls.__getitem then return cls.__getitem(self, k) end
  return cls[k]
end

function Module.__newindex(self, k, v)
  if type(k) ~= "string" then
    local set = getmetatable(self).__setitem
    if set then return set(self, k, v) end
    error(("%s: field names must be strings (got %s)"):format(Module.type_name(self), type(k)), 0)
  end
  local s = state(self)
  if is_module(v) or s.modules[k] then return self:add_module(k, v) end
  if s.params[k] or (v ~= nil and PARAMETER[v]) then
    return self:register_parameter(k, v)
  end
  if s.buffers[k] then return self:register_buffer(k, v, { persistent = not s.nonpersistent[k] }) end
  s.attrs[k] = v
end

function Module:forward()
  error(Module.type_name(self) .. ": missing the required forward function", 0)
end

function Module.__call(self, ...)
  local s = rawget(self, STATE)
  if not (s and (next(s.hooks) or next(s.pre_hooks))) then return self:forward(...) end
  local args = table.pack(...)
  for _, h in ipairs(s.pre_hooks) do
    local r = h.fn(self, args)
    if r ~= nil then args = type(r) == "table" and not wick.is_tensor(r) and r or table.pack(r) end
  end
  local out = table.pack(self:forward(table.unpack(args, 1, args.n)))
  for _, h in ipairs(s.hooks) do
    local r = h.fn(self, args, out[1])
    if r ~= nil then out = table.pack(r) end
  end
  return table.unpack(out, 1, out.n)
end

local function add_hook(self, key, fn)
  if type(fn) ~= "function" then error("register_forward_hook: expected a function", 0) end
  local s = state(self)
  local h = { fn = fn }
  table.insert(s[key], h)
  return { remove = function()
    for i, x in ipairs(s[key]) do
      if x == h then table.remove(s[key], i) return end
    end
  end }
end
-- fn(module, args) may return replacement args; fn(module, args, output) a replacement output.
function Module:register_forward_pre_hook(fn) return add_hook(self, "pre_hooks", fn) end
function Module:register_forward_hook(fn) return add_hook(self, "hooks", fn) end

function Module.__tostring(self) return self:_repr() end

require("wick.nn.walk")(Module)
require("wick.nn.params")(Module)
require("wick.nn.state_dict")(Module)
require("wick.nn.repr").install(Module)
require("wick.nn.summary")(Module)

-- m.parameters() (Python's dot) calls the method without the module: say how to write it,
-- instead of "attempt to index a nil value (local 'self')" inside the method.
class.guard_methods(Module, "Module", "m", { is_module = true, type_name = true, glob_matches = true,
  forward = true, extra_repr = true })

return Module
