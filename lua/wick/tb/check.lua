-- Argument checks shared by the SummaryWriter methods: tags, steps, walltimes, option tables.
-- They run on every rank, so a no-op writer (rank != 0) still rejects what rank 0 would.
local core = require("wick.core")
local check_options = require("wick.util").check_options

local M = {}

function M.options(op, opts, allowed)
  return check_options(op, opts, allowed)
end

function M.tag(op, tag, what)
  what = what or "tag"
  if type(tag) ~= "string" then
    error(("%s: %s must be a string (got %s)"):format(op, what, type(tag)), 0)
  end
  -- protobuf `string` fields must be UTF-8: TensorBoard's loader rejects the whole file otherwise
  if not utf8.len(tag) then error(("%s: %s is not valid UTF-8"):format(op, what), 0) end
  if tag:find("\0", 1, true) then error(("%s: %s contains a NUL byte"):format(op, what), 0) end
  return tag
end

-- global_step: nil (unset, read as 0) or a non-negative number; a float is truncated toward
-- zero, as PyTorch's writer does (event.step = int(global_step)).
function M.step(op, step)
  if step == nil then return 0 end
  if type(step) ~= "number" then error(("%s: global_step must be a number (got %s)"):format(op, type(step)), 0) end
  if step ~= step or step == math.huge or step == -math.huge then
    error(("%s: global_step must be finite (got %s)"):format(op, step ~= step and "nan" or tostring(step)), 0)
  end
  step = math.tointeger(step < 0 and math.ceil(step) or math.floor(step))
  if step == nil then error(op .. ": global_step is out of range", 0) end
  if step < 0 then error(("%s: global_step must be >= 0 (got %d)"):format(op, step), 0) end
  return step
end

-- walltime: seconds since the epoch; NaN or infinite times make TensorBoard drop events or files.
function M.walltime(op, wt)
  if wt == nil then return core._tb.now() end
  if type(wt) ~= "number" or wt ~= wt or wt == math.huge or wt == -math.huge then
    error(("%s: walltime must be a finite number of seconds (got %s)"):format(op,
      wt ~= wt and "nan" or tostring(wt)), 0)
  end
  return wt + 0.0
end

-- A number, or a one-element tensor (its value).
function M.number(op, v, what)
  if core.is_tensor(v) then
    if v:numel() ~= 1 then
      error(("%s: %s must be a number or a one-element tensor (got a tensor of %d elements)"):format(
        op, what, v:numel()), 0)
    end
    return v:item() + 0.0
  end
  if type(v) ~= "number" then
    error(("%s: %s must be a number (got %s)"):format(op, what, type(v)), 0)
  end
  return v + 0.0
end

-- The keys of a table of string keys, sorted: Lua tables have no order, so writers sort.
function M.sorted_keys(op, t, what)
  if type(t) ~= "table" then error(("%s: %s must be a table (got %s)"):format(op, what, type(t)), 0) end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then
      error(("%s: the keys of %s must be strings (got %s)"):format(op, what, type(k)), 0)
    end
    M.tag(op, k, "key '" .. k .. "' of " .. what)
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

return M
