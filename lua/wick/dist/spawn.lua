-- wick.dist.spawn(fn, {nprocs, args, grace}): torch.multiprocessing.spawn by fork. Child i runs
-- fn(i, ...) with RANK/WORLD_SIZE/... and a store hosted by the parent, then exits; the parent
-- waits, and when one fails stops the others and raises with that child's error and traceback.
local core = require("wick.core")._dist
local config = require("wick.config")

local M = {}

M.SIGNALS = { [1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [6] = "SIGABRT",
  [7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [11] = "SIGSEGV", [13] = "SIGPIPE", [15] = "SIGTERM" }

function M.signame(sig) return M.SIGNALS[sig] or ("signal " .. sig) end

function M.spawn(fn, opts)
  opts = config.check_options("spawn", opts, { "nprocs", "args", "grace" })
  if type(fn) ~= "function" then error("spawn: expected a function (got " .. type(fn) .. ")", 0) end
  local n = opts.nprocs or 1
  if math.type(n) ~= "integer" or n < 1 then error("spawn: nprocs must be an integer >= 1 (got " .. tostring(n) .. ")", 0) end
  local args = opts.args or {}
  local secret = os.getenv("WICK_DIST_SECRET")
  if not secret or secret == "" then secret = core.random_secret() end
  -- the parent hosts the store, as the launcher does
  local store = n > 1 and core.TCPStore("127.0.0.1", 0, true, 300, secret) or nil
  local procs = core.procs(n)
  for i = 0, n - 1 do
    local fd = procs:fork(i)
    if fd then -- the child: never returns
      local env = { RANK = i, LOCAL_RANK = i, WORLD_SIZE = n, LOCAL_WORLD_SIZE = n, WICK_DIST_SECRET = secret,
        MASTER_ADDR = "127.0.0.1", MASTER_PORT = store and store:port() or 0, WICK_DIST_AGENT_STORE = 1 }
      for k, v in pairs(env) do core.setenv(k, tostring(v)) end
      local ok, err = xpcall(fn, debug.traceback, i, table.unpack(args, 1, args.n or #args))
      if not ok then core.write_fd(fd, tostring(err)) end
      core.exit_now(ok and 0 or 1)
    end
  end
  local failed, interrupted = procs:supervise(false, opts.grace or 5)
  if store then store:close() end
  if failed then
    local r = procs:result(failed)
    if r.message then
      error(string.format("spawn: process %d terminated with the following error:\n%s", failed, r.message), 0)
    elseif r.signal > 0 then
      error(string.format("spawn: process %d terminated with signal %s", failed, M.signame(r.signal)), 0)
    end
    error(string.format("spawn: process %d terminated with exit code %d", failed, r.code), 0)
  end
  if interrupted then error("interrupted!", 0) end
end

return M
