-- The launcher of `wick run -n N`: hosts the run's store, starts N workers (this same program
-- running the same file) with RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE GROUP_RANK MASTER_ADDR
-- MASTER_PORT WICK_DIST_SECRET, prefixes their output lines with "[rank] ", and when one fails
-- stops the others and reports that rank's error. With --nnodes K one launcher runs per node:
-- node 0's hosts the store, the others connect to it; each beats a heartbeat in the store and
-- watches the others, so that a node's failure or death stops every node. The process work is
-- C (src/dist/launch.c).
local core = require("wick.core")._dist
local spawn = require("wick.dist.spawn")

local M = {}

M.GRACE = 5       -- seconds between SIGTERM and SIGKILL
M.TAIL_LINES = 20 -- lines of the failed rank's stderr repeated in the report
M.TICK = 0.25     -- seconds between two looks at the other nodes
M.BEAT_TIMEOUT = 5 -- seconds without a heartbeat after which a node's launcher counts as gone
M.STORE_TIMEOUT = 10 -- seconds a launcher waits for one store request once the nodes have met

local SET = { "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT",
  "WICK_DIST_SECRET", "WICK_DIST_AGENT_STORE" }

local function fail(msg)
  io.stderr:write("wick run: ", msg, "\n")
  io.stderr:flush()
  return 1
end

local function now() return require("wick").perf_counter() end

-- ---- which rank failed first ----

-- The store keys of the workers' error records (one set per start of the workers).
local function error_key(rank) return "launch/error/" .. (os.getenv("WICK_RESTART") or "0") .. "/" .. rank end
local ERROR_SEQ = "launch/error_seq"

-- In a worker: runs fn(...) and, when it raises, records the error in the launcher's store
-- before it propagates: "<n>\n<message and traceback>", n counting the errors of the run, so
-- the launcher can tell the rank that failed first from peers that failed because of it
-- ("Connection closed by peer"). The error then reaches the host as before (an object whose
-- text already holds the traceback, which the host prints as is).
function M.worker_run(fn, ...)
  local rank = os.getenv("RANK")
  local function handler(e)
    local msg = type(e) == "string" and e or (getmetatable(e) and getmetatable(e).__tostring and tostring(e))
    if not msg then return e end
    local full = debug.traceback(msg, 2)
    pcall(function()
      local store <close> = core.TCPStore(os.getenv("MASTER_ADDR"), math.tointeger(tonumber(os.getenv("MASTER_PORT"))),
        false, 5, os.getenv("WICK_DIST_SECRET"))
      store:set_timeout(5)
      store:set(error_key(rank), store:add(ERROR_SEQ, 1) .. "\n" .. full)
    end)
    return setmetatable({}, { __tostring = function() return full end })
  end
  local r = table.pack(xpcall(fn, handler, ...))
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

-- The local worker that failed first, from the error records in the store and the order of
-- the exits: a worker that failed without a record (a signal, an exit code) at or before the
-- pass that saw the first recorded one exit comes first; else the first record; else the
-- first exit. Returns its index, and the indices of the others.
local function first_failure(procs, n, base, store, fallback)
  local best_rec, best_seq, best_plain
  local results = {}
  for i = 0, n - 1 do
    local r = procs:result(i, M.TAIL_LINES)
    results[i] = r
    local failed = r.signal > 0 or r.code ~= 0
    local ok, rec = pcall(function()
      if store:check({ error_key(base + i) }) then return store:get(error_key(base + i)) end
    end)
    local seq = ok and rec and math.tointeger(tonumber(rec:match("^(%d+)\n")))
    if seq then r.error = rec:match("^%d+\n(.*)$") end
    if seq then
      if not best_seq or seq < best_seq then best_rec, best_seq = i, seq end
    elseif failed and not r.after_stop then
      if not best_plain or r.exit_pass < results[best_plain].exit_pass then best_plain = i end
    end
  end
  local first = best_rec
  if best_plain and (not best_rec or results[best_plain].exit_pass <= results[best_rec].exit_pass
      or results[best_rec].exit_pass == 0) then
    first = best_plain
  end
  return first or fallback, results
