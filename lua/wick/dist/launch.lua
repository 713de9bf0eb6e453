-- The launcher of `wick run -n N`: hosts the run's store, starts N workers (this same program
-- running the same file) with RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE GROUP_RANK MASTER_ADDR
-- MASTER_PORT WICK_DIST_SECRET, prefixes their output lines with "[rank] ", watches their
-- heartbeats, and when one fails (or goes silent) stops the others and reports the rank that
-- failed first (wick.dist.blame). With --max-restarts R it then starts them all again, up to R
-- times, resuming from the run's last checkpoint. With --nnodes K one launcher runs per node
-- (wick.dist.nodes). The process work is C (src/dist/launch.c).
local core = require("wick.core")._dist
local blame = require("wick.dist.blame")
local nodes = require("wick.dist.nodes")
local worker = require("wick.dist.worker")

local M = {}

M.GRACE = 5       -- seconds between SIGTERM and SIGKILL
M.TAIL_LINES = 20 -- lines of the failed rank's stderr repeated in the report
M.STORE_TIMEOUT = 10 -- seconds a launcher waits for one store request once the nodes have met
M.HEARTBEAT_TIMEOUT = 60 -- default --heartbeat-timeout: seconds of silence before a rank counts as hung

local SET = { "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT",
  "WICK_DIST_SECRET", "WICK_DIST_AGENT_STORE", "WICK_RESTART", "WICK_HEARTBEAT_INTERVAL" }

local function fail(msg)
  io.stderr:write("wick run: ", msg, "\n")
  io.stderr:flush()
  return 1
end

local function now() return require("wick").perf_counter() end

-- How long the nodes wait for each other at the start: WICK_RDZV_TIMEOUT seconds, else 900.
local function rendezvous_timeout()
  local v = tonumber(os.getenv("WICK_RDZV_TIMEOUT") or "")
  return v and v > 0 and v or 900
end

-- The watch over the local workers' heartbeats. beats.tick() -> true when local worker
-- beats.silent (an index) has not beaten for timeout seconds while running.
local function heartbeats(store, procs, n, base, attempt, timeout)
  local b = { last = {}, seen = {} }
  local t0 = now()
  for i = 0, n - 1 do b.last[i], b.seen[i] = -1, t0 end
  function b.tick()
    local t = now()
    for i = 0, n - 1 do
      local ok, v = pcall(store.add, store, worker.beat_key(base + i, attempt), 0)
      if ok and v ~= b.last[i] then
        b.last[i], b.seen[i] = v, t
      elseif t - b.seen[i] > timeout and procs:result(i, 0).exit_pass == 0 then
        b.silent = i
        return true
      end
    end
    return false
  end
  return b
end

