-- wick.dist's groups: the state of the default group (the world), the Group class of
-- new_group's subgroups, and rank lookups. A collective runs on a group g: the world is
-- G.state itself, a subgroup a Group.
local config = require("wick.config")
local backend = require("wick.dist.backend")

local G = {}
G.NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."
G.state = { initialized = false }
-- groups made so far: keys of the n-th group are prefixed "pg<n>/" so that a launcher's store
-- can serve several init/destroy cycles (every rank makes the same sequence of groups)
G.generation = 0

function G.need(fn)
  if not G.state.initialized then error(fn .. ": " .. G.NOT_INIT, 0) end
end
local need = G.need

-- Destroys a group's back-end handles (Gloo and NCCL) and marks it destroyed.
local function release(g)
  if g.pg then g.pg:destroy() end
  if g.nccl_pg then g.nccl_pg:destroy() end
  g.pg, g.nccl_pg, g.destroyed = nil, nil, true
end

G.release = release

-- A collective runs on a group g: the world is `G.state` itself, a subgroup a Group. Both have
-- pg (nil at size 1 or without a backend), rank (this process's rank in the group; -1 outside
-- it), world_size, and a store key prefix; a subgroup also maps global ranks to group ranks.

local Group = {}
Group.__index = Group
Group.__name = "wick.dist.ProcessGroup"
function Group:__tostring()
  if self.world then return "ProcessGroup(WORLD)" end
  return "ProcessGroup(ranks {" .. table.concat(self.ranks, ", ") .. "})"
end

-- G.group.WORLD: the default group, as torch.distributed.group.WORLD.
G.group = { WORLD = setmetatable({ world = true }, Group) }

-- The group a call names (nil: the world), or nil when this rank is not in it (PyTorch's
-- collectives do nothing there).
local function resolve(fn, group)
  need(fn)
  if group == nil or group == G.group.WORLD then return G.state end
  if getmetatable(group) ~= Group then
    error(fn .. ": group must be a group made by new_group (got " .. type(group) .. ")", 0)
  end
  if group.generation ~= G.generation or group.destroyed then error(fn .. ": the group was destroyed", 0) end
  if not group.member then return nil end
  return group
end

-- The process group of a new subgroup: shared memory or Gloo, chosen for its own ranks.
local function backend_pg(fn, prefix, rank, size, timeout)
  local st = G.state
  local ok, pg = pcall(backend.make, st.store, prefix, rank, size, timeout, st.init_method, st.forced)
  if not ok then error(fn .. ": " .. tostring(pg), 0) end
  return pg
end

-- The back-end running a group's CPU collectives: "shm", "gloo", or nil (size 1, none built).
function G.transport(group)
  local g = resolve("_transport", group)
  return g and g.pg and g.pg:name() or nil
end

-- new_group(ranks = all, {timeout}): every rank of the world calls it with the same ranks, in
-- the same order relative to other new_group calls (as PyTorch). Members get a group whose
-- ranks are 0..#ranks-1 in sorted global order; the others get a handle that is not a member
-- (get_rank(g) == -1, collectives on it do nothing and return nil).
function G.new_group(ranks, opts)
  local fn = "new_group"
  need(fn)
  opts = config.check_options(fn, opts, { "timeout", "backend" })
  if opts.backend ~= nil and opts.backend ~= G.state.backend then
    error(string.format("%s: backend '%s' differs from the default group's (%s)", fn, tostring(opts.backend), G.state.backend), 0)
  end
  local n, list = G.state.world_size, {}
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
  local timeout = opts.timeout or G.state.timeout
  if type(timeout) ~= "number" or timeout <= 0 then
    error(fn .. ": timeout must be a positive number of seconds (got " .. tostring(timeout) .. ")", 0)
  end
  G.state.groups = G.state.groups + 1
  local index = {}
  for i, r in ipairs(list) do index[r] = i - 1 end
  local g = setmetatable({ ranks = list, index = index, world_size = #list, rank = index[G.state.rank] or -1,
    member = index[G.state.rank] ~= nil, generation = G.generation, barriers = 0, store = G.state.store,
    backend = G.state.backend, prefix = G.state.prefix .. "group" .. G.state.groups .. "/" }, Group)
  if g.member and #list > 1 and G.state.pg then g.pg = backend_pg(fn, g.prefix, g.rank, #list, timeout) end
  G.state.subgroups[#G.state.subgroups + 1] = g
  return g
end

-- get_rank(group) / get_world_size(group): -1 on a rank outside the group, as PyTorch.
function G.get_rank(group)
  if group == nil then need("get_rank") return G.state.rank end
  local g = resolve("get_rank", group)
  return g and g.rank or -1
end
function G.get_world_size(group)
  if group == nil then need("get_world_size") return G.state.world_size end
  local g = resolve("get_world_size", group)
  return g and g.world_size or -1
end

-- get_group_rank(group, global_rank) / get_global_rank(group, group_rank): nil when not in it.
function G.get_group_rank(group, r)
  local g = resolve("get_group_rank", group) or group
  if g == G.state then return r end
  return g.index[r]
end
function G.get_global_rank(group, r)
  local g = resolve("get_global_rank", group) or group
  if g == G.state then return r end
  return g.ranks[r + 1]
end
G.resolve = resolve
G.backend_pg = backend_pg
G.Group = Group

return G
