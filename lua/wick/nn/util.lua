-- Argument checks shared by the nn layers: option tables (unknown option = error with a
-- suggestion, as l_checkoptions in C), positive sizes, and (h, w) pairs.
local repr = require("wick.nn.repr")

local M = {}

local edit_distance = require("wick.util").edit_distance

-- Checks that opts (nil or a table) only holds keys of `allowed` (an array of names).
function M.options(op, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(("%s: options must be a table (got %s)"):format(op, type(opts)), 0) end
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(opts) do
    if type(k) ~= "string" then error(op .. ": unexpected positional value in the options table", 0) end
    if not set[k] then
      local best, bestd = nil, 3
      for _, a in ipairs(allowed) do
        local dd = edit_distance(k, a)
        if dd < bestd then best, bestd = a, dd end
      end
      if best then error(("%s: unknown option '%s' (did you mean '%s'?)"):format(op, k, best), 0) end
      error(("%s: unknown option '%s'"):format(op, k), 0)
    end
  end
  return opts
end

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
