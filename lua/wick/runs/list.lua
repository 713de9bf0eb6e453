-- `wick runs [DIR]`: the runs in a base directory and the table that lists them (name, date,
-- status, the hyperparameters that differ, final metrics).
local config = require("wick.config")
local util = require("wick.util")
local files = require("wick.runs.files")
local flatten = require("wick.runs.hparams").flatten
local lock = require("wick.runs.lock")
local quote, read_file = util.shell_quote, util.read_file

local runs = {}
runs.MAX_HPARAMS = 4
runs.MAX_METRICS = 4

local function fmt(v)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    if math.abs(v) >= 1000 and math.abs(v) < 1e15 then return string.format("%.0f", v) end -- 1394, not 1.394e+03
    return string.format("%.4g", v)
  end
  return tostring(v)
end

-- The runs in base (directories holding a meta.yaml), oldest first.
function runs.list(base)
  base = base or require("wick.runs").BASE
  local p = io.popen("ls -1 " .. quote(base) .. " 2>/dev/null")
  local out = p and p:read("a") or ""
  if p then p:close() end
  local list = {}
  for name in out:gmatch("[^\n]+") do
    local dir = base .. "/" .. name
    local meta = files.read_meta(dir)
    if meta then
      local text = read_file(dir .. "/config.yaml")
      local ok, cfg = pcall(config.loads, text or "")
      list[#list + 1] = { name = name, dir = dir, meta = meta,
        hparams = flatten(ok and type(cfg) == "table" and config.strip_nulls(cfg) or {}) }
    end
  end
  table.sort(list, function(a, b)
    local ta, tb = tostring(a.meta.start_time or ""), tostring(b.meta.start_time or "")
    if ta ~= tb then return ta < tb end
    return a.name < b.name
  end)
  return list
end

-- Key hyperparameters: those whose values differ across the runs (all of them when one run),
-- at most MAX_HPARAMS, in key order.
local function key_hparams(list)
  local keys, seen = {}, {}
  for _, r in ipairs(list) do
    for k in pairs(r.hparams) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
  end
  table.sort(keys)
  local differ = {}
  for _, k in ipairs(keys) do
    local first, diff = fmt(list[1].hparams[k]), false
    for _, r in ipairs(list) do diff = diff or fmt(r.hparams[k]) ~= first end
    if diff then differ[#differ + 1] = k end
  end
  if #list > 1 and #differ > 0 then keys = differ end
  local out = {}
  for i = 1, math.min(#keys, runs.MAX_HPARAMS) do out[i] = keys[i] end
  return out
end

-- The table printed by `wick runs`: a header and one line per run, columns padded.
function runs.format(list)
  local hkeys = key_hparams(list)
  local mkeys, seen = {}, {}
  for _, r in ipairs(list) do
    if type(r.meta.metrics) == "table" then
      for k in pairs(r.meta.metrics) do if not seen[k] then seen[k] = true; mkeys[#mkeys + 1] = k end end
    end
  end
  table.sort(mkeys)
  while #mkeys > runs.MAX_METRICS do table.remove(mkeys) end
  local rows = { { "name", "date", "status" } }
  for _, k in ipairs(hkeys) do rows[1][#rows[1] + 1] = k end
  for _, k in ipairs(mkeys) do rows[1][#rows[1] + 1] = k end
  for _, r in ipairs(list) do
    local t = tostring(r.meta.start_time or "?"):gsub("^(%d+%-%d+%-%d+)T(%d+:%d+):%d+Z$", "%1 %2")
    local status = tostring(r.meta.status or "?")
    -- a run still "running" whose process is gone (its lock left behind, or none) crashed
    if status == "running" and not lock.live(r.dir) then status = "crashed" end
    local row = { r.name, t, status }
    for _, k in ipairs(hkeys) do row[#row + 1] = r.hparams[k] == nil and "-" or fmt(r.hparams[k]) end
    local m = type(r.meta.metrics) == "table" and r.meta.metrics or {}
    for _, k in ipairs(mkeys) do row[#row + 1] = m[k] == nil and "-" or fmt(m[k]) end
    rows[#rows + 1] = row
  end
  local widths = {}
  for _, row in ipairs(rows) do
    for i, c in ipairs(row) do widths[i] = math.max(widths[i] or 0, utf8.len(c) or #c) end
  end
  local lines = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(row) do
      cells[i] = i == #row and c or c .. string.rep(" ", widths[i] - (utf8.len(c) or #c))
    end
    lines[#lines + 1] = table.concat(cells, "  ")
  end
  return table.concat(lines, "\n") .. "\n"
end

return runs
