-- Argument checks shared by the nn layers: option tables (wick.util.check_options), positive
-- sizes, and (h, w) pairs.
local repr = require("wick.nn.repr")

local M = {}

-- Checks that opts (nil or a table) only holds keys of `allowed` (wick.util's one checker).
M.options = require("wick.util").check_options

-- A positive integer argument.
function M.positive(op, what, v)
  if math.type(v) ~= "integer" or v <= 0 then
    error(("%s: %s must be a positive integer (got %s)"):format(op, what, tostring(v)), 0)
  end
  return v
end

-- A non-negative integer, or a pair of them, as a pair {h, w}.
function M.pair(op, what, v, min)
  min = min or 0
  local given = v
  if math.type(v) == "integer" then v = { v, v } end
  if type(v) ~= "table" or #v ~= 2 or math.type(v[1]) ~= "integer" or math.type(v[2]) ~= "integer"
      or v[1] < min or v[2] < min then
    error(("%s: %s must be an integer >= %d or a pair of them (got %s)"):format(op, what, min, repr.value(given)), 0)
  end
  return { v[1], v[2] }
end

-- The {dtype, device} factory options of a layer's parameters.
function M.factory(opts)
  return { dtype = opts.dtype, device = opts.device }
end

return M
