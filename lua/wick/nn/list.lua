-- Lists that are also iterators: what Module:parameters(), named_parameters(), children() ...
-- return. A plain Lua array (ipairs, #, [i]) that a generic `for` can also call directly:
--   for p in model:parameters() do ... end           -- values
--   for name, p in model:named_parameters() do ... end  -- {name, value} pairs, unpacked
-- The iteration is stateless (the control variable finds the position), so `break` and
-- iterating the same list twice are both fine.
local M = {}

local positions = setmetatable({}, { __mode = "k" }) -- list -> {key = index}

local function position(list, key, keyfn)
  local pos = positions[list]
  if not pos or pos.n ~= #list then
    pos = { n = #list }
    for i, item in ipairs(list) do pos[keyfn(item)] = i end
    positions[list] = pos
  end
  return pos[key]
end

local function first(item) return item[1] end
local function self_key(item) return item end

local pairs_mt = {
  __call = function(list, _, name)
    local i = name == nil and 1 or (position(list, name, first) or #list) + 1
    local item = list[i]
    if item then return item[1], item[2] end
  end,
}

local values_mt = {
  __call = function(list, _, value)
    local i = value == nil and 1 or (position(list, value, self_key) or #list) + 1
    return list[i]
  end,
}

-- An array of {name, value} pairs; names must be unique.
function M.pairs(items) return setmetatable(items or {}, pairs_mt) end
-- An array of distinct values.
function M.values(items) return setmetatable(items or {}, values_mt) end

return M
