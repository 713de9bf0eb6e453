-- The lock of a run directory: held by the process that runs it (the launcher of -n N, else the
-- run itself) from before it touches the directory until it has recorded the end. The lock is
-- the directory DIR/lock (mkdir is atomic) holding `holder`: pid, host, boot id and the start
-- time of the process, so that a lock left by a dead process is recognised and taken over.
local config = require("wick.config")
local core = require("wick.core")
local util = require("wick.util")
local files = require("wick.runs.files")
local quote, read_file = util.shell_quote, util.read_file

local M = {}

local function boot_id() return (read_file("/proc/sys/kernel/random/boot_id") or ""):match("[%x%-]+") or "" end

-- The start time of process pid in clock ticks since boot (/proc/PID/stat field 22), or nil
-- when there is no such process.
local function start_ticks(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if not stat then return nil end
  local rest = stat:match("^%d+ %b() (.*)$")
  if not rest then return nil end
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  if fields[1] == "Z" or fields[1] == "X" then return nil end -- exited, not yet reaped
  return math.tointeger(tonumber(fields[20]))
end

function M.path(dir) return dir .. "/lock" end

-- The holder recorded in dir's lock: {pid, host, boot_id, start_ticks, since}, {} when the lock
-- is being taken (no holder written yet), nil when there is no lock.
function M.holder(dir)
  local text = read_file(M.path(dir) .. "/holder")
  if not text then
    return os.execute("test -d " .. quote(M.path(dir))) == true and {} or nil
  end
  local ok, h = pcall(config.loads, text)
  return ok and type(h) == "table" and h or {}
end

-- "alive", "dead" (a process of this host that is gone, or from before its reboot) or
-- "unknown" (another host's, or a lock being taken) for a holder.
function M.state(h)
  if not h.pid or h.host ~= core._tb.hostname() then return "unknown" end
  if h.boot_id ~= boot_id() then return "dead" end
  return start_ticks(h.pid) == h.start_ticks and "alive" or "dead"
end

local function describe(h)
  return string.format("pid %s on %s, since %s", tostring(h.pid or "?"), tostring(h.host or "?"), tostring(h.since or "?"))
end

-- Raises, naming the holder, when dir's lock is held by a live run (or one this host cannot
-- check). Returns the holder of a stale lock (or nil when there is no lock).
function M.check(dir)
  local h = M.holder(dir)
  if not h or M.state(h) == "dead" then return h end
  if not h.pid then
    error(string.format("run directory '%s' is being taken by another wick run (%s has no holder yet)",
      dir, M.path(dir)), 0)
  elseif M.state(h) == "alive" then
    error(string.format("run directory '%s' is in use by a live run (%s)", dir, describe(h)), 0)
  end
  error(string.format("run directory '%s' is locked by a run on another host (%s): remove %s if that run is gone",
    dir, describe(h), M.path(dir)), 0)
end

-- Takes dir's lock for this process, taking over one left by a dead process; raises as check
-- does when it is held.
function M.acquire(dir)
  local me = { pid = core._dist.getpid(), host = core._tb.hostname(), boot_id = boot_id(), since = files.now_iso() }
  me.start_ticks = start_ticks(me.pid)
  for _ = 1, 3 do
    if os.execute("mkdir " .. quote(M.path(dir)) .. " 2>/dev/null") then
      local ok, err = pcall(files.write_file, M.path(dir) .. "/holder", config.dump(me))
      if not ok then
        os.execute("rm -rf " .. quote(M.path(dir)))
        error(err, 0)
      end
      return me
    end
    if M.check(dir) then
      -- a stale lock: moved aside (one taker wins the rename), then removed
      local aside = M.path(dir) .. ".stale." .. me.pid
      if os.rename(M.path(dir), aside) then os.execute("rm -rf " .. quote(aside)) end
    end
  end
  error(string.format("cannot lock the run directory '%s'", dir), 0)
end

-- Releases dir's lock when this process holds it.
function M.release(dir)
  local h = M.holder(dir)
  if h and h.pid == core._dist.getpid() and h.host == core._tb.hostname() then
    os.remove(M.path(dir) .. "/holder")
    os.remove(M.path(dir))
  end
end

-- Whether the run in dir, recorded as running, still has a live process: false when its lock
-- is gone or was left by a dead process (the run crashed).
function M.live(dir)
  local h = M.holder(dir)
  if not h then return false end
  return M.state(h) ~= "dead"
end

return M
