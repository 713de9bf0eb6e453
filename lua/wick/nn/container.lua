-- Containers: Sequential (runs its children in order; an error names the child that failed),
-- ModuleList (an indexable list of children) and ModuleDict. Integer indices are 0-based,
-- negative from the end, as in PyTorch: seq[0] is the first layer.
local class = require("wick.class")
local Module = require("wick.nn.module")
local call_in = require("wick.util").call_in

local state, is_module = Module._state, Module.is_module

local M = {}

-- Position i (0-based, negative from the end) of a container as a 1-based index into names.
local function position(self, i, allow_end)
  local n = #state(self).module_names
  if math.type(i) ~= "integer" then
    error(("%s: index must be an integer (got %s)"):format(self:type_name(), type(i)), 0)
  end
  local j = i < 0 and i + n or i
  if j < 0 or j > n or (j == n and not allow_end) then
    error(("%s: index %d is out of range (%d modules)"):format(self:type_name(), i, n), 0)
  end
  return j + 1
end

local function getitem(self, i)
  local s = state(self)
  return s.modules[s.module_names[position(self, i)]]
end

local function setitem(self, i, m)
  if m == nil then error(self:type_name() .. ": cannot assign nil to an index (use pop)", 0) end
  self:add_module(state(self).module_names[position(self, i)], m)
end

local function len(self) return #state(self).module_names end

-- Renumbers children 0..n-1 in the given order (ModuleList after insert/pop).
local function renumber(self, mods)
  local s = state(self)
  for _, n in ipairs(s.module_names) do s.modules[n] = nil end
  s.module_names = {}
  for i, m in ipairs(mods) do self:add_module(tostring(i - 1), m) end
end

local function add_all(self, op, mods)
  for i, m in ipairs(mods) do
    if not is_module(m) then
      error(("%s: element %d is a %s, not a Module"):format(op, i, type(m)), 0)
    end
    self:append(m)
  end
  return self
end

-- Sequential(m1, m2, ...), Sequential({m1, m2, ...}), or named: Sequential({{"conv", m}, ...})
local Sequential = class("nn.Sequential", Module)
Sequential.__getitem, Sequential.__setitem, Sequential.__len = getitem, setitem, len

function Sequential:__init(...)
  Module.__init(self)
  local args = { ... }
  if #args == 1 and not is_module(args[1]) and type(args[1]) == "table" then args = args[1] end
  for i, a in ipairs(args) do
    if is_module(a) then self:add_module(tostring(i - 1), a)
    elseif type(a) == "table" and type(a[1]) == "string" and is_module(a[2]) then self:add_module(a[1], a[2])
    else error(("Sequential: argument %d is a %s, not a Module"):format(i, type(a)), 0) end
  end
end

-- An error in a child becomes "Sequential[i] (Type): message", i the child's name, with the
-- traceback of where the child raised it.
function Sequential:forward(x)
  local s = state(self)
  for _, name in ipairs(s.module_names) do
    local m = s.modules[name]
    x = call_in(function(e) return ("Sequential[%s] (%s): %s"):format(name, m:type_name(), e) end, m, x)
  end
  return x
end

function Sequential:append(m)
  self:add_module(tostring(len(self)), m)
  return self
end
function Sequential:extend(mods) return add_all(self, "extend", mods) end

-- seq:slice(start, stop): a Sequential of children start..stop-1 (0-based, Python's seq[a:b]),
-- keeping their names, sharing the modules.
function Sequential:slice(start, stop)
  local s, n = state(self), len(self)
  start = start or 0
  stop = stop or n
  if start < 0 then start = math.max(start + n, 0) end
  if stop < 0 then stop = stop + n end
  local out = Sequential()
  for j = start + 1, math.min(stop, n) do out:add_module(s.module_names[j], s.modules[s.module_names[j]]) end
  return out
end
M.Sequential = Sequential

-- ModuleList({m1, m2, ...}): children named "0", "1", ...; no forward of its own.
local ModuleList = class("nn.ModuleList", Module)
ModuleList.__getitem, ModuleList.__setitem, ModuleList.__len = getitem, setitem, len

function ModuleList:__init(mods)
  Module.__init(self)
  if mods ~= nil then add_all(self, "ModuleList", mods) end
end
function ModuleList:append(m)
  self:add_module(tostring(len(self)), m)
  return self
end
function ModuleList:extend(mods) return add_all(self, "extend", mods) end
function ModuleList:insert(i, m)
  local mods = self:children()
  table.insert(mods, position(self, i, true), m)
  renumber(self, mods)
  return self
end
function ModuleList:pop(i)
  local mods = self:children()
  local m = table.remove(mods, position(self, i == nil and -1 or i))
  renumber(self, mods)
  return m
end
M.ModuleList = ModuleList

-- ModuleDict({name = m, ...}) (names sorted) or ModuleDict({{"name", m}, ...}) (in order).
local ModuleDict = class("nn.ModuleDict", Module)
ModuleDict.__len = len

function ModuleDict:__init(mods)
  Module.__init(self)
  if mods ~= nil then self:update(mods) end
end
function ModuleDict:update(mods)
  if type(mods) ~= "table" then error("ModuleDict: expected a table of modules", 0) end
  if #mods > 0 then
    for _, kv in ipairs(mods) do self:add_module(kv[1], kv[2]) end
  else
    local names = {}
    for k in pairs(mods) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do self:add_module(k, mods[k]) end
  end
  return self
end
function ModuleDict:keys() return { table.unpack(state(self).module_names) } end
function ModuleDict:values() return self:children() end
function ModuleDict:items() return self:named_children() end
function ModuleDict:contains(k) return state(self).modules[k] ~= nil end
function ModuleDict:pop(k)
  local m = state(self).modules[k]
  if m == nil then error("ModuleDict: no module named '" .. tostring(k) .. "'", 0) end
  self:add_module(k, nil)
  return m
end
M.ModuleDict = ModuleDict

return M
