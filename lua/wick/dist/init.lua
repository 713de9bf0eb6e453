-- wick.dist: process groups, the TCP store, spawn. A world of 1 works everywhere with no
-- launcher; larger worlds get their rank and store from `wick run -n N` or wick.dist.spawn.
-- Collectives across processes use the Gloo backend (src/dist/gloo_pg.cc) when the build has
-- it (dist.is_gloo_available()); without it they raise for world size > 1. They are the
-- identity for world size 1. CUDA tensors go through NCCL (src/cuda/nccl_pg.c) with backend
-- "nccl", or with no backend named at world size > 1 (docs/parallel.md).
local wick = require("wick")
local core = require("wick.core")._dist
local core_pg = require("wick.core")._pg
local config = require("wick.config")
local store = require("wick.dist.store")

local dist = {}
dist.TCPStore = store.TCPStore
dist.spawn = require("wick.dist.spawn").spawn
dist.ReduceOp = { SUM = "sum", AVG = "avg", PRODUCT = "product", MIN = "min", MAX = "max" }

local NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."
local state = { initialized = false }
-- groups made so far: keys of the n-th group are prefixed "pg<n>/" so that a launcher's store
-- can serve several init/destroy cycles (every rank makes the same sequence of groups)
local generation = 0

local function env_int(name)
  local v = os.getenv(name)
  return v and v ~= "" and math.tointeger(tonumber(v)) or nil
end

local function check_int(fn, name, v, min)
  if v ~= nil and (math.type(v) ~= "integer" or v < min) then
    error(string.format("%s: %s must be an integer >= %d (got %s)", fn, name, min, tostring(v)), 0)
  end
end

-- The store of a world > 1: the launcher's (every rank a client), or hosted by rank 0.
-- file://PATH (a file on a filesystem every rank sees): rank 0 hosts the store on a free port
-- of every interface and publishes "host port secret" in PATH (mode 0600, written whole with a
-- rename); the other ranks wait for the file and connect. A stale file from an earlier run is
-- replaced by rank 0; the others retry while what they read does not answer.
local function file_rendezvous(fn, path, rank, timeout)
  if path == "" then error(fn .. ": file:// needs a path, as in file:///shared/dir/rendezvous", 0) end
  if rank == 0 then
    local secret = os.getenv("WICK_DIST_SECRET")
    if not secret or secret == "" then secret = core.random_secret() end
    local s = store.TCPStore("0.0.0.0", 0, { is_master = true, timeout = timeout, secret = secret })
    local host = os.getenv("MASTER_ADDR") or require("wick.core")._tb.hostname()
    local tmp = path .. ".tmp" .. core.getpid()
    local f, e = io.open(tmp, "w")
    if not f then s:close() error(fn .. ": cannot write the rendezvous file: " .. tostring(e), 0) end
    f:close()
    os.execute("chmod 600 " .. require("wick.util").shell_quote(tmp))
    f = io.open(tmp, "w")
    f:write(string.format("%s %d %s\n", host, s:port(), secret))
    f:close()
    local ok, re = os.rename(tmp, path)
    if not ok then s:close() error(fn .. ": cannot write the rendezvous file: " .. tostring(re), 0) end
    return s, true
  end
  local deadline, last, err = wick.perf_counter() + timeout, nil, nil
  repeat
    local text = require("wick.util").read_file(path)
    if text and text ~= last and text:match("\n$") then
      last = text
      local host, port, secret = text:match("^(%S+) (%d+) (%S+)\n$")
      if not host then error(fn .. ": " .. path .. " is not a wick rendezvous file", 0) end
      local ok, s = pcall(store.TCPStore, host, math.tointeger(tonumber(port)),
        { timeout = math.min(5, timeout), secret = secret })
      if ok then return s, false end
      err = s
    end
    core.sleep(0.05)
  until wick.perf_counter() > deadline
  error(string.format("rendezvous: rank 0 did not publish a store in %s within %g s; missing rank 0%s", path,
    timeout, err and " (last try: " .. tostring(err) .. ")" or ""), 0)
end

