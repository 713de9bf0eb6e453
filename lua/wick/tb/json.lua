-- A small JSON encoder for add_mesh's config_dict (keys sorted, as Python's json.dumps(sort_keys=True)).
local M = {}

local function str(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local esc = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return esc[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function enc(op, v, depth)
  if depth > 64 then error(op .. ": config_dict is nested too deeply", 0) end
  local t = type(v)
  if t == "string" then return str(v) end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then error(op .. ": config_dict holds a non-finite number", 0) end
    return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
  end
  if t ~= "table" then error(("%s: config_dict cannot hold a %s"):format(op, t), 0) end
  if next(v) == nil then return "{}" end
  if #v > 0 then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = enc(op, x, depth + 1) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(v) do
    if type(k) ~= "string" then error(op .. ": config_dict keys must be strings", 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = str(k) .. ": " .. enc(op, v[k], depth + 1) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function M.encode(op, v) return enc(op, v, 0) end

return M