end

-- How long the nodes wait for each other at the start: WICK_RDZV_TIMEOUT seconds, else 900.
local function rendezvous_timeout()
  local v = tonumber(os.getenv("WICK_RDZV_TIMEOUT") or "")
  return v and v > 0 and v or 900
end

-- The launchers of all nodes meet in the store. Returns nil or an error message.
local function meet(store, node, nnodes, timeout)
  if store:add("launch/node/" .. node, 1) > 1 then
    return string.format("node rank %d was started twice (check --node-rank)", node)
  end
  local keys = {}
  for k = 0, nnodes - 1 do keys[#keys + 1] = "launch/node/" .. k end
  local ok, e = pcall(store.wait, store, keys, timeout)
  if ok then return nil end
  if not tostring(e):find("timed out", 1, true) then return tostring(e) end
  return require("wick.dist.store").missing_report(store, "launch/node/", nnodes, "node", timeout)
end

-- The watch over the other nodes (see the header). watch.tick() -> true when this node must
-- stop, with watch.why saying why.
local function watcher(store, node, nnodes, where)
  local w = { done = {}, beat = {}, seen = {} }
  local t0 = now()
  for k = 0, nnodes - 1 do w.beat[k], w.seen[k] = -1, t0 end
  local function look()
    store:add("launch/beat/" .. node, 1)
    if store:check({ "launch/failed" }) then
      w.why = store:get("launch/failed")
      return true
    end
    if node ~= 0 then return false end -- node 0's launcher watches the others
    local t = now()
    for k = 1, nnodes - 1 do
      if not w.done[k] then
        if store:check({ "launch/done/" .. k }) then
          w.done[k] = true
        else
          local b = store:add("launch/beat/" .. k, 0)
          if b ~= w.beat[k] then
            w.beat[k], w.seen[k] = b, t
          elseif t - w.seen[k] > M.BEAT_TIMEOUT then
            w.why = string.format("node %d's launcher stopped (no heartbeat for %g s)", k, M.BEAT_TIMEOUT)
            return true
          end
        end
      end
    end
    return false
  end
  function w.tick()
    local ok, stop = pcall(look)
    if ok then return stop end
    w.why = string.format("lost the store at %s (node 0's launcher): %s", where, tostring(stop))
    return true
  end
  -- node 0, its workers done: waits for the other nodes to finish (or fail)
  function w.wait_others()
    local keys = {}
    for k = 1, nnodes - 1 do keys[#keys + 1] = "launch/done/" .. k end
    while true do
      if pcall(store.wait, store, keys, M.TICK) then return true end
      if w.tick() then return false end
    end
  end
  return w
end

-- run(opts, args, file_index) -> exit code. opts: nproc, nnodes, node_rank, master_addr,
-- master_port.
function M.run(opts, args, file_index)
  local n, nnodes, node = opts.nproc, opts.nnodes or 1, opts.node_rank or 0
  if node >= nnodes then return fail(string.format("--node-rank %d is out of range for --nnodes %d", node, nnodes)) end
  local multi = nnodes > 1
  local addr = opts.master_addr or (multi and os.getenv("MASTER_ADDR")) or "127.0.0.1"
  local port = opts.master_port or (multi and math.tointeger(tonumber(os.getenv("MASTER_PORT") or ""))) or nil
  local secret = core.random_secret()
  local timeout = rendezvous_timeout()
  if multi then
    secret = os.getenv("WICK_DIST_SECRET")
    if not secret or secret == "" then
      return fail(string.format("--nnodes %d needs the run's shared secret: set WICK_DIST_SECRET to the same value on every node", nnodes))
    end
    if not port then
      return fail(string.format("--nnodes %d needs --master-port (or MASTER_PORT), the same on every node", nnodes))
    end
  end
  -- node 0 hosts the store; the others connect to it (retrying until the rendezvous timeout)
  local ok, store = pcall(core.TCPStore, addr, port or 0, node == 0, multi and timeout or 60, secret)
  if not ok and node > 0 and tostring(store):find("cannot connect", 1, true) then
    return fail(string.format("rendezvous: node 0's launcher did not open the store at %s:%d within %g s; missing node 0",
      addr, port, timeout))
  end
  if not ok then return fail(tostring(store)) end
  port = store:port() > 0 and store:port() or port
  local where = addr .. ":" .. port
  local watch
  if multi then
    local e = meet(store, node, nnodes, timeout)
    if e then
      pcall(store.set, store, "launch/failed", string.format("node %d: %s", node, e))
      store:close()
      return fail(e)
    end
    store:set_timeout(M.STORE_TIMEOUT)
    watch = watcher(store, node, nnodes, where)
  end

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
  for i = 0, n - 1 do
    local env = table.move(base, 1, #base, 1, {})
    for k, v in pairs({ RANK = node * n + i, WORLD_SIZE = nnodes * n, LOCAL_RANK = i, LOCAL_WORLD_SIZE = n,
      GROUP_RANK = node, MASTER_ADDR = addr, MASTER_PORT = port, WICK_DIST_SECRET = secret, WICK_DIST_AGENT_STORE = 1 }) do
      env[#env + 1] = k .. "=" .. tostring(v)
    end
    local started, err = pcall(procs.exec, procs, i, exe, argv, env, true)
    if not started then
      fail(tostring(err))
      procs:supervise(true, 0) -- stops those already started
      if multi then pcall(store.set, store, "launch/failed", string.format("node %d: %s", node, tostring(err))) end
      store:close()
      return 1
    end
  end
  local failed, interrupted = procs:supervise(true, M.GRACE, node * n, watch and watch.tick, M.TICK)
  local function finish(code)
    store:close()
    return code
  end
  if failed == "external" then
    -- nodes beyond the two that know: a heartbeat lost is news to them
    pcall(function()
      if not store:check({ "launch/failed" }) then store:set("launch/failed", string.format("node %d: %s", node, watch.why)) end
    end)
    return finish(fail(string.format("stopped the workers of node %d: %s", node, watch.why)))
  end
  if failed then
    local results
    failed, results = first_failure(procs, n, node * n, store, failed)
    local r = results[failed]
    local rank = node * n + failed
    -- a rank stopped while it exited after its error (its error record says it failed first)
    local how = r.error and r.after_stop and "raised an error" or r.signal > 0 and string.format("killed by signal %d, %s", r.signal, spawn.signame(r.signal))
      or string.format("exit code %d", r.code)
    local lines = { string.format("rank %d failed (%s)", rank, how) }
    if multi then pcall(store.set, store, "launch/failed", string.format("node %d: %s", node, lines[1])) end
    if r.tail ~= "" then
      lines[#lines + 1] = string.format("last lines of rank %d's stderr:", rank)
      for l in (r.tail .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = "  " .. l end
    elseif r.error then -- stopped before it could print its error: the record has it
      lines[#lines + 1] = string.format("rank %d's error:", rank)
      for l in (r.error .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = "  " .. l end
    end
    local others = {}
    for i = 0, n - 1 do if i ~= failed then others[#others + 1] = tostring(node * n + i) end end
    if #others > 0 then
      lines[#lines + 1] = string.format("wick run: %s %s stopped after rank %d failed",
        #others == 1 and "rank" or "ranks", table.concat(others, ", "), rank)
    end
    return finish(fail(table.concat(lines, "\n")))
  end
  if interrupted then
    if multi then pcall(store.set, store, "launch/failed", string.format("node %d was interrupted (signal %d)", node, interrupted)) end
    store:close()
    -- the host maps a command's result to 0 or 1; a signal's status is the shell's 128 + N
    io.stdout:flush()
    io.stderr:flush()
    os.exit(128 + interrupted, true)
  end
  if multi then
    if node ~= 0 then
      local done = pcall(store.set, store, "launch/done/" .. node, "1")
      if not done then return finish(fail("could not report to node 0's launcher at " .. where)) end
    elseif not watch.wait_others() then
      -- the store outlives the other nodes' last requests
      return finish(fail(string.format("node %d's workers finished, but %s", node, watch.why)))
    end
  end
  return finish(0)
end

return M
