-- wick.dist: process groups, the TCP store, spawn. A world of 1 works everywhere with no
-- launcher; larger worlds get their rank and store from `wick run -n N` or wick.dist.spawn.
-- Collectives across processes use the Gloo backend (src/dist/gloo_pg.cc) when the build has
-- it (dist.is_gloo_available()); without it they raise for world size > 1. They are the
-- identity for world size 1. CUDA tensors go through NCCL (src/cuda/nccl_pg.c) with backend
-- "nccl", or with no backend named at world size > 1 (docs/parallel.md).
-- This file holds init/destroy and gathers the parts: rendezvous.lua (reaching the store),
-- group.lua (the world's state, new_group, rank lookups), backend.lua (shared memory or Gloo),
-- collectives.lua (the ops).
local core_pg = require("wick.core")._pg
local config = require("wick.config")
local store = require("wick.dist.store")
local rendezvous = require("wick.dist.rendezvous")
local G = require("wick.dist.group")
local backend = require("wick.dist.backend")

local dist = {}
dist.TCPStore = store.TCPStore
dist.spawn = require("wick.dist.spawn").spawn
dist.ReduceOp = { SUM = "sum", AVG = "avg", PRODUCT = "product", MIN = "min", MAX = "max" }
dist.group = G.group
for _, name in ipairs({ "new_group", "get_rank", "get_world_size", "get_group_rank", "get_global_rank" }) do
  dist[name] = G[name]
end
for name, f in pairs(require("wick.dist.collectives")) do dist[name] = f end
dist._transport = G.transport -- "shm", "gloo" or nil: for specs and bench/dist

local env_int, need, release = rendezvous.env_int, G.need, G.release

local function check_int(fn, name, v, min)
  if v ~= nil and (math.type(v) ~= "integer" or v < min) then
    error(string.format("%s: %s must be an integer >= %d (got %s)", fn, name, min, tostring(v)), 0)
  end
end

function dist.is_gloo_available() return core_pg.gloo end
function dist.is_nccl_available() return core_pg.nccl end

-- init_process_group{backend, init_method = "env://", world_size, rank, timeout = 1800}
function dist.init_process_group(opts)
  local fn = "init_process_group"
  opts = config.check_options(fn, opts, { "backend", "init_method", "world_size", "rank", "timeout", "store" })
  if G.state.initialized then error(fn .. ": trying to initialize the default process group twice!", 0) end
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
  G.generation = G.generation + 1
  local s, hosts = opts.store, false
  if world > 1 and not s then s, hosts = rendezvous.connect(fn, opts.init_method or "env://", rank, timeout) end
  G.state = { initialized = true, rank = rank, world_size = world, store = s, hosts = hosts,
    user_store = opts.store ~= nil, prefix = "pg" .. G.generation .. "/", barriers = 0,
    local_rank = env_int("LOCAL_RANK") or (world == 1 and 0 or rank), backend = opts.backend or "gloo",
    backend_auto = opts.backend == nil, forced = opts.backend,
    init_method = opts.init_method or "env://", timeout = timeout, groups = 0, subgroups = {} }
  -- rank 0 removes a file:// rendezvous file when the group is destroyed
  if hosts and G.state.init_method:match("^file://") then G.state.rdzv_file = G.state.init_method:sub(8) end
  if world > 1 then
    rendezvous.gate(fn, s, G.state.prefix, rank, world, timeout,
      not (G.state.init_method == "env://" and os.getenv("WICK_DIST_AGENT_STORE") == "1"))
    if G.state.backend == "gloo" then
      local ok, pg = pcall(backend.make, s, G.state.prefix, rank, world, timeout, G.state.init_method, opts.backend)
      if not ok then
        if s and not G.state.user_store then s:close() end
        G.state = { initialized = false }
        error(pg, 0)
      end
      G.state.pg = pg
    end
  end
end

function dist.is_initialized() return G.state.initialized end

-- LOCAL_RANK from the launcher; 0 outside one (also before init, for picking a device).
function dist.get_local_rank() return G.state.local_rank or env_int("LOCAL_RANK") or 0 end
function dist.get_backend() need("get_backend") return G.state.backend end
function dist.get_store() need("get_store") return G.state.store end

-- destroy_process_group(group): a subgroup's own process group; without one, every group.
function dist.destroy_process_group(group)
  need("destroy_process_group")
  if group ~= nil and group ~= dist.group.WORLD then
    if getmetatable(group) == getmetatable(dist.group.WORLD) and group.generation == G.generation then
      release(group)
      return
    end
    error("destroy_process_group: group must be a group made by new_group (got " .. type(group) .. ")", 0)
  end
  for _, g in ipairs(G.state.subgroups) do release(g) end
  release(G.state)
  if G.state.store and G.state.world_size > 1 then
    -- the rank hosting the store leaves last, or the others would lose it mid-request
    local key = G.state.prefix .. "leave"
    if G.state.store:add(key, 1) == G.state.world_size then G.state.store:set(key .. "/done", "1") end
    if G.state.hosts then G.state.store:wait({ key .. "/done" }) end
  end
  if G.state.store and not G.state.user_store then G.state.store:close() end
  if G.state.rdzv_file then os.remove(G.state.rdzv_file) end
  G.state = { initialized = false }
end


return dist
