-- wick.dist: process groups, the TCP store, spawn. A world of 1 works everywhere with no
-- launcher; larger worlds get their rank and store from `wick run -n N` or wick.dist.spawn.
-- Collectives across processes use the Gloo backend (src/dist/gloo_pg.cc) when the build has
-- it (dist.is_gloo_available()); without it they raise for world size > 1. They are the
-- identity for world size 1.
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
local function connect(fn, init_method, rank, timeout)
  local host, port
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
    if not host then error(fn .. ": unsupported init_method '" .. init_method .. "' (env:// or tcp://host:port)", 0) end
  end
  -- under wick run / spawn the launcher hosts the env:// store; a tcp:// store is rank 0's
  local master = rank == 0 and (init_method ~= "env://" or os.getenv("WICK_DIST_AGENT_STORE") ~= "1")
  return store.TCPStore(host, port, { is_master = master, timeout = timeout }), master
end

function dist.is_gloo_available() return core_pg.gloo end

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
  local timeout = opts.timeout or 1800
  generation = generation + 1
  local s, hosts = opts.store, false
  if world > 1 and not s then s, hosts = connect(fn, opts.init_method or "env://", rank, timeout) end
  state = { initialized = true, rank = rank, world_size = world, store = s, hosts = hosts,
    user_store = opts.store ~= nil, prefix = "pg" .. generation .. "/", barriers = 0,
    local_rank = env_int("LOCAL_RANK") or (world == 1 and 0 or rank), backend = opts.backend or "gloo" }
  if world > 1 then
    dist.barrier()
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

function dist.get_rank() need("get_rank") return state.rank end
function dist.get_world_size() need("get_world_size") return state.world_size end
-- LOCAL_RANK from the launcher; 0 outside one (also before init, for picking a device).
function dist.get_local_rank() return state.local_rank or env_int("LOCAL_RANK") or 0 end
function dist.get_backend() need("get_backend") return state.backend end
function dist.get_store() need("get_store") return state.store end

function dist.destroy_process_group()
  need("destroy_process_group")
  if state.pg then state.pg:destroy() end
  if state.store and state.world_size > 1 then
    -- the rank hosting the store leaves last, or the others would lose it mid-request
    local key = state.prefix .. "leave"
    if state.store:add(key, 1) == state.world_size then state.store:set(key .. "/done", "1") end
    if state.hosts then state.store:wait({ key .. "/done" }) end
  end
  if state.store and not state.user_store then state.store:close() end
  state = { initialized = false }
end

-- barrier({async_op}): Gloo's barrier; without a backend a store-based one (each rank counts
-- itself in; the last one opens the gate).
function dist.barrier(opts)
  need("barrier")
  opts = config.check_options("barrier", opts, { "async_op" })
  if state.pg then
    local w = state.pg:submit("barrier")
    if opts.async_op then return setmetatable({ _work = w }, dist._Work) end
    w:wait()
    return
  end
  if opts.async_op then
    dist.barrier()
    return setmetatable({}, dist._Work)
  end
  if state.world_size == 1 then return end
  state.barriers = state.barriers + 1
  local key = state.prefix .. "barrier/" .. state.barriers
  if state.store:add(key, 1) == state.world_size then state.store:set(key .. "/done", "1") end
  state.store:wait({ key .. "/done" })
end

-- ---- collectives: Gloo for world size > 1, the identity at world size 1 ----
-- Each op runs on the group's communication thread (in submission order, the same on every
-- rank) on contiguous CPU buffers: a non-contiguous tensor goes through a contiguous copy that
-- is copied back when the op is in place. With async_op = true the call returns a Work handle
-- whose :wait() raises the op's error and then does that copy back.

local ops = { sum = true, avg = true, product = true, min = true, max = true }

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

-- Splits the trailing options table off: returns the positional args and {async_op}.
local function options(fn, ...)
  local args = table.pack(...)
  local opts
  if args.n > 0 and type(args[args.n]) == "table" and not wick.is_tensor(args[args.n])
    and args[args.n][1] == nil and getmetatable(args[args.n]) == nil then
    opts = args[args.n]
    args[args.n] = nil
    args.n = args.n - 1
  end
  opts = config.check_options(fn, opts, { "async_op" })
  return args, opts.async_op and true or false
end

local function check_tensor(fn, t, what)
  if not wick.is_tensor(t) then error(fn .. ": expected " .. (what or "a tensor") .. " (got " .. type(t) .. ")", 0) end
end

local function collective(fn, t)
  need(fn)
  check_tensor(fn, t)
  if state.world_size > 1 and not state.pg then
    if not core_pg.gloo then
      error(fn .. ": needs a process group backend (gloo), which this build does not have yet", 0)
    end
    error(fn .. ": the " .. state.backend .. " backend is not available in this build", 0)
  end
end

local function check_root(fn, name, r)
  r = r or 0
  if math.type(r) ~= "integer" or r < 0 or r >= state.world_size then
    error(string.format("%s: %s %s is out of range for world size %d", fn, name, tostring(r), state.world_size), 0)
  end
  return r
end

