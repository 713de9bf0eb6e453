-- default_collate: turns a list of samples into a batch, like PyTorch's default_collate.
-- samples[k] is the table of the values ds:get(i) returned ({x, y, n = 2}); the result is one
-- batch value per position: tensors are stacked along a new dim 0, numbers become a tensor
-- (integers i64, floats f32: wick.tensor's rule), booleans a bool tensor, strings stay a
-- table of strings, and tables are collated per key (arrays per position) recursively.
local wick = require("wick")

local M = {}

local collate_values

local function describe(v)
  if wick.is_tensor(v) then return "a tensor" end
  return "a " .. type(v)
end

local function collate_tables(values, where)
  local first = values[1]
  local out = {}
  for key in pairs(first) do
    local column = {}
    for k, v in ipairs(values) do
      if type(v) ~= "table" or v[key] == nil then
        error(string.format("default_collate: sample %d has no key %s%s", k - 1, tostring(key), where), 0)
      end
      column[k] = v[key]
    end
    out[key] = collate_values(column, where .. (type(key) == "string" and "." .. key or "[" .. tostring(key) .. "]"))
  end
  return out
end

function collate_values(values, where)
  local first = values[1]
  local kind = wick.is_tensor(first) and "tensor" or type(first)
  for k = 2, #values do
    local v = values[k]
    local vk = wick.is_tensor(v) and "tensor" or type(v)
    if vk ~= kind then
      error(string.format("default_collate: sample %d holds %s where sample 0 holds %s%s", k - 1,
        describe(v), describe(first), where), 0)
    end
  end
  if kind == "tensor" then
    local ok, r = pcall(wick.stack, values, 0)
    if not ok then error("default_collate: " .. tostring(r) .. where, 0) end
    return r
  elseif kind == "number" or kind == "boolean" then
    return wick.tensor(values)
  elseif kind == "string" then
    return values
  elseif kind == "table" then
    return collate_tables(values, where)
  end
  error(string.format("default_collate: cannot collate %s%s (samples hold tensors, numbers, booleans, strings and tables)",
    describe(first), where), 0)
end

-- default_collate(samples) -> the batch's values (one per value of a sample)
function M.default_collate(samples)
  local n = #samples
  if n == 0 then error("default_collate: no samples", 0) end
  local width = samples[1].n or #samples[1]
  for k = 2, n do
    local w = samples[k].n or #samples[k]
    if w ~= width then
      error(string.format("default_collate: sample %d has %d values where sample 0 has %d", k - 1, w, width), 0)
    end
  end
  local out = {}
  for pos = 1, width do
    local column = {}
    for k = 1, n do
      local v = samples[k][pos]
      if v == nil then error(string.format("default_collate: sample %d has nil as value %d", k - 1, pos), 0) end
      column[k] = v
    end
    out[pos] = collate_values(column, width > 1 and string.format(" (value %d)", pos) or "")
  end
  return table.unpack(out, 1, width)
end

return M
