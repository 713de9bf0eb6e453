-- wick.dist.TCPStore: PyTorch's TCPStore (set/get/add/wait/compare_set/delete_key/num_keys/check)
-- over the C store of src/dist. Every client presents the run's shared secret.
local core = require("wick.core")._dist
local config = require("wick.config")

local M = {}

M.DEFAULT_TIMEOUT = 300 -- seconds, as PyTorch

-- The run's secret: the option, else WICK_DIST_SECRET (set by `wick run -n N` and spawn).
function M.secret(fn, given)
  local s = given or os.getenv("WICK_DIST_SECRET")
  if s == nil or s == "" then
    error(fn .. ": needs the run's shared secret (the secret option, or WICK_DIST_SECRET as set by wick run -n N)", 0)
  end
  return s
end

-- The message of a rendezvous that timed out: members 0..n-1 check in under prefix .. i, and
-- the ones whose key s lacks are missing. what: "rank" or "node".
function M.missing_report(s, prefix, n, what, timeout)
  local missing = {}
  for i = 0, n - 1 do
    if not s:check({ prefix .. i }) then missing[#missing + 1] = i end
  end
  return string.format("rendezvous: %d of %d %ss joined within %g s; missing %s%s %s", n - #missing, n, what,
    timeout, what, #missing == 1 and "" or "s", table.concat(missing, ", "))
end

-- TCPStore(host, port, {is_master = false, world_size, timeout = 300, secret}). With is_master
-- this process hosts the server (port 0: any free port; store:port() says which).
function M.TCPStore(host, port, opts)
  opts = config.check_options("TCPStore", opts, { "is_master", "world_size", "timeout", "secret", "wait_for_workers" })
  if type(host) ~= "string" then error("TCPStore: host must be a string (got " .. type(host) .. ")", 0) end
  if math.type(port) ~= "integer" or port < 0 or port > 65535 or (port == 0 and not opts.is_master) then
    error("TCPStore: invalid port " .. tostring(port), 0)
  end
  local timeout = opts.timeout or M.DEFAULT_TIMEOUT
  if type(timeout) ~= "number" or timeout <= 0 then
    error("TCPStore: timeout must be a positive number of seconds (got " .. tostring(timeout) .. ")", 0)
  end
  return core.TCPStore(host, port, opts.is_master and true or false, timeout, M.secret("TCPStore", opts.secret))
end

return M