local function connect(fn, init_method, rank, timeout)
  local host, port
  if init_method:match("^file://") then return file_rendezvous(fn, init_method:sub(8), rank, timeout) end
  if init_method == "env://" then
    host, port = os.getenv("MASTER_ADDR"), env_int("MASTER_PORT")
    for _, v in ipairs({ "MASTER_ADDR", "MASTER_PORT" }) do
      if not os.getenv(v) then
        error(fn .. ": environment variable " .. v .. " expected, but not set (run under wick run -n N)", 0)
      end
    end
  else
    host, port = init_method:match("^tcp://%[?([^%]]+)%]?:(%d+)$")
    port = math.tointeger(tonumber(port))
    if not host then error(fn .. ": unsupported init_method '" .. init_method .. "' (env://, tcp://host:port or file://path)", 0) end
  end
  -- under wick run / spawn the launcher hosts the env:// store; a tcp:// store is rank 0's
  local master = rank == 0 and (init_method ~= "env://" or os.getenv("WICK_DIST_AGENT_STORE") ~= "1")
  local ok, s = pcall(store.TCPStore, host, port, { is_master = master, timeout = timeout })
  if not ok and not master and init_method ~= "env://" and tostring(s):find("cannot connect", 1, true) then
    error(string.format("rendezvous: rank 0 did not open the store at %s:%d within %g s; missing rank 0", host, port, timeout), 0)
  end
  if not ok then error(s, 0) end
  return s, master
end

function dist.is_gloo_available() return core_pg.gloo end
function dist.is_nccl_available() return core_pg.nccl end

-- Every rank of the world checks in under prefix; the last one opens the gate. A timeout says
-- who was waited for: "rendezvous: 3 of 4 ranks joined within 30 s; missing rank 2".
-- rank0_hosts: the store lives in rank 0's process (tcp://, file://, env:// without the
-- launcher). Its clients then wait a little longer than rank 0, so that rank 0, which keeps
-- the store, is the one that reports the missing ranks.
local function rendezvous(fn, s, prefix, rank, world, timeout, rank0_hosts)
  local key = prefix .. "rendezvous/"
  s:set(key .. rank, "1")
  if s:add(key .. "count", 1) == world then s:set(key .. "done", "1") end
  local grace = rank0_hosts and rank ~= 0 and 2 or 0
  local ok, e = pcall(s.wait, s, { key .. "done" }, timeout + grace)
  if ok then return end
  if rank0_hosts and rank ~= 0 and not tostring(e):find("timed out", 1, true) then
    error(string.format("rendezvous: rank 0, which hosts the store, left before all %d ranks joined (%s)", world,
      tostring(e)), 0)
  end
  if not tostring(e):find("timed out", 1, true) then error(e, 0) end
  error(store.missing_report(s, key, world, "rank", timeout), 0)
end

-- The address Gloo's sockets bind to: GLOO_SOCKET_IFNAME's interface, else loopback when the
-- store is on this machine's loopback, else this machine's hostname (as PyTorch).
local function gloo_address(init_method)
  local iface = os.getenv("GLOO_SOCKET_IFNAME")
  if iface and iface ~= "" then return nil, iface end
  local host = init_method == "env://" and os.getenv("MASTER_ADDR") or init_method:match("^tcp://%[?([^%]]+)%]?:%d+$")
  if host == nil or host == "localhost" or host:match("^127%.") or host == "::1" then return "127.0.0.1", nil end
  return nil, nil
end

