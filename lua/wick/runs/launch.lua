-- The run directory as seen by the launcher of `wick run -n N`: created (or reopened by
-- --resume) before the workers start, its final status recorded after they exit.
local core = require("wick.core")
local util = require("wick.util")
local files = require("wick.runs.files")
local dir_ = require("wick.runs.dir")
local lock = require("wick.runs.lock")

local M = {}

-- Creates the run directory, writes command.txt and meta.yaml, and sets WICK_RUN_DIR for the
-- workers (with resume: reopens the run in run_dir, and WICK_RESUME tells the workers). Returns
-- the directory, and whether it was named here (not by --run-dir). The launcher holds the
-- directory's lock until launch_end (node 0's only: with --nnodes K the nodes may share the
-- directory).
function M.launch_begin(path, run_dir, nproc, resume, node_rank)
  local dir = run_dir
  if not resume then
    if dir then files.mkdirs(dir) else dir = dir_.new_dir(dir_.name_of(path)) end
  end
  if (node_rank or 0) == 0 then lock.acquire(dir) end
  local ok, err = pcall(function()
    if resume then
      require("wick.runs").resume_begin(dir, nproc)
    else
      files.write_file(dir .. "/command.txt", dir_.command_line() .. "\n")
      files.write_meta(dir, dir_.new_meta(path, nproc))
    end
  end)
  if not ok then
    lock.release(dir)
    error(err, 0)
  end
  core._dist.setenv("WICK_RUN_DIR", dir)
  core._dist.setenv("WICK_RESUME", resume and dir or "")
  return dir, run_dir == nil
end

-- Before the k-th restart of the workers (of max) after `headline` ("rank 1 failed (...)"):
-- clears what the stopped run left half-written, points the workers at the checkpoint to
-- resume from ($WICK_RESUME; none yet: they start over), and logs the restart in meta.yaml
-- (restarts: time, after, from) and in each rank's log, as well as on stderr.
function M.launch_restart(dir, k, max, headline)
  local resume = require("wick.runs.resume")
  resume.clean_partial(dir)
  local ok, path, counters = pcall(resume.pick_checkpoint, dir)
  local from = "the start (no checkpoint yet)"
  if ok and path then
    from = path:match("[^/]*$") .. " (" .. resume.describe_counters(counters) .. ")"
  elseif not ok then
    from = "the start (" .. tostring(path) .. ")"
    path = nil
  end
  core._dist.setenv("WICK_RESUME", path and dir or "")
  local line = string.format("wick run: restart %d of %d after %s, from %s", k, max, headline, from)
  io.stderr:write(line, "\n")
  io.stderr:flush()
  local p = io.popen("ls -1 " .. util.shell_quote(dir) .. " 2>/dev/null")
  for name in (p and p:read("a") or ""):gmatch("[^\n]+") do
    if name:match("^rank%d+%.log$") then
      local f = io.open(dir .. "/" .. name, "a")
      if f then f:write(line, "\n"); f:close() end
    end
  end
  if p then p:close() end
  local meta = files.read_meta(dir) or {}
  meta.status, meta.error = "running", nil
  local restarts = type(meta.restarts) == "table" and meta.restarts or {}
  restarts[#restarts + 1] = { time = files.now_iso(), after = headline, from = from }
  meta.restarts = restarts
  files.write_meta(dir, meta)
end

-- After the workers: the final status (rank 0 recorded its metrics or error). A directory the
-- launcher named itself is removed again when no recipe ran in it (a plain script, or a config
-- error: as without -n, those leave no run).
function M.launch_end(dir, code, named, why)
  local ok, err = pcall(M.record_end, dir, code, named, why)
  lock.release(dir)
  if named then os.remove(dir) end -- rmdir: a directory left empty (see record_end)
  if not ok then error(err, 0) end
end

function M.record_end(dir, code, named, why)
  if named and not util.read_file(dir .. "/config.yaml") then
    os.remove(dir .. "/command.txt")
    os.remove(dir .. "/meta.yaml")
    -- the directory goes (launch_end, once unlocked) when nothing else is in it
    if os.execute("ls -A " .. util.shell_quote(dir) .. " | grep -qvx lock") ~= true then return end
  end
  local meta = files.read_meta(dir) or {}
  if code == 0 and meta.status ~= "failed" then
    meta.status = "completed"
  else
    meta.status = "failed"
    meta.error = why or meta.error or "a worker failed (see the rank<k>.log files)"
  end
  meta.end_time = files.now_iso()
  files.write_meta(dir, meta)
end

return M
