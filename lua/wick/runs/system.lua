-- System metrics of a run (`wick run --system-metrics SECS`): a separate wick process samples
-- the run's CPU use and RSS from /proc every SECS seconds and logs them as system/ scalars in
-- <run dir>/system, so the training thread never waits for it.
local M = {}

local util = require("wick.util")
local quote, read = util.shell_quote, util.read_file

-- CPU seconds (user + system) of pid, or nil when it is gone.
local function cpu_seconds(pid, hz)
  local stat = read("/proc/" .. pid .. "/stat")
  if not stat then return nil end
  local fields = {}
  for w in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  -- after "(comm) ": state is field 3 of proc(5), utime 14, stime 15
  return (tonumber(fields[12]) + tonumber(fields[13])) / hz
end

local function rss_mib(pid)
  local status = read("/proc/" .. pid .. "/status")
  local kb = status and status:match("VmRSS:%s*(%d+) kB")
  return kb and tonumber(kb) / 1024
end

-- Starts the monitor of this process; returns a function that stops it. Linux only (/proc):
-- elsewhere it returns nil.
function M.start(dir, secs)
  local core = require("wick.core")
  local pid = core._dist.getpid()
  if not read("/proc/" .. pid .. "/stat") then return nil end
  local cmd = string.format("WICK_MONITOR_PID=%d WICK_MONITOR_DIR=%s WICK_MONITOR_SECS=%s RANK=0 %s -e %s " ..
    ">/dev/null 2>&1 </dev/null & echo $!", pid, quote(dir), quote(secs), quote(core._dist.self_exe()),
    quote('require("wick.runs.system").monitor()'))
  local p = io.popen(cmd)
  local child = p and tonumber(p:read("l") or "")
  if p then p:close() end
  if not child then return nil end
  return function() os.execute("kill " .. child .. " 2>/dev/null") end
end

-- The monitor's loop (in its own process): until the run's process is gone or it is killed.
function M.monitor()
  local wick = require("wick")
  local pid = assert(tonumber(os.getenv("WICK_MONITOR_PID")))
  local dir = assert(os.getenv("WICK_MONITOR_DIR"))
  local secs = assert(tonumber(os.getenv("WICK_MONITOR_SECS")))
  local p = io.popen("getconf CLK_TCK 2>/dev/null")
  local hz = p and tonumber(p:read("l") or "") or 100
  if p then p:close() end
  local w = wick.tb.SummaryWriter(dir, { flush_secs = secs })
  local t0 = wick.perf_counter()
  local last_cpu, last_t = cpu_seconds(pid, hz), t0
  local step = 0
  while true do
    os.execute("sleep " .. secs)
    local cpu, t = cpu_seconds(pid, hz), wick.perf_counter()
    if not cpu then break end
    step = step + 1
    local elapsed = math.floor(t - t0 + 0.5)
    w:add_scalar("system/cpu_percent", 100 * (cpu - last_cpu) / math.max(t - last_t, 1e-3), elapsed)
    local rss = rss_mib(pid)
    if rss then w:add_scalar("system/rss_mib", rss, elapsed) end
    w:flush() -- the monitor is killed when the run ends: keep nothing queued
    last_cpu, last_t = cpu, t
  end
  w:close()
end

return M