-- init_process_group{backend, init_method = "env://", world_size, rank, timeout = 1800}
function dist.init_process_group(opts)
  local fn = "init_process_group"
  opts = config.check_options(fn, opts, { "backend", "init_method", "world_size", "rank", "timeout", "store" })
  if state.initialized then error(fn .. ": trying to initialize the default process group twice!", 0) end
  local world = opts.world_size or env_int("WORLD_SIZE") or 1
  local rank = opts.rank or env_int("RANK") or 0
  check_int(fn, "world_size", world, 1)
  check_int(fn, "rank", rank, 0)
  if rank >= world then error(string.format("%s: rank %d is out of range for world size %d", fn, rank, world), 0) end
  if opts.backend ~= nil and opts.backend ~= "gloo" and opts.backend ~= "nccl" then
    error(fn .. ": unknown backend '" .. tostring(opts.backend) .. "' (gloo or nccl)", 0)
  end
  if opts.backend == "nccl" and not core_pg.nccl then
    error(fn .. ": the nccl backend is not available in this build (it needs CUDA and NCCL; use gloo)", 0)
  end
  local timeout = opts.timeout or 1800
  generation = generation + 1
  local s, hosts = opts.store, false
  if world > 1 and not s then s, hosts = connect(fn, opts.init_method or "env://", rank, timeout) end
  state = { initialized = true, rank = rank, world_size = world, store = s, hosts = hosts,
    user_store = opts.store ~= nil, prefix = "pg" .. generation .. "/", barriers = 0,
    local_rank = env_int("LOCAL_RANK") or (world == 1 and 0 or rank), backend = opts.backend or "gloo",
    backend_auto = opts.backend == nil,
    init_method = opts.init_method or "env://", timeout = timeout, groups = 0, subgroups = {} }
  -- rank 0 removes a file:// rendezvous file when the group is destroyed
  if hosts and state.init_method:match("^file://") then state.rdzv_file = state.init_method:sub(8) end
  if world > 1 then
    rendezvous(fn, s, state.prefix, rank, world, timeout,
      not (state.init_method == "env://" and os.getenv("WICK_DIST_AGENT_STORE") == "1"))
    if state.backend == "gloo" and core_pg.gloo then
      local host, iface = gloo_address(opts.init_method or "env://")
      local ok, pg = pcall(core_pg.new, s, state.prefix .. "gloo/", rank, world, timeout, host, iface)
      if not ok then
        if s and not state.user_store then s:close() end
        state = { initialized = false }
        error(pg, 0)
      end
      state.pg = pg
    end
  end
end

function dist.is_initialized() return state.initialized end

local function need(fn)
  if not state.initialized then error(fn .. ": " .. NOT_INIT, 0) end
end

-- LOCAL_RANK from the launcher; 0 outside one (also before init, for picking a device).
function dist.get_local_rank() return state.local_rank or env_int("LOCAL_RANK") or 0 end
function dist.get_backend() need("get_backend") return state.backend end
function dist.get_store() need("get_store") return state.store end

-- Destroys a group's back-end handles (Gloo and NCCL) and marks it destroyed.
local function release(g)
  if g.pg then g.pg:destroy() end
  if g.nccl_pg then g.nccl_pg:destroy() end
  g.pg, g.nccl_pg, g.destroyed = nil, nil, true
end

-- destroy_process_group(group): a subgroup's own process group; without one, every group.
function dist.destroy_process_group(group)
  need("destroy_process_group")
  if group ~= nil and group ~= dist.group.WORLD then
    if getmetatable(group) == getmetatable(dist.group.WORLD) and group.generation == generation then
      release(group)
      return
    end
    error("destroy_process_group: group must be a group made by new_group (got " .. type(group) .. ")", 0)
  end
  for _, g in ipairs(state.subgroups) do release(g) end
  release(state)
  if state.store and state.world_size > 1 then
    -- the rank hosting the store leaves last, or the others would lose it mid-request
    local key = state.prefix .. "leave"
    if state.store:add(key, 1) == state.world_size then state.store:set(key .. "/done", "1") end
    if state.hosts then state.store:wait({ key .. "/done" }) end
  end
  if state.store and not state.user_store then state.store:close() end
  if state.rdzv_file then os.remove(state.rdzv_file) end
  state = { initialized = false }
end

-- ---- groups: the world (the default group) and subgroups from new_group ----
-- A collective runs on a group g: the world is `state` itself, a subgroup a Group. Both have
-- pg (nil at size 1 or without a backend), rank (this process's rank in the group; -1 outside
-- it), world_size, and a store key prefix; a subgroup also maps global ranks to group ranks.

local Group = {}
Group.__index = Group
Group.__name = "wick.dist.ProcessGroup"
function Group:__tostring()
  if self.world then return "ProcessGroup(WORLD)" end
  return "ProcessGroup(ranks {" .. table.concat(self.ranks, ", ") .. "})"
end

-- dist.group.WORLD: the default group, as torch.distributed.group.WORLD.
dist.group = { WORLD = setmetatable({ world = true }, Group) }

