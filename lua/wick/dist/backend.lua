-- wick.dist's choice of back-end for a group's CPU collectives: shared memory (src/dist/shm_pg.c)
-- when every rank of the group runs on this host, else Gloo. backend = "gloo" or
-- WICK_DIST_SHM=0 forces Gloo; when shared memory cannot be set up (memory cannot be reserved,
-- a segment cannot be opened) every rank falls back to Gloo with one warning.
local core_pg = require("wick.core")._pg
local rendezvous = require("wick.dist.rendezvous")
local util = require("wick.util")

local M = {}
local warned = false

-- This host: its name and this boot's id (ranks in containers on one machine share the boot
-- id but may differ in name, and then cannot see each other's processes anyway).
function M.host_id()
  local boot = util.read_file("/proc/sys/kernel/random/boot_id") or ""
  return require("wick.core")._tb.hostname() .. "/" .. boot:gsub("%s", "")
end

-- Whether every rank of the group under prefix is on this host (each publishes its host id).
local function one_host(s, prefix, rank, size, timeout)
  local id = M.host_id()
  s:set(prefix .. "host/" .. rank, id)
  for r = 0, size - 1 do
    s:wait({ prefix .. "host/" .. r }, timeout)
    if s:get(prefix .. "host/" .. r) ~= id then return false end
  end
  return true
end

-- The process group of `size` ranks (this one `rank`) under the store prefix, for the backend
-- named ("gloo") or chosen (nil); nil when the build has no CPU backend for it. Errors are
-- raised bare: the caller adds its name.
function M.make(s, prefix, rank, size, timeout, init_method, forced)
  local shm_ok = forced ~= "gloo" and os.getenv("WICK_DIST_SHM") ~= "0"
  if shm_ok and one_host(s, prefix, rank, size, timeout) then
    local slot = rendezvous.env_int("WICK_DIST_SHM_SLOT_BYTES")
    local ok, pg, why = pcall(core_pg.new_shm, s, prefix .. "shm/", rank, size, timeout, slot)
    if not ok then error(pg, 0) end
    if pg then return pg end
    if not core_pg.gloo then error("shared memory cannot be used (" .. why .. ") and this build has no Gloo", 0) end
    if not warned then
      warned = true
      io.stderr:write("wick.dist: shared memory cannot be used (" .. why .. "); collectives use Gloo\n")
    end
  end
  if not core_pg.gloo then return nil end
  local host, iface = rendezvous.gloo_address(init_method)
  local ok, pg = pcall(core_pg.new, s, prefix .. "gloo/", rank, size, timeout, host, iface)
  if not ok then error(pg, 0) end
  return pg
end

return M
