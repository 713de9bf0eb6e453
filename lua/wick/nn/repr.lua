-- How modules print: PyTorch's nested repr, "Linear(in_features=4, out_features=2, bias=true)",
-- children indented under their names. Layers describe themselves in extra_repr().
local M = {}

-- A Lua value as it appears in extra_repr: {3, 3} for a pair of sizes.
function M.value(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = M.value(x) end
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif type(v) == "string" then
    return "'" .. v .. "'"
  end
  return tostring(v)
end

-- "a=1, b={2, 2}" from an array of {name, value} (a nil name prints the value alone).
function M.fields(items)
  local parts = {}
  for _, it in ipairs(items) do
    parts[#parts + 1] = it[1] and (it[1] .. "=" .. M.value(it[2])) or M.value(it[2])
  end
  return table.concat(parts, ", ")
end

local function repr(self)
  local extra = self:extra_repr()
  local lines = {}
  if extra ~= "" then
    for line in (extra .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  end
  local nextra = #lines
  for _, item in ipairs(self:named_children()) do
    local s = tostring(item[2]):gsub("\n", "\n  ")
    lines[#lines + 1] = "(" .. item[1] .. "): " .. s
  end
  local head = self:type_name() .. "("
  if #lines == 0 then return head .. ")" end
  if nextra == 1 and #lines == 1 then return head .. lines[1] .. ")" end
  return head .. "\n  " .. table.concat(lines, "\n  ") .. "\n)"
end

function M.install(Module)
  Module.extra_repr = function() return "" end
  Module._repr = repr
end

return M