-- The group a call names (nil: the world), or nil when this rank is not in it (PyTorch's
-- collectives do nothing there).
local function resolve(fn, group)
  need(fn)
  if group == nil or group == dist.group.WORLD then return state end
  if getmetatable(group) ~= Group then
    error(fn .. ": group must be a group made by new_group (got " .. type(group) .. ")", 0)
  end
  if group.generation ~= generation or group.destroyed then error(fn .. ": the group was destroyed", 0) end
  if not group.member then return nil end
  return group
end

-- The process group of a new subgroup (the backend of the world's group).
local function backend_pg(fn, prefix, rank, size, timeout)
  local host, iface = gloo_address(state.init_method)
  local ok, pg = pcall(core_pg.new, state.store, prefix .. "gloo/", rank, size, timeout, host, iface)
  if not ok then error(fn .. ": " .. tostring(pg), 0) end
  return pg
end

-- new_group(ranks = all, {timeout}): every rank of the world calls it with the same ranks, in
-- the same order relative to other new_group calls (as PyTorch). Members get a group whose
-- ranks are 0..#ranks-1 in sorted global order; the others get a handle that is not a member
-- (get_rank(g) == -1, collectives on it do nothing and return nil).
function dist.new_group(ranks, opts)
  local fn = "new_group"
  need(fn)
  opts = config.check_options(fn, opts, { "timeout", "backend" })
  if opts.backend ~= nil and opts.backend ~= state.backend then
    error(string.format("%s: backend '%s' differs from the default group's (%s)", fn, tostring(opts.backend), state.backend), 0)
  end
  local n, list = state.world_size, {}
  if ranks == nil then
    for r = 0, n - 1 do list[#list + 1] = r end
  else
    if type(ranks) ~= "table" then error(fn .. ": ranks must be a list of ranks (got " .. type(ranks) .. ")", 0) end
    local seen = {}
    for i = 1, #ranks do
      local r = ranks[i]
      if math.type(r) ~= "integer" or r < 0 or r >= n then
        error(string.format("%s: rank %s is out of range for world size %d", fn, tostring(r), n), 0)
      end
      if seen[r] then error(string.format("%s: rank %d is listed twice", fn, r), 0) end
      seen[r] = true
      list[#list + 1] = r
    end
    if #list == 0 then error(fn .. ": ranks must not be empty", 0) end
    table.sort(list)
  end
  local timeout = opts.timeout or state.timeout
  if type(timeout) ~= "number" or timeout <= 0 then
    error(fn .. ": timeout must be a positive number of seconds (got " .. tostring(timeout) .. ")", 0)
  end
  state.groups = state.groups + 1
  local index = {}
  for i, r in ipairs(list) do index[r] = i - 1 end
  local g = setmetatable({ ranks = list, index = index, world_size = #list, rank = index[state.rank] or -1,
    member = index[state.rank] ~= nil, generation = generation, barriers = 0, store = state.store,
    backend = state.backend, prefix = state.prefix .. "group" .. state.groups .. "/" }, Group)
  if g.member and #list > 1 and state.pg then g.pg = backend_pg(fn, g.prefix, g.rank, #list, timeout) end
  state.subgroups[#state.subgroups + 1] = g
  return g
end

-- get_rank(group) / get_world_size(group): -1 on a rank outside the group, as PyTorch.
function dist.get_rank(group)
  if group == nil then need("get_rank") return state.rank end
  local g = resolve("get_rank", group)
  return g and g.rank or -1
end
function dist.get_world_size(group)
  if group == nil then need("get_world_size") return state.world_size end
  local g = resolve("get_world_size", group)
  return g and g.world_size or -1
end

-- get_group_rank(group, global_rank) / get_global_rank(group, group_rank): nil when not in it.
function dist.get_group_rank(group, r)
  local g = resolve("get_group_rank", group) or group
  if g == state then return r end
  return g.index[r]
end
function dist.get_global_rank(group, r)
  local g = resolve("get_global_rank", group) or group
  if g == state then return r end
  return g.ranks[r + 1]
end


-- ---- collectives: Gloo for world size > 1, the identity at world size 1 ----
-- Each op runs on the group's communication thread (in submission order, the same on every
-- rank) on contiguous CPU buffers: a non-contiguous tensor goes through a contiguous copy that
-- is copied back when the op is in place. With async_op = true the call returns a Work handle
-- whose :wait() raises the op's error and then does that copy back.

local ops = { sum = true, avg = true, product = true, min = true, max = true }
local dtypes = { f32 = true, f64 = true, i64 = true, i32 = true, u8 = true }

-- PyTorch's Work: wait() blocks until done (raising the op's error), is_completed().
local Work = {}
Work.__index = Work
function Work:wait()
  if self._work then self._work:wait() end
  if self._finish then local f = self._finish self._finish = nil f() end
  return true
end
function Work:is_completed() return self._work == nil or self._work:is_completed() end

dist._Work = Work
local function work(w, finish) return setmetatable({ _work = w, _finish = finish }, Work) end

-- Splits the trailing options table off: returns the positional args, async_op and the group
-- (nil when this rank is not in it).
local function options(fn, ...)
  local args = table.pack(...)
  local opts
  if args.n > 0 and type(args[args.n]) == "table" and not wick.is_tensor(args[args.n])
    and args[args.n][1] == nil and getmetatable(args[args.n]) == nil then
    opts = args[args.n]
    args[args.n] = nil
    args.n = args.n - 1
  end
  opts = config.check_options(fn, opts, { "async_op", "group" })
  return args, opts.async_op and true or false, resolve(fn, opts.group)
end

-- barrier({async_op, group}): the backend's barrier; without one a store-based one (each rank
-- counts itself in; the last one opens the gate).
function dist.barrier(opts)
  need("barrier")
  local _, async, g = options("barrier", opts)
  if not g then return nil end
  if g.pg or g.nccl_pg then
    local w = (g.pg or g.nccl_pg):submit("barrier")
    if async then return work(w) end
    w:wait()
    return
  end
  if async then
    dist.barrier({ group = g ~= state and g or nil })
    return work()
  end
  if g.world_size == 1 then return end
  g.barriers = g.barriers + 1
  local key = g.prefix .. "barrier/" .. g.barriers
  if g.store:add(key, 1) == g.world_size then g.store:set(key .. "/done", "1") end
  g.store:wait({ key .. "/done" })
end

local function check_tensor(fn, t, what)
  if not wick.is_tensor(t) then error(fn .. ": expected " .. (what or "a tensor") .. " (got " .. type(t) .. ")", 0) end
end

-- NCCL runs a group's collectives on CUDA tensors: with backend "nccl" (also at world size 1,
-- so that the communicator is exercised) or, with no backend named, when the group has more
-- than one rank. The communicator is made by the first such collective, on t's device (one
-- device per process, as PyTorch), under the group's store prefix.
local function nccl_pg(fn, g, t)
  local explicit = state.backend == "nccl"
  if t.device == "cpu" then
    if explicit then error(fn .. ": the nccl backend needs CUDA tensors (got a tensor on cpu)", 0) end
    return nil
  end
  if not (explicit or (state.backend_auto and g.world_size > 1)) then return nil end
  if g.nccl_pg then
    if t.device ~= g.nccl_device then
      error(string.format("%s: the group's NCCL communicator is on %s; got a tensor on %s (one device per process)",
        fn, g.nccl_device, t.device), 0)
    end
    return g.nccl_pg
  end
  if not core_pg.nccl then error(fn .. ": the nccl backend is not available in this build (it needs CUDA and NCCL)", 0) end
  local index = math.tointeger(tonumber(t.device:match("^cuda:(%d+)$"))) or 0
  local ok, pg = pcall(core_pg.new_nccl, g.world_size > 1 and g.store or nil, g.prefix .. "nccl/", g.rank,
    g.world_size, state.timeout, index)
  if not ok then error(fn .. ": " .. tostring(pg), 0) end
  g.nccl_pg, g.nccl_device = pg, t.device
  return pg