-- The environment of the workers, less what the launcher sets for each.
local function base_env()
  local skip = {}
  for _, k in ipairs(SET) do skip[k] = true end
  local base = {}
  for _, kv in ipairs(core.environ()) do
    local k = kv:match("^([^=]*)=")
    if k and not skip[k] then base[#base + 1] = kv end
  end
  -- as torchrun: one OpenMP thread per worker unless the user says otherwise
  if not os.getenv("OMP_NUM_THREADS") then base[#base + 1] = "OMP_NUM_THREADS=1" end
  return base
end

-- Starts the workers once (the attempt-th time) and supervises them. Returns the exit code and,
-- after a failure that a restart may cure, the failure's headline.
local function start_workers(c, store, watch, attempt)
  local n, node = c.n, c.node
  local exe = core.self_exe()
  local argv = { exe, "run", "--" }
  for i = c.file_index, #c.args do argv[#argv + 1] = c.args[i] end
  local base = base_env()
  local procs = core.procs(n)
  for i = 0, n - 1 do
    local env = table.move(base, 1, #base, 1, {})
    for k, v in pairs({ RANK = node * n + i, WORLD_SIZE = c.nnodes * n, LOCAL_RANK = i, LOCAL_WORLD_SIZE = n,
      GROUP_RANK = node, MASTER_ADDR = c.addr, MASTER_PORT = c.port, WICK_DIST_SECRET = c.secret,
      WICK_DIST_AGENT_STORE = 1, WICK_RESTART = attempt, WICK_HEARTBEAT_INTERVAL = c.beat_interval }) do
      env[#env + 1] = k .. "=" .. tostring(v)
    end
    local started, err = pcall(procs.exec, procs, i, exe, argv, env, true)
    if not started then
      fail(tostring(err))
      procs:supervise(true, 0) -- stops those already started
      if c.multi then pcall(store.set, store, "launch/failed", string.format("node %d: %s", node, tostring(err))) end
      return 1
    end
  end
  local beats = heartbeats(store, procs, n, node * n, attempt, c.heartbeat_timeout)
  local function tick()
    if watch and watch.tick() then return true end
    return beats.tick()
  end
  local failed, interrupted = procs:supervise(true, M.GRACE, node * n, tick, nodes.TICK)
  if failed == "external" and not beats.silent then
    -- nodes beyond the two that know: a heartbeat lost is news to them
    pcall(function()
      if not store:check({ "launch/failed" }) then store:set("launch/failed", string.format("node %d: %s", node, watch.why)) end
    end)
    return fail(string.format("stopped the workers of node %d: %s", node, watch.why))
  end
  if failed then
    local results, how
    if beats.silent then
      failed, how = beats.silent, string.format("no heartbeat for %g s: stopped or hung", c.heartbeat_timeout)
      results = {}
      for i = 0, n - 1 do results[i] = procs:result(i, M.TAIL_LINES) end
      results[failed].tail = "" -- what it printed before it went silent is not its error
    else
      failed, results = blame.first_failure(procs, n, node * n, store, failed, M.TAIL_LINES)
      -- a rank of another node failed first: its launcher says which (launch/failed)
      if c.multi and blame.remote_first(store, results[failed].seq, c.nnodes * n, node * n, node * n + n - 1, attempt)
          and pcall(store.wait, store, { "launch/failed" }, nodes.TICK * 8) then
        local ok, why = pcall(store.get, store, "launch/failed")
        if ok then return fail(string.format("stopped the workers of node %d: %s", node, why)) end
      end
    end
    local lines = blame.report(results, failed, node * n, n, how)
    if c.multi then pcall(store.set, store, "launch/failed", string.format("node %d: %s", node, lines[1])) end
    return fail(table.concat(lines, "\n")), lines[1]
  end
  if interrupted then
    if c.on_interrupt then c.on_interrupt(interrupted) end
    if c.multi then pcall(store.set, store, "launch/failed", string.format("node %d was interrupted (signal %d)", node, interrupted)) end
    store:close()
    -- the host maps a command's result to 0 or 1; a signal's status is the shell's 128 + N
    io.stdout:flush()
    io.stderr:flush()
    os.exit(128 + interrupted, true)
  end
  if c.multi then
    if node ~= 0 then
      local done = pcall(store.set, store, "launch/done/" .. node, "1")
      if not done then return fail("could not report to node 0's launcher at " .. c.where) end
    elseif not watch.wait_others() then
      -- the store outlives the other nodes' last requests
      return fail(string.format("node %d's workers finished, but %s", node, watch.why))
    end
  end
  return 0
end

-- Opens the run's store (node 0 hosts it; the others connect, retrying until the rendezvous
-- timeout). Returns it, or nil and the exit code after saying why.
local function open_store(c)
  local ok, store = pcall(core.TCPStore, c.addr, c.port or 0, c.node == 0, c.multi and c.timeout or 60, c.secret)
  if not ok and c.node > 0 and tostring(store):find("cannot connect", 1, true) then
    return nil, fail(string.format("rendezvous: node 0's launcher did not open the store at %s:%d within %g s; missing node 0",
      c.addr, c.port, c.timeout))
  end
  if not ok then return nil, fail(tostring(store)) end
  return store
end

-- run(opts, args, file_index) -> exit code. opts: nproc, nnodes, node_rank, master_addr,
-- master_port, heartbeat_timeout, max_restarts, on_restart (called as on_restart(k, max,
-- headline) before the k-th restart; false stops), on_interrupt (called with the signal before
-- the launcher exits with 128 + it).
function M.run(opts, args, file_index)
  local n, nnodes, node = opts.nproc, opts.nnodes or 1, opts.node_rank or 0
  if node >= nnodes then return fail(string.format("--node-rank %d is out of range for --nnodes %d", node, nnodes)) end
  local multi = nnodes > 1
  local max_restarts = opts.max_restarts or 0
  if multi and max_restarts > 0 then
    return fail(string.format("--max-restarts is not supported with --nnodes %d yet (one node only)", nnodes))
  end
  local c = { n = n, nnodes = nnodes, node = node, multi = multi, args = args, file_index = file_index,
    addr = opts.master_addr or (multi and os.getenv("MASTER_ADDR")) or "127.0.0.1",
    port = opts.master_port or (multi and math.tointeger(tonumber(os.getenv("MASTER_PORT") or ""))) or nil,
    secret = core.random_secret(), timeout = rendezvous_timeout(),
    heartbeat_timeout = opts.heartbeat_timeout or M.HEARTBEAT_TIMEOUT, on_interrupt = opts.on_interrupt }
  -- a few beats per timeout, at most every 2 s
  c.beat_interval = math.min(c.heartbeat_timeout / 4, 2)
  if multi then
    c.secret = os.getenv("WICK_DIST_SECRET")
    if not c.secret or c.secret == "" then
      return fail(string.format("--nnodes %d needs the run's shared secret: set WICK_DIST_SECRET to the same value on every node", nnodes))
    end
    if not c.port then
      return fail(string.format("--nnodes %d needs --master-port (or MASTER_PORT), the same on every node", nnodes))
    end
  end
  local attempt = 0
  while true do
    -- one node: a fresh store for each start of the workers (their process group's keys start
    -- over); several nodes (no restarts): one store for the whole run
    local store, code = open_store(c)
    if not store then return code end
    local port0 = c.port
    c.port = store:port() > 0 and store:port() or c.port
    c.where = c.addr .. ":" .. c.port
    local watch
    if multi then
      local e = nodes.meet(store, node, nnodes, c.timeout)
      if e then
        pcall(store.set, store, "launch/failed", string.format("node %d: %s", node, e))
        store:close()
        return fail(e)
      end
      store:set_timeout(M.STORE_TIMEOUT)
      watch = nodes.watcher(store, node, nnodes, c.where)
    end
    local headline
    code, headline = start_workers(c, store, watch, attempt)
    store:close()
    c.port = port0
    if code == 0 or not headline or attempt >= max_restarts then return code end
    attempt = attempt + 1
    if opts.on_restart and opts.on_restart(attempt, max_restarts, headline) == false then return code end
  end
end

return M
