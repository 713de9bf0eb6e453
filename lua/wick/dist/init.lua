-- wick.dist: process groups, the TCP store, spawn. A world of 1 works everywhere with no
-- launcher; larger worlds get their rank and store from `wick run -n N` or wick.dist.spawn.
-- Collectives across processes need the Gloo backend, a later change: until then they raise
-- for world size > 1 and are the identity for world size 1.
local wick = require("wick")
local core = require("wick.core")._dist
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
  if world > 1 then dist.barrier() end
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
  if state.store and state.world_size > 1 then
    -- the rank hosting the store leaves last, or the others would lose it mid-request
    local key = state.prefix .. "leave"
    if state.store:add(key, 1) == state.world_size then state.store:set(key .. "/done", "1") end
    if state.hosts then state.store:wait({ key .. "/done" }) end
  end
  if state.store and not state.user_store then state.store:close() end
  state = { initialized = false }
end

-- A store-based barrier: each rank counts itself in; the last one opens the gate.
function dist.barrier()
  need("barrier")
  if state.world_size == 1 then return end
  state.barriers = state.barriers + 1
  local key = state.prefix .. "barrier/" .. state.barriers
  if state.store:add(key, 1) == state.world_size then state.store:set(key .. "/done", "1") end
  state.store:wait({ key .. "/done" })
end

-- ---- collectives: the identity at world size 1 ----

local ops = { sum = true, avg = true, product = true, min = true, max = true }

local function collective(fn, t)
  need(fn)
  if not wick.is_tensor(t) then error(fn .. ": expected a tensor (got " .. type(t) .. ")", 0) end
  if state.world_size > 1 then
    error(fn .. ": needs a process group backend (gloo), which this build does not have yet", 0)
  end
end

function dist.all_reduce(t, op)
  collective("all_reduce", t)
  if op ~= nil and not ops[op] then error("all_reduce: unknown op '" .. tostring(op) .. "'", 0) end
  return t
end

function dist.broadcast(t, src)
  collective("broadcast", t)
  if (src or 0) ~= 0 then error("broadcast: src " .. tostring(src) .. " is out of range for world size 1", 0) end
  return t
end

local function copy_into(fn, list, t)
  if type(list) ~= "table" or #list ~= 1 then
    error(fn .. ": expected a list of " .. state.world_size .. " tensor(s)", 0)
  end
  list[1]:copy_(t)
end

function dist.all_gather(list, t) collective("all_gather", t) copy_into("all_gather", list, t) return list end
function dist.reduce_scatter(out, list) collective("reduce_scatter", out) copy_into("reduce_scatter", { out }, list[1]) return out end
function dist.gather(t, list) collective("gather", t) if list then copy_into("gather", list, t) end return list end
function dist.scatter(t, list) collective("scatter", t) if list then t:copy_(list[1]) end return t end

return dist