-- The list argument of all_gather/gather/scatter/reduce_scatter: world_size tensors with t's
-- number of elements (values are converted to and from t's dtype, as copy_ does).
local function check_list(fn, name, list, t)
  if type(list) ~= "table" or #list ~= state.world_size then
    error(string.format("%s: %s must be a list of %d tensor(s)", fn, name, state.world_size), 0)
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
local function run(async, kind, buf, aux, root, reduce, finish)
  local w = state.pg:submit(kind, buf, aux, root, reduce)
  if async then return work(w, finish) end
  w:wait()
  if finish then finish() end
end

-- A flat buffer of world_size copies of t's elements, rank-major.
local function flat_for(t) return wick.empty({ state.world_size * t:numel() }, { dtype = t.dtype }) end
local function part(flat, i, like) local n = like:numel() return flat:narrow(0, i * n, n):view(like:size()) end

-- all_reduce(t, op = "sum", {async_op}): in place. "avg" is sum then division by the world
-- size (floating-point tensors only), as gloo has no average.
function dist.all_reduce(t, ...)
  local args, async = options("all_reduce", ...)
  local op = args[1] or "sum"
  collective("all_reduce", t)
  if not ops[op] then error("all_reduce: unknown op '" .. tostring(op) .. "'", 0) end
  if op == "avg" and not t:is_floating_point() then
    error("all_reduce: avg needs a floating-point tensor (got " .. t.dtype .. ")", 0)
  end
  if state.world_size == 1 then return async and work() or t end
  local buf = contiguous(t)
  local r = run(async, "all_reduce", buf, nil, 0, op == "avg" and "sum" or op, function()
    if op == "avg" then buf:div_(state.world_size) end
    if buf ~= t then t:copy_(buf) end
  end)
  return r or t
end

-- broadcast(t, src = 0, {async_op}): in place.
function dist.broadcast(t, ...)
  local args, async = options("broadcast", ...)
  collective("broadcast", t)
  local src = check_root("broadcast", "src", args[1])
  if state.world_size == 1 then return async and work() or t end
  local buf = contiguous(t)
  local r = run(async, "broadcast", buf, nil, src, nil, function() if buf ~= t then t:copy_(buf) end end)
  return r or t
end

-- all_gather(tensor_list, t, {async_op}): tensor_list[i] gets rank i-1's t.
function dist.all_gather(list, t, ...)
  local _, async = options("all_gather", ...)
  collective("all_gather", t)
  check_list("all_gather", "tensor_list", list, t)
  if state.world_size == 1 then list[1]:copy_(t) return async and work() or list end
  local flat = flat_for(t)
  local r = run(async, "all_gather", contiguous(t), flat, 0, nil, function()
    for i, x in ipairs(list) do x:copy_(part(flat, i - 1, x)) end
  end)
  return r or list
end

-- gather(t, gather_list, dst = 0, {async_op}): gather_list (on dst only) gets every rank's t.
function dist.gather(t, list, ...)
  local args, async = options("gather", ...)
  collective("gather", t)
  local dst = check_root("gather", "dst", args[1])
  local root = state.rank == dst
  if root then check_list("gather", "gather_list", list, t)
  elseif list ~= nil then error("gather: gather_list must be nil on a rank other than dst", 0) end
  if state.world_size == 1 then list[1]:copy_(t) return async and work() or list end
  local flat = root and flat_for(t) or nil
  local r = run(async, "gather", contiguous(t), flat, dst, nil, function()
    if root then for i, x in ipairs(list) do x:copy_(part(flat, i - 1, x)) end end
  end)
  return r or list
end

-- scatter(t, scatter_list, src = 0, {async_op}): t gets scatter_list[rank+1] of src.
function dist.scatter(t, list, ...)
  local args, async = options("scatter", ...)
  collective("scatter", t)
  local src = check_root("scatter", "src", args[1])
  local root = state.rank == src
  if root then check_list("scatter", "scatter_list", list, t)
  elseif list ~= nil then error("scatter: scatter_list must be nil on a rank other than src", 0) end
  if state.world_size == 1 then t:copy_(list[1]) return async and work() or t end
  local flat
  if root then
    flat = flat_for(t)
    for i, x in ipairs(list) do part(flat, i - 1, t):copy_(x:view(t:size())) end
  end
  local buf = contiguous(t)
  local r = run(async, "scatter", buf, flat, src, nil, function() if buf ~= t then t:copy_(buf) end end)
  return r or t
end

-- reduce_scatter(output, input_list, op = "sum", {async_op}): output gets the reduction of
-- input_list[rank+1] over the ranks. Gloo has no reduce_scatter on plain buffers: this is an
-- all_reduce of the whole list (world_size times the traffic of a real reduce_scatter).
function dist.reduce_scatter(out, list, ...)
  local args, async = options("reduce_scatter", ...)
  local op = args[1] or "sum"
  collective("reduce_scatter", out)
  if not ops[op] then error("reduce_scatter: unknown op '" .. tostring(op) .. "'", 0) end
  check_list("reduce_scatter", "input_list", list, out)
  if op == "avg" and not out:is_floating_point() then
    error("reduce_scatter: avg needs a floating-point tensor (got " .. out.dtype .. ")", 0)
  end
  if state.world_size == 1 then out:copy_(list[1]) return async and work() or out end
  local flat = flat_for(out)
  for i, x in ipairs(list) do part(flat, i - 1, out):copy_(x:view(out:size())) end
  local r = run(async, "all_reduce", flat, nil, 0, op == "avg" and "sum" or op, function()
    local mine = part(flat, state.rank, out)
    if op == "avg" then mine:div_(state.world_size) end
    out:copy_(mine)
  end)
  return r or out
end

return dist