end

-- For nn.DistributedDataParallel's reducer: the backend handle of a group (nil at size 1)
-- with this process's rank in it and its size; nothing when this rank is not in the group.
-- t (a parameter, optional): CUDA tensors reduce over the group's NCCL communicator.
function dist._group_pg(fn, group, t)
  local g = resolve(fn, group)
  if not g then return nil end
  local pg = t and t.device ~= "cpu" and nccl_pg(fn, g, t) or nil
  return pg or g.pg, g.rank, g.world_size
end

-- Checks t and returns the process group that runs the op on it (nil: the identity of a
-- group of one) and whether it is NCCL.
local function collective(fn, t, g)
  check_tensor(fn, t)
  -- the same message at every size: the identity of size 1 would accept anything
  if t.device == "cpu" and not dtypes[t.dtype] then
    error(string.format("%s: unsupported dtype %s (f32, f64, i64, i32 or u8)", fn, t.dtype), 0)
  end
  local nccl = nccl_pg(fn, g, t)
  if nccl then return nccl, true end
  if g.world_size > 1 and not g.pg then
    if not core_pg.gloo then
      error(fn .. ": needs a process group backend (gloo), which this build does not have yet", 0)
    end
    error(fn .. ": the " .. state.backend .. " backend is not available in this build", 0)
  end
  return g.world_size > 1 and g.pg or nil, false
