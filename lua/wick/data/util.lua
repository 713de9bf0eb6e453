-- Small helpers shared by wick.data: classes, index and option checks, lengths of datasets.

local util = {}

-- A class table: instances have it as metatable (so it holds __len, __tostring), and calling
-- it builds one with cls.new(...).
function util.class(name)
  local cls = { __name = name }
  cls.__index = cls
  return setmetatable(cls, { __call = function(c, ...) return c.new(...) end })
end

-- Options table check with "did you mean" suggestions (as every wick function does).
util.check_options = require("wick.util").check_options

-- A 0-based index (negative counts from the end) checked against n samples.
function util.check_index(name, i, n)
  if math.type(i) ~= "integer" then
    if math.type(i) == "float" and i == math.floor(i) then
      i = math.tointeger(i)
    else
      error(string.format("%s: index must be an integer (got %s)", name,
        type(i) == "number" and tostring(i) or type(i)), 0)
    end
  end
  if i < -n or i >= n then
    error(string.format("%s: index %d is out of range for %d samples", name, i, n), 0)
  end
  return i < 0 and i + n or i
end

-- The length of a dataset-like object (anything with #), or an integer itself.
function util.length(name, x)
  if math.type(x) == "integer" then
    if x < 0 then error(string.format("%s: the number of samples must be >= 0 (got %d)", name, x), 0) end
    return x
  end
  local ok, n = pcall(function() return #x end)
  if not ok or math.type(n) ~= "integer" then
    error(string.format("%s: expected a dataset (with #ds) or a number of samples (got %s)", name,
      type(x)), 0)
  end
  return n
end

return util
