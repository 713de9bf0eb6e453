-- The worker's side of `wick run -n N`: a heartbeat to the launcher's store while it runs (so a
-- stopped or frozen rank is noticed within --heartbeat-timeout), and its error recorded there
-- in the order errors happen (so the launcher names the rank that failed first).
local core = require("wick.core")._dist

local M = {}

-- The store keys of this start of the workers (the launcher restarts them with WICK_RESTART).
local function attempt() return os.getenv("WICK_RESTART") or "0" end
function M.error_key(rank, n) return "launch/error/" .. (n or attempt()) .. "/" .. rank end
function M.beat_key(rank, n) return "launch/beat/" .. (n or attempt()) .. "/" .. rank end
M.ERROR_SEQ = "launch/error_seq"

local function store_address()
  return os.getenv("MASTER_ADDR"), math.tointeger(tonumber(os.getenv("MASTER_PORT") or "")), os.getenv("WICK_DIST_SECRET")
end

-- Runs fn(...) as rank $RANK: with a heartbeat every $WICK_HEARTBEAT_INTERVAL seconds, and when
-- fn raises, the error recorded as "<n>\n<message and traceback>" (n counts the run's errors)
-- before it propagates. It reaches the host as an object whose text already holds the
-- traceback, which the host prints as is.
function M.run(fn, ...)
  local rank = os.getenv("RANK")
  local host, port, secret = store_address()
  local interval = tonumber(os.getenv("WICK_HEARTBEAT_INTERVAL") or "")
  local beat
  if interval and interval > 0 and port then
    local ok, hb = pcall(core.heartbeat, host, port, secret, M.beat_key(rank), interval)
    if ok then beat = hb end
  end
  local function handler(e)
    local mt = getmetatable(e)
    local msg = type(e) == "string" and e or (mt and mt.__tostring and tostring(e))
    if not msg then return e end
    local full = debug.traceback(msg, 2)
    pcall(function()
      local store <close> = core.TCPStore(host, port, false, 5, secret)
      store:set_timeout(5)
      store:set(M.error_key(rank), store:add(M.ERROR_SEQ, 1) .. "\n" .. full)
    end)
    return setmetatable({}, { __tostring = function() return full end })
  end
  local r = table.pack(xpcall(fn, handler, ...))
  if beat then beat:close() end
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

return M
