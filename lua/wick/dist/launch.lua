-- The launcher of `wick run -n N`: hosts the run's store, starts N workers (this same program
-- running the same file) with RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE MASTER_ADDR
-- MASTER_PORT WICK_DIST_SECRET, prefixes their output lines with "[rank] ", and when one fails
-- stops the others and reports that rank's error. The process work is C (src/dist/launch.c).
local core = require("wick.core")._dist
local spawn = require("wick.dist.spawn")

local M = {}

M.GRACE = 5       -- seconds between SIGTERM and SIGKILL
M.TAIL_LINES = 20 -- lines of the failed rank's stderr repeated in the report

local SET = { "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
  "WICK_DIST_SECRET", "WICK_DIST_AGENT_STORE" }

local function fail(msg)
  io.stderr:write("wick run: ", msg, "\n")
  io.stderr:flush()
end

-- run(opts, args, file_index) -> exit code. opts: nproc, master_addr, master_port.
function M.run(opts, args, file_index)
  local n = opts.nproc
  local addr = opts.master_addr or "127.0.0.1"
  local secret = core.random_secret()
  local ok, store = pcall(core.TCPStore, addr, opts.master_port or 0, true, 60, secret)
  if not ok then fail(tostring(store)) return 1 end
  local exe = core.self_exe()
  local argv = { exe, "run", "--" }
  for i = file_index, #args do argv[#argv + 1] = args[i] end
  local skip = {}
  for _, k in ipairs(SET) do skip[k] = true end
  local base = {}
  for _, kv in ipairs(core.environ()) do
    local k = kv:match("^([^=]*)=")
    if k and not skip[k] then base[#base + 1] = kv end
  end
  -- as torchrun: one OpenMP thread per worker unless the user says otherwise
  if not os.getenv("OMP_NUM_THREADS") then base[#base + 1] = "OMP_NUM_THREADS=1" end
  local procs = core.procs(n)
  for rank = 0, n - 1 do
    local env = table.move(base, 1, #base, 1, {})
    for k, v in pairs({ RANK = rank, WORLD_SIZE = n, LOCAL_RANK = rank, LOCAL_WORLD_SIZE = n,
      MASTER_ADDR = addr, MASTER_PORT = store:port(), WICK_DIST_SECRET = secret, WICK_DIST_AGENT_STORE = 1 }) do
      env[#env + 1] = k .. "=" .. tostring(v)
    end
    local started, err = pcall(procs.exec, procs, rank, exe, argv, env, true)
    if not started then
      fail(tostring(err))
      procs:supervise(true, 0) -- stops those already started
      store:close()
      return 1
    end
  end
  local failed, interrupted = procs:supervise(true, M.GRACE)
  store:close()
  if failed then
    local r = procs:result(failed, M.TAIL_LINES)
    local how = r.signal > 0 and string.format("killed by signal %d, %s", r.signal, spawn.signame(r.signal))
      or string.format("exit code %d", r.code)
    local lines = { string.format("rank %d failed (%s)", failed, how) }
    if r.tail ~= "" then
      lines[#lines + 1] = string.format("last lines of rank %d's stderr:", failed)
      for l in (r.tail .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = "  " .. l end
    end
    fail(table.concat(lines, "\n"))
    return 1
  end
  if interrupted then
    -- the host maps a command's result to 0 or 1; a signal's status is the shell's 128 + N
    io.stdout:flush()
    io.stderr:flush()
    os.exit(128 + interrupted, true)
  end
  return 0
end

return M