end

-- src/dst are global ranks (as PyTorch); returns the rank in g.
local function check_root(fn, name, r, g)
  r = r or 0
  if math.type(r) ~= "integer" or r < 0 or r >= state.world_size then
    error(string.format("%s: %s %s is out of range for world size %d", fn, name, tostring(r), state.world_size), 0)
  end
  if g == state then return r end
  local gr = g.index[r]
  if not gr then error(string.format("%s: %s %d is not in the group", fn, name, r), 0) end
  return gr
end

-- The list argument of all_gather/gather/scatter/reduce_scatter: one tensor per rank of the
-- group with t's number of elements (values are converted to and from t's dtype, as copy_ does).
local function check_list(fn, name, list, t, g)
  if type(list) ~= "table" or #list ~= g.world_size then
    error(string.format("%s: %s must be a list of %d tensor(s)", fn, name, g.world_size), 0)
  end
  for i, x in ipairs(list) do
    check_tensor(fn, x, "a tensor in " .. name)
    if x:numel() ~= t:numel() then
      error(string.format("%s: %s[%d] has %d elements, expected %d like the tensor", fn, name, i, x:numel(), t:numel()), 0)
    end
  end
end

local function contiguous(t) return t:is_contiguous() and t or t:contiguous() end

-- Runs kind on the group's thread; finish (copy-backs) runs after completion.
local function run(pg, async, kind, buf, aux, root, reduce, finish)
  local w = pg:submit(kind, buf, aux, root, reduce)
  if async then return work(w, finish) end
  w:wait()
  if finish then finish() end
end

-- A flat buffer of world_size copies of t's elements, rank-major.
local function flat_for(t, g) return wick.empty({ g.world_size * t:numel() }, { dtype = t.dtype, device = t.device }) end
local function part(flat, i, like) local n = like:numel() return flat:narrow(0, i * n, n):view(like:size()) end

-- all_reduce(t, op = "sum", {async_op, group}): in place. "avg" is sum then division by the
-- group's size (floating-point tensors only), as gloo has no average.
function dist.all_reduce(t, ...)
  local args, async, g = options("all_reduce", ...)
  local op = args[1] or "sum"
  if not g then return nil end
  local pg, nccl = collective("all_reduce", t, g)
  if not ops[op] then error("all_reduce: unknown op '" .. tostring(op) .. "'", 0) end
  if op == "avg" and not t:is_floating_point() then
    error("all_reduce: avg needs a floating-point tensor (got " .. t.dtype .. ")", 0)
  end
  if not pg then return async and work() or t end
  local buf = contiguous(t)
  local divide = op == "avg" and not nccl -- NCCL averages itself (ncclAvg)
  local r = run(pg, async, "all_reduce", buf, nil, 0, divide and "sum" or op, function()
    if divide then buf:div_(g.world_size) end
    if buf ~= t then t:copy_(buf) end
  end)
  return r or t
end

-- broadcast(t, src = 0, {async_op, group}): in place; src is a global rank.
function dist.broadcast(t, ...)
  local args, async, g = options("broadcast", ...)
  if not g then return nil end
  local pg = collective("broadcast", t, g)
  local src = check_root("broadcast", "src", args[1], g)
  if not pg then return async and work() or t end
  local buf = contiguous(t)
  local r = run(pg, async, "broadcast", buf, nil, src, nil, function() if buf ~= t then t:copy_(buf) end end)
  return r or t
