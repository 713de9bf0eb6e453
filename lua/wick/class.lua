-- wick.class(name, parent): the one tiny OOP helper. A class is the metatable of its instances;
-- calling it builds an instance and runs its __init. Subclasses inherit methods and metamethods.
--
--   local Point = wick.class("Point")
--   function Point:__init(x, y) self.x, self.y = x, y end
--   local Point3 = wick.class("Point3", Point)
--   function Point3:__init(x, y, z) Point.__init(self, x, y); self.z = z end
--   wick.class.isinstance(Point3(1, 2, 3), Point) --> true
local class = {}

-- Lua looks metamethods up with rawget on the metatable, so a subclass copies its parent's.
local function inherit_metamethods(cls, parent)
  for k, v in pairs(parent) do
    if type(k) == "string" and k:sub(1, 2) == "__" and rawget(cls, k) == nil
        and k ~= "__name" and k ~= "__init" and k ~= "__index" then
      cls[k] = v
    end
  end
  -- a parent whose instances look methods up in the class itself: so do ours, in ours
  local idx = rawget(parent, "__index")
  cls.__index = (idx == parent) and cls or idx
end

local function new(cls, ...)
  local obj = setmetatable({}, cls)
  local init = cls.__init
  if init then init(obj, ...) end
  return obj
end

setmetatable(class, {
  __call = function(_, name, parent)
    if type(name) ~= "string" then
      error("class: expected a class name (got " .. type(name) .. ")", 2)
    end
    if parent ~= nil and (type(parent) ~= "table" or not rawget(parent, "__name")) then
      error("class: parent of " .. name .. " is not a class", 2)
    end
    local cls = { __name = name, super = parent }
    if parent then inherit_metamethods(cls, parent) else cls.__index = cls end
    return setmetatable(cls, {
      __index = parent,
      __call = new,
      __tostring = function() return "class " .. name end,
    })
  end,
})

-- The class of obj (nil for values that are not class instances).
function class.of(obj)
  local mt = getmetatable(obj)
  if type(mt) == "table" and rawget(mt, "__name") and rawget(mt, "__index") ~= nil then return mt end
  return nil
end

-- True when obj is an instance of cls or of a subclass of it.
function class.isinstance(obj, cls)
  local c = type(obj) == "table" and class.of(obj)
  while c do
    if c == cls then return true end
    c = rawget(c, "super")
  end
  return false
end

-- Wraps cls's methods (lowercase names, but those in `skip`) so that a call with '.' instead of
-- ':' (Python's m.parameters()) says how to write it, instead of failing inside the method:
-- "<what>: call parameters with ':' (write m:parameters(), not m.parameters())".
function class.guard_methods(cls, what, var, skip)
  for name, f in pairs(cls) do
    if type(f) == "function" and type(name) == "string" and name:match("^%l") and not (skip and skip[name]) then
      cls[name] = function(self, ...)
        if not class.isinstance(self, cls) then
          error(string.format("%s: call %s with ':' (write %s:%s(), not %s.%s())", what, name, var, name, var, name), 0)
        end
        return f(self, ...)
      end
    end
  end
end

return class
