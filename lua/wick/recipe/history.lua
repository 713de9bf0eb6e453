-- The metric history of runs (metrics.jsonl, written by wick.recipe.log) as `wick runs` shows
-- it: one more column with a metric's last value and a sparkline of its whole history.
local M = {}

M.WIDTH = 16 -- characters of a sparkline
local BARS = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }

local function parse_number(s)
  if s == "NaN" then return 0 / 0 end
  if s == "Infinity" then return math.huge end
  if s == "-Infinity" then return -math.huge end
  return tonumber(s)
end

-- The "name": value pairs of one line written by wick.recipe.log (flat: strings to numbers).
local function fields(line)
  local out, i = {}, 2
  while true do
    local s = line:find('"', i, true)
    if not s then return out end
    local j, key = s + 1, {}
    while true do
      local c = line:sub(j, j)
      if c == "" then return out end
      if c == '"' then break end
      if c == "\\" then j = j + 1 c = line:sub(j, j) end
      key[#key + 1], j = c, j + 1
    end
    local value, after = line:match("^:%s*([^,}]+)()", j + 1)
    if not value then return out end
    out[#out + 1], i = { table.concat(key), value }, after
  end
end

-- The history of dir: {names = {sorted}, series = {name = {values in step order}}}, or nil
-- when the run logged none. A step logged twice keeps its last value.
function M.read(dir)
  local f = io.open(dir .. "/" .. require("wick.recipe.log").FILE, "r")
  if not f then return nil end
  local by_name = {}
  for line in f:lines() do
    local step = tonumber(line:match('^{"step": (%-?%d+)'))
    if step then
      for _, kv in ipairs(fields(line)) do
        local name, v = kv[1], parse_number(kv[2])
        if name ~= "step" and v then
          by_name[name] = by_name[name] or {}
          by_name[name][step] = v
        end
      end
    end
  end
  f:close()
  local out = { names = {}, series = {} }
  for name, steps in pairs(by_name) do
    local order = {}
    for s in pairs(steps) do order[#order + 1] = s end
    table.sort(order)
    local values = {}
    for i, s in ipairs(order) do values[i] = steps[s] end
    out.names[#out.names + 1], out.series[name] = name, values
  end
  if #out.names == 0 then return nil end
  table.sort(out.names)
  return out
end

-- values drawn in at most `width` bars (each the mean of its share of the values), scaled from
-- their minimum to their maximum; non-finite values are left out.
function M.sparkline(values, width)
  width = width or M.WIDTH
  local finite = {}
  for _, v in ipairs(values) do if v == v and v ~= math.huge and v ~= -math.huge then finite[#finite + 1] = v end end
  local n = #finite
  if n == 0 then return "" end
  local points = {}
  for i = 1, math.min(n, width) do
    local lo, hi = (i - 1) * n // math.min(n, width) + 1, i * n // math.min(n, width)
    local sum = 0
    for j = lo, hi do sum = sum + finite[j] end
    points[i] = sum / (hi - lo + 1)
  end
  local min, max = math.huge, -math.huge
  for _, p in ipairs(points) do min, max = math.min(min, p), math.max(max, p) end
  local out = {}
  for i, p in ipairs(points) do
    local level = max > min and math.floor((p - min) / (max - min) * 7 + 0.5) + 1 or 4
    out[i] = BARS[level]
  end
  return table.concat(out)
end

local function fmt(v)
  if v ~= v then return "nan" end
  if math.type(v) == "integer" then return tostring(v) end
  return string.format("%.4g", v)
end

-- `wick runs`'s table (text, one line per run after the header, as list) with a column for
-- `metric` (default: the metric with the most values in the newest run that has a history):
-- its last value and sparkline. The table is returned as it was when no run has a history.
function M.with_column(text, list, metric)
  local hist, newest = {}, nil
  for i, r in ipairs(list) do
    hist[i] = M.read(r.dir)
    if hist[i] then newest = hist[i] end
  end
  if not newest then
    if metric then error(string.format("no run logged metrics with wick.recipe.log (no %s)", require("wick.recipe.log").FILE), 0) end
    return text
  end
  if not metric then -- the newest run's densest series (the training loss, usually)
    for _, name in ipairs(newest.names) do
      if not metric or #newest.series[name] > #newest.series[metric] then metric = name end
    end
  end
  local cells, found, all = { metric }, false, {}
  for i = 1, #list do
    local values = hist[i] and hist[i].series[metric]
    found = found or values ~= nil
    cells[i + 1] = values and (fmt(values[#values]) .. " " .. M.sparkline(values)) or "-"
    for _, name in ipairs(hist[i] and hist[i].names or {}) do all[name] = true end
  end
  if not found then
    local names = {}
    for name in pairs(all) do names[#names + 1] = name end
    table.sort(names)
    error(string.format("no run logged the metric '%s' (logged: %s)", metric, table.concat(names, ", ")), 0)
  end
  local lines, width = {}, 0
  for line in text:gmatch("[^\n]+") do
    lines[#lines + 1] = line
    width = math.max(width, utf8.len(line) or #line)
  end
  for i, line in ipairs(lines) do
    lines[i] = line .. string.rep(" ", width - (utf8.len(line) or #line)) .. "  " .. (cells[i] or "")
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
