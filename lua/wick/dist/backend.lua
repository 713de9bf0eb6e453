-- wick.dist's choice of back-end for a group's CPU collectives: shared memory (src/dist/shm_pg.c)
-- when every rank of the group runs on this host; across hosts, Gloo, with all_reduce made
-- hierarchical (shared memory within each host, Gloo between one rank per host). backend =
-- "gloo" or WICK_DIST_SHM=0 forces plain Gloo; when shared memory cannot be set up on some rank
-- (memory cannot be reserved, a segment cannot be opened) every rank falls back to Gloo, with
-- one warning per process.
local core_pg = require("wick.core")._pg
local rendezvous = require("wick.dist.rendezvous")
local util = require("wick.util")

local M = {}
local warned = false

-- This host: its name and this boot's id (ranks in containers on one machine share the boot
-- id but may differ in name, and then cannot see each other's processes anyway).
-- WICK_DIST_HOST_ID replaces it (to run the several-host path on one machine).
function M.host_id()
  local given = os.getenv("WICK_DIST_HOST_ID")
  if given and given ~= "" then return given end
  local boot = util.read_file("/proc/sys/kernel/random/boot_id") or ""
  return require("wick.core")._tb.hostname() .. "/" .. boot:gsub("%s", "")
end

-- Every rank's host id, published under prefix (index r + 1: rank r's).
local function host_ids(s, prefix, rank, size, timeout)
  s:set(prefix .. "host/" .. rank, M.host_id())
  local ids = {}
  for r = 0, size - 1 do
    s:wait({ prefix .. "host/" .. r }, timeout)
    ids[r + 1] = s:get(prefix .. "host/" .. r)
  end
  return ids
end

local function warn(why)
  if warned then return end
  warned = true
  io.stderr:write("wick.dist: shared memory cannot be used (" .. why .. "); collectives use Gloo\n")
end

local function gloo(s, prefix, rank, size, timeout, init_method)
  local host, iface = rendezvous.gloo_address(init_method)
  local ok, pg = pcall(core_pg.new, s, prefix .. "gloo/", rank, size, timeout, host, iface)
  if not ok then error(pg, 0) end
  return pg
end

local function shm(s, prefix, rank, size, timeout)
  local ok, pg, why = pcall(core_pg.new_shm, s, prefix .. "shm/", rank, size, timeout,
    rendezvous.env_int("WICK_DIST_SHM_SLOT_BYTES"))
  if not ok then error(pg, 0) end
  return pg, why
end

-- Ranks on several hosts: this host's ranks make a shm group, the first rank of each host a
-- Gloo group of leaders, and every rank the world's Gloo group. Every rank then learns whether
-- every node's shm group was made; if one was not, all use the world's Gloo group alone.
local function hierarchical(s, prefix, rank, size, timeout, init_method, ids)
  local mine, node_rank, leaders, leader_index, seen = 0, nil, 0, nil, {}
  for r = 0, size - 1 do
    local id = ids[r + 1]
    if not seen[id] then
      seen[id] = leaders
      leaders = leaders + 1
      if r == rank then leader_index = seen[id] end
    end
    if id == ids[rank + 1] then
      if r == rank then node_rank = mine end
      mine = mine + 1
    end
  end
  local node = seen[ids[rank + 1]]
  local node_pg, why = shm(s, prefix .. "node" .. node .. "/", node_rank, mine, timeout)
  s:set(prefix .. "hier/" .. rank, node_pg and "1" or why)
  local failed
  for r = 0, size - 1 do
    s:wait({ prefix .. "hier/" .. r }, timeout)
    local v = s:get(prefix .. "hier/" .. r)
    if v ~= "1" and not failed then failed = v end
  end
  local world = gloo(s, prefix, rank, size, timeout, init_method)
  if failed then
    if node_pg then node_pg:destroy() end
    warn(failed)
    return world
  end
  local lead = leader_index and gloo(s, prefix .. "leaders/", leader_index, leaders, timeout, init_method) or nil
  return core_pg.new_hier(node_pg, lead, world)
end

-- The process group of `size` ranks (this one `rank`) under the store prefix, for the backend
-- named ("gloo") or chosen (nil); nil when the build has no CPU backend for it. Errors are
-- raised bare: the caller adds its name.
function M.make(s, prefix, rank, size, timeout, init_method, forced)
  local shm_ok = forced ~= "gloo" and os.getenv("WICK_DIST_SHM") ~= "0"
  if shm_ok then
    local ids = host_ids(s, prefix, rank, size, timeout)
    local one = true
    for r = 2, size do one = one and ids[r] == ids[1] end
    if not one then
      if not core_pg.gloo then return nil end
      return hierarchical(s, prefix, rank, size, timeout, init_method, ids)
    end
    local pg, why = shm(s, prefix, rank, size, timeout)
    if pg then return pg end
    if not core_pg.gloo then error("shared memory cannot be used (" .. why .. ") and this build has no Gloo", 0) end
    warn(why)
  end
  if not core_pg.gloo then return nil end
  return gloo(s, prefix, rank, size, timeout, init_method)
end

return M