end

-- all_gather(tensor_list, t, {async_op, group}): tensor_list[i] gets group rank i-1's t.
function dist.all_gather(list, t, ...)
  local _, async, g = options("all_gather", ...)
  if not g then return nil end
  local pg = collective("all_gather", t, g)
  check_list("all_gather", "tensor_list", list, t, g)
  if not pg then list[1]:copy_(t:reshape(list[1]:size())) return async and work() or list end
  local flat = flat_for(t, g)
  local r = run(pg, async, "all_gather", contiguous(t), flat, 0, nil, function()
    for i, x in ipairs(list) do x:copy_(part(flat, i - 1, x)) end
  end)
  return r or list
end

-- gather(t, gather_list, dst = 0, {async_op, group}): gather_list (on dst only) gets every
-- rank's t.
function dist.gather(t, list, ...)
  local args, async, g = options("gather", ...)
  if not g then return nil end
  local pg = collective("gather", t, g)
  local dst = check_root("gather", "dst", args[1], g)
  local root = g.rank == dst
  if root then check_list("gather", "gather_list", list, t, g)
  elseif list ~= nil then error("gather: gather_list must be nil on a rank other than dst", 0) end
  if not pg then list[1]:copy_(t:reshape(list[1]:size())) return async and work() or list end
  local flat = root and flat_for(t, g) or nil
  local r = run(pg, async, "gather", contiguous(t), flat, dst, nil, function()
    if root then for i, x in ipairs(list) do x:copy_(part(flat, i - 1, x)) end end
  end)
  return r or list
end

-- scatter(t, scatter_list, src = 0, {async_op, group}): t gets scatter_list[rank+1] of src.
function dist.scatter(t, list, ...)
  local args, async, g = options("scatter", ...)
  if not g then return nil end
  local pg = collective("scatter", t, g)
  local src = check_root("scatter", "src", args[1], g)
  local root = g.rank == src
  if root then check_list("scatter", "scatter_list", list, t, g)
  elseif list ~= nil then error("scatter: scatter_list must be nil on a rank other than src", 0) end
  if not pg then t:copy_(list[1]:reshape(t:size())) return async and work() or t end
  local flat
  if root then
    flat = flat_for(t, g)
    for i, x in ipairs(list) do part(flat, i - 1, t):copy_(x:view(t:size())) end
  end
  local buf = contiguous(t)
  local r = run(pg, async, "scatter", buf, flat, src, nil, function() if buf ~= t then t:copy_(buf) end end)
  return r or t
end

-- reduce_scatter(output, input_list, op = "sum", {async_op, group}): output gets the reduction
-- of input_list[rank+1] over the ranks. Gloo has no reduce_scatter on plain buffers: this is an
-- all_reduce of the whole list (world_size times the traffic of a real reduce_scatter).
function dist.reduce_scatter(out, list, ...)
  local args, async, g = options("reduce_scatter", ...)
  local op = args[1] or "sum"
  if not g then return nil end
  local pg, nccl = collective("reduce_scatter", out, g)
  if not ops[op] then error("reduce_scatter: unknown op '" .. tostring(op) .. "'", 0) end
  check_list("reduce_scatter", "input_list", list, out, g)
  if op == "avg" and not out:is_floating_point() then
    error("reduce_scatter: avg needs a floating-point tensor (got " .. out.dtype .. ")", 0)
  end
  if not pg then out:copy_(list[1]:reshape(out:size())) return async and work() or out end
  local flat = flat_for(out, g)
  for i, x in ipairs(list) do part(flat, i - 1, out):copy_(x:view(out:size())) end
  if nccl then -- a real reduce_scatter (ncclReduceScatter)
    local buf = contiguous(out)
    local r = run(pg, async, "reduce_scatter", buf, flat, 0, op, function() if buf ~= out then out:copy_(buf) end end)
    return r or out
  end
  local r = run(pg, async, "all_reduce", flat, nil, 0, op == "avg" and "sum" or op, function()
    local mine = part(flat, g.rank, out)
    if op == "avg" then mine:div_(g.world_size) end
    out:copy_(mine)
  end)
  return r or out
end

return dist
