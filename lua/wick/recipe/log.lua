-- wick.recipe.log(metrics, step): metric history like wandb.log. Every call appends one JSON
-- line {"step": s, "<name>": value, ...} to metrics.jsonl in the run directory and writes each
-- value as a TensorBoard scalar there (rank 0; validated but written nowhere outside `wick run`).
-- A resumed run drops the lines at and after its checkpoint's step, as TensorBoard's purge_step.
local M = {}

M.FILE = "metrics.jsonl"

local function current() return require("wick.runs")._current() end

-- What this process logs into: {dir, rank, writer, file, step}, per run (nil outside a run).
local function state()
  local cur = current()
  if not cur then return nil end
  if cur.history then return cur.history end
  local purge = cur.resumed_from and math.tointeger(cur.resumed_from.step)
  -- the purge applies once to each of the file and the writer (a reopened one keeps what it has)
  local h = { dir = cur.dir, rank = cur.rank, step = -1, purge_file = purge, purge_tb = purge }
  cur.history = h
  return h
end

-- The number as JSON (Python's json writes NaN and Infinity, and so does this).
local function number(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "Infinity" end
  if v == -math.huge then return "-Infinity" end
  return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
end

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return c == '"' and '\\"' or c == "\\" and "\\\\" or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

-- Opens metrics.jsonl for appending; on a resumed run first keeps only the lines before the
-- checkpoint's step (written to a temporary file, renamed over the old one).
local function open_file(h)
  local path = h.dir .. "/" .. M.FILE
  local purge = h.purge_file
  h.purge_file = nil
  if purge then
    local old = io.open(path, "r")
    if old then
      local kept = {}
      for line in old:lines() do
        local s = tonumber(line:match('^{"step": (%-?%d+)'))
        if s and s < purge then kept[#kept + 1] = line .. "\n" end
      end
      old:close()
      require("wick.runs.files").write_file(path, table.concat(kept))
    end
  end
  local f, err = io.open(path, "a")
  if not f then error("wick.recipe.log: cannot open " .. path .. ": " .. tostring(err), 0) end
  return f
end

-- The run's SummaryWriter (rank 0 of a `wick run`; nil elsewhere), opened once, with the
-- resumed checkpoint's step as purge_step.
function M.writer()
  local h = state()
  if not h or h.rank ~= 0 then return nil end
  if not h.writer then
    h.writer = require("wick.tb").SummaryWriter(h.dir, { purge_step = h.purge_tb })
    h.purge_tb = nil
  end
  return h.writer
end

-- log({name = number | one-element tensor, ...}, step): step is an integer >= 0, or nil for the
-- step after the last one logged (0 first), as wandb.log counts.
function M.log(metrics, step)
  local op = "wick.recipe.log"
  if type(metrics) ~= "table" then
    error(("%s: expected a table of metrics {name = value, ...} (got %s)"):format(op, type(metrics)), 0)
  end
  local names, values = {}, {}
  for k, v in pairs(metrics) do
    if type(k) ~= "string" then error(("%s: metric names must be strings (got %s)"):format(op, type(k)), 0) end
    if type(v) ~= "number" then
      local ok, x = pcall(function() return v:item() end)
      if not ok or type(x) ~= "number" then
        error(("%s: metric '%s' must be a number or a one-element tensor (got %s)"):format(op, k, type(v)), 0)
      end
      v = x
    end
    names[#names + 1], values[k] = k, v
  end
  table.sort(names)
  local h = state()
  if step ~= nil and (math.tointeger(step) == nil or step < 0) then
    error(("%s: step must be an integer >= 0 (got %s)"):format(op, tostring(step)), 0)
  end
  if not h then return nil end
  step = step ~= nil and math.tointeger(step) or h.step + 1
  h.step = math.max(h.step, step)
  if h.rank ~= 0 then return step end
  local parts = { '{"step": ' .. step }
  for _, k in ipairs(names) do parts[#parts + 1] = quote(k) .. ": " .. number(values[k]) end
  h.file = h.file or open_file(h)
  h.file:write(table.concat(parts, ", "), "}\n")
  h.file:flush()
  local w = M.writer()
  for _, k in ipairs(names) do w:add_scalar(k, values[k], step) end
  return step
end

-- Flushes and closes what the run logged into (at the end of prepare's epochs, or by hand).
function M.close()
  local cur = current()
  local h = cur and cur.history
  if not h then return end
  if h.file then h.file:close() h.file = nil end
  if h.writer then h.writer:close() h.writer = nil end
end

return M
