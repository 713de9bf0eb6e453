-- The files of a run directory: whole-file writes that are atomic and checked, meta.yaml, and
-- the directory itself. Every write either replaces the file whole or leaves the old one.
local config = require("wick.config")
local core = require("wick.core")
local util = require("wick.util")

local M = {}

-- text to path through path.tmp and a rename, so that a reader (wick runs, another rank) never
-- sees half a file. Every step is checked (a full disk fails at write, flush or close): on a
-- failure the temporary file is removed, the old file stays, and the error is raised as
-- "cannot write PATH: REASON".
function M.write_file(path, text)
  local tmp = path .. ".tmp"
  local function failed(err)
    os.remove(tmp)
    error("cannot write " .. path .. ": " .. tostring(err):gsub("^" .. tmp:gsub("%p", "%%%0") .. ": ", ""), 0)
  end
  local f, err = io.open(tmp, "wb")
  if not f then failed(err) end
  local ok, werr = f:write(text)
  if ok then ok, werr = f:flush() end
  local closed, cerr = f:close()
  if not ok then failed(werr) end
  if not closed then failed(cerr) end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then failed(rerr) end
end

function M.mkdirs(dir)
  local ok, err = pcall(core._tb.mkdirs, dir)
  if not ok then
    error("cannot create the run directory " .. dir .. ": " .. tostring(err):gsub("^.*: ", ""), 0)
  end
end

function M.now_iso() return os.date("!%Y-%m-%dT%H:%M:%SZ") end

-- meta.yaml of the run in dir as a table, or nil when missing or unreadable.
function M.read_meta(dir)
  local text = util.read_file(dir .. "/meta.yaml")
  if not text then return nil end
  local ok, meta = pcall(config.loads, text)
  if ok and type(meta) == "table" then return meta end
  return nil
end

function M.write_meta(dir, meta) M.write_file(dir .. "/meta.yaml", config.dump(meta)) end

return M
