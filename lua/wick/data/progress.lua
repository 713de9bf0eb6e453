-- The DataLoader's progress bar, tqdm-like, redrawn in place on stderr with \r:
--   epoch 3:  45%|█████▌      | 212/469 [00:03<00:04, 7832 samples/s, loss=0.3421]
-- Shown by default only when stdout and stderr are terminals (and on rank 0 under a
-- launcher); silent otherwise. Values given to set_postfix (numbers or one-element tensors)
-- are read only when a line is drawn, at most every `interval` seconds.
local wick = require("wick")
local core = require("wick.core")._data

local M = {}
local Bar = {}
Bar.__index = Bar

local PARTIAL = { "▏", "▎", "▍", "▌", "▋", "▊", "▉" }

-- Whether a bar should show for `mode` (true, false, or nil = automatic).
function M.enabled(mode)
  if mode ~= nil then return mode and true or false end
  local rank = os.getenv("RANK")
  if rank and rank ~= "" and rank ~= "0" then return false end
  return core.isatty(1) and core.isatty(2)
end

-- M.new(total_steps, {desc, out = function(text), clock = function() -> s, width, interval})
function M.new(total, opts)
  opts = opts or {}
  local self = setmetatable({
    total = total, desc = opts.desc, postfix = {}, steps = 0, samples = 0,
    out = opts.out or function(s) io.stderr:write(s); io.stderr:flush() end,
    clock = opts.clock or wick.perf_counter, width = opts.width,
    interval = opts.interval or 0.1, last_draw = -math.huge, last_len = 0,
  }, Bar)
  self.start = self.clock()
  return self
end

local function clock_str(s)
  s = math.max(0, math.floor(s + 0.5))
  local h, m = s // 3600, s % 3600 // 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, s % 60) end
  return string.format("%02d:%02d", m, s % 60)
end

local function value_str(v)
  if wick.is_tensor(v) then v = v:item() end
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "number" then return string.format("%.4g", v) end
  return tostring(v)
end

function Bar:set_postfix(tbl)
  self.postfix = tbl or {}
end

function Bar:set_description(desc)
  self.desc = desc
end

-- The text of the bar now (without \r).
function Bar:line(now)
  local elapsed = now - self.start
  local done, total = self.steps, self.total
  local rate = elapsed > 0 and self.samples / elapsed or 0
  local eta = done > 0 and (total - done) * elapsed / done or nil
  local parts = { string.format("%d/%d [%s<%s, %s samples/s", done, total, clock_str(elapsed),
    eta and clock_str(eta) or "?", rate >= 100 and string.format("%.0f", rate) or string.format("%.1f", rate)) }
  local keys = {}
  for k in pairs(self.postfix) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. value_str(self.postfix[k]) end
  local right = table.concat(parts, ", ") .. "]"
  local frac = total > 0 and done / total or 1
  local left = string.format("%s%3d%%|", self.desc and self.desc .. ": " or "", math.floor(frac * 100))
  local width = self.width or core.terminal_width(2) or tonumber(os.getenv("COLUMNS")) or 80
  -- one column spare: a line as wide as the terminal wraps on some terminals
  local bar_w = width - utf8.len(left) - utf8.len(right) - 3
  if bar_w < 5 then return left:sub(1, -2) .. " " .. right end
  local cells = frac * bar_w
  local full = math.floor(cells)
  local bar = string.rep("█", full)
  local part = math.floor((cells - full) * 8)
  if full < bar_w then
    bar = bar .. (part > 0 and PARTIAL[part] or " ") .. string.rep(" ", bar_w - full - 1)
  end
  return left .. bar .. "| " .. right
end

function Bar:draw(final)
  local now = self.clock()
  if not final and now - self.last_draw < self.interval then return end
  self.last_draw = now
  local text = self:line(now)
  local len = utf8.len(text)
  -- blank what a longer previous line left behind
  local pad = self.last_len > len and string.rep(" ", self.last_len - len) or ""
  self.last_len = len
  self.out("\r" .. text .. pad .. (final and "\n" or ""))
end

-- steps and samples completed so far
function Bar:update(steps, samples)
  self.steps, self.samples = steps, samples
  self:draw(false)
end

function Bar:close()
  if self.closed then return end
  self.closed = true
  self:draw(true)
  self.postfix = {} -- drop references to tensors (a loss keeps its graph alive)
end

return M
