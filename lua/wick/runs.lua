-- Run tracking for `wick run` (docs/runs.md): each run's directory (config.yaml, command.txt,
-- meta.yaml, stdout/stderr logs, event files), final metrics, hparams, and `wick runs`.
local config = require("wick.config")
local core = require("wick.core")

local runs = {}
-- where `wick run` puts run directories: $WICK_RUNS_DIR, else runs/ in the working directory
runs.BASE = (os.getenv("WICK_RUNS_DIR") or "") ~= "" and os.getenv("WICK_RUNS_DIR") or "runs"

local current -- the run of this process (one at a time), nil outside `wick run`

local util = require("wick.util")
local quote, read_file = util.shell_quote, util.read_file

-- Whole-file writes go through a temporary name and rename, so a reader (wick runs, another
-- rank) never sees half a meta.yaml.
local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("cannot write " .. path .. ": " .. tostring(err), 0) end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then error("cannot write " .. path .. ": " .. tostring(rerr), 0) end
end

local function mkdirs(dir)
  local ok, err = pcall(core._tb.mkdirs, dir)
  if not ok then
    error("cannot create the run directory " .. dir .. ": " .. tostring(err):gsub("^.*: ", ""), 0)
  end
end

local function now_iso() return os.date("!%Y-%m-%dT%H:%M:%SZ") end


-- A new directory <base>/<name>-<YYYYMMDD-HHMMSS>-<n>: mkdir (without -p) fails when the name
-- exists, so two runs started in the same second (even by two processes) get different n.
function runs.new_dir(name, base)
  base = base or runs.BASE
  mkdirs(base)
  local stamp = os.date("%Y%m%d-%H%M%S")
  for n = 1, 1000 do
    local dir = string.format("%s/%s-%s-%d", base, name, stamp, n)
    if os.execute("mkdir " .. quote(dir) .. " 2>/dev/null") then return dir end
  end
  error("cannot create a run directory in " .. base, 0)
end

-- The recipe's name: its file name without the directory and .lua.
function runs.name_of(path)
  return (path:match("([^/]*)$"):gsub("%.lua$", ""))
end

-- The commit of the git checkout holding dir, or nil (not a checkout, no git, or it hangs).
local function git_commit(dir)
  local p = io.popen("cd " .. quote(dir) .. " 2>/dev/null && timeout 5 git rev-parse HEAD 2>/dev/null")
  if not p then return nil end
  local out = p:read("a") or ""
  p:close()
  return out:match("^(%x+)\n")
end

function runs.read_meta(dir)
  local text = read_file(dir .. "/meta.yaml")
  if not text then return nil end
  local ok, meta = pcall(config.loads, text)
  if ok and type(meta) == "table" then return meta end
  return nil
end

local function write_meta(dir, meta) write_file(dir .. "/meta.yaml", config.dump(meta)) end

-- The shell-quoted command line of this process, from `arg` (negative indices: the program and
-- the arguments before the file).
function runs.command_line(arg)
  arg = arg or _G.arg or {}
  local lo = 0
  while arg[lo - 1] ~= nil do lo = lo - 1 end
  local words = {}
  for i = lo, #arg do
    local a = tostring(arg[i])
    words[#words + 1] = a:match("^[%w%-_./=:,+@%%]+$") and a or quote(a)
  end
  return table.concat(words, " ")
end

-- ---- tee: this process's Lua output into the run's log files ----

-- Wraps the `write` method of Lua files (io.stdout:write, io.stderr:write), io.write and print so
-- that what goes to stdout/stderr is also appended to out_path/err_path (the same file for a
-- rank's log). Output written by C directly (the host's error report) is not seen; the run's
-- error is in meta.yaml. Returns a function that undoes it.
local function tee(out_path, err_path)
  local outf = assert(io.open(out_path, "a"))
  local errf = err_path == out_path and outf or assert(io.open(err_path, "a"))
  outf:setvbuf("line")
  errf:setvbuf("line")
  local stdout, stderr = io.stdout, io.stderr
  local methods = getmetatable(stdout).__index
  local orig_write, orig_print, orig_iowrite = methods.write, print, io.write
  methods.write = function(f, ...)
    local r1, r2, r3 = orig_write(f, ...)
    if rawequal(f, stdout) then pcall(orig_write, outf, ...)
    elseif rawequal(f, stderr) then pcall(orig_write, errf, ...) end
    return r1, r2, r3
  end
  io.write = function(...) return io.output():write(...) end
  print = function(...)
    local n, parts = select("#", ...), {}
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    stdout:write(table.concat(parts, "\t"), "\n")
  end
  return function()
    methods.write, print, io.write = orig_write, orig_print, orig_iowrite
    pcall(outf.close, outf)
    if errf ~= outf then pcall(errf.close, errf) end
  end, errf
end

-- ---- hparams ----

-- The config as hparams: dotted keys, scalar values; a list becomes its flow-style YAML text.
local function flatten(t, prefix, out)
  out = out or {}
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local v, name = t[k], prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    local kind = type(v) == "table" and config.kind(v)
    if kind == "map" then flatten(v, name, out)
    elseif kind then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = type(x) == "table" and "..." or tostring(x) end
      out[name] = "[" .. table.concat(parts, ", ") .. "]"
    elseif type(v) == "number" or type(v) == "string" or type(v) == "boolean" then
      out[name] = v
    end
  end
  return out
end
runs.flatten = flatten

local function numeric_metrics(t, out)
  out = out or {}
  if type(t) == "table" then
    for k, v in pairs(t) do
      if type(k) == "string" and type(v) == "number" then out[k] = v end
    end
  end
  return out
end

local function write_hparams(dir, cfg, metrics)
  local tb = require("wick.tb")
  local w = tb.SummaryWriter(dir .. "/hparams")
  w:add_hparams(flatten(config.strip_nulls(cfg)), metrics, { run_name = "." })
  w:close()
end

-- ---- the run of this process ----

local Run = {}
Run.__index = Run

-- runs.start{path = recipe file, cfg = resolved config, run_dir = DIR or nil}: the run of a
-- recipe in this process. Alone: creates (or takes) the directory and writes everything. As
-- rank k of `wick run -n N` (WICK_RUN_DIR and RANK set by the launcher, which wrote command.txt
-- and meta.yaml): logs to rank<k>.log, and rank 0 writes config.yaml, metrics and hparams.
-- Use as `local run <close> = runs.start{...}; run.result = ...`: closing finishes the run,
-- "failed" with the error when closed by an error.
function runs.start(opts)
  local self = setmetatable({ cfg = opts.cfg, reported = {} }, Run)
  local env_dir, rank = os.getenv("WICK_RUN_DIR"), math.tointeger(tonumber(os.getenv("RANK") or ""))
  if env_dir and env_dir ~= "" and rank then
    self.dir, self.rank, self.worker = env_dir, rank, true
    if rank == 0 then write_file(self.dir .. "/config.yaml", config.dump(opts.cfg)) end
    self.untee, self.errlog = tee(self.dir .. "/rank" .. rank .. ".log", self.dir .. "/rank" .. rank .. ".log")
  elseif opts.resume then -- `wick run --resume DIR`: the same directory, logs appended
    self.dir, self.rank = opts.run_dir, 0
    runs.resume_begin(self.dir, 1, opts.command)
    write_file(self.dir .. "/config.yaml", config.dump(opts.cfg))
    self.untee, self.errlog = tee(self.dir .. "/stdout.log", self.dir .. "/stderr.log")
  else
    if opts.run_dir then
      mkdirs(opts.run_dir)
      self.dir = opts.run_dir
    else
      self.dir = runs.new_dir(runs.name_of(opts.path))
    end
    self.rank = 0
    write_file(self.dir .. "/command.txt", runs.command_line() .. "\n")
    write_file(self.dir .. "/config.yaml", config.dump(opts.cfg))
    write_meta(self.dir, runs.new_meta(opts.path))
    self.untee, self.errlog = tee(self.dir .. "/stdout.log", self.dir .. "/stderr.log")
  end
  -- resumed: set for this process by `wick run --resume`, for the workers of -n N by
  -- $WICK_RESUME (the launcher's resumed directory)
  self.resume = opts.resume or (self.worker and os.getenv("WICK_RESUME") == self.dir) or false
  local secs = tonumber(os.getenv("WICK_SYSTEM_METRICS") or "")
  if secs and secs > 0 and self.rank == 0 then
    self.stop_monitor = require("wick.runs.system").start(self.dir .. "/system", secs)
  end
  current = self
  return self
end

-- The meta.yaml of a run that starts now.
function runs.new_meta(path, nproc)
  local dir = path:match("^(.*)/[^/]*$") or "."
  return {
    recipe = path, wick_version = core.build_info().version, start_time = now_iso(),
    host = core._tb.hostname(), pid = core._dist.getpid(), git_commit = git_commit(dir),
    nproc = nproc or 1, status = "running",
  }
end

function Run:finish(err)
  if self.finished then return end
  self.finished = true
  if current == self then current = nil end
  if self.stop_monitor then self.stop_monitor() end
  if self.untee then
    -- the host reports the error after this, in C: the log gets it here
    if err ~= nil then pcall(self.errlog.write, self.errlog, "wick: ", tostring(err), "\n") end
    self.untee()
  end
  if self.rank ~= 0 then return end
  local metrics = numeric_metrics(self.result, numeric_metrics(self.reported))
  local meta = runs.read_meta(self.dir) or {}
  -- (a resumed run that had nothing left to do keeps the metrics it had)
  meta.metrics = next(metrics) and metrics or (self.resume and meta.metrics) or nil
  if err ~= nil then
    meta.status, meta.error = "failed", tostring(err)
  elseif not self.worker then
    meta.status = "completed"
  end
  if not self.worker then meta.end_time = now_iso() end
  write_meta(self.dir, meta)
  if err == nil then write_hparams(self.dir, self.cfg, metrics) end
end

-- Closing never replaces the recipe's error: a failure to record the run is a warning.
function Run:__close(err)
  local ok, e = pcall(self.finish, self, err)
  if not ok then io.stderr:write("wick run: could not record the run in ", tostring(self.dir), ": ", tostring(e), "\n") end
end

-- The directory of the run in progress (nil outside `wick run`): wick.run_dir().
function runs.current_dir() return current and current.dir end

-- wick.recipe.report{name = number, ...}: final metrics of the run in progress (merged; what
-- main returns is merged last). Outside `wick run` it checks its argument and does nothing.
function runs.report(metrics)
  if type(metrics) ~= "table" then
    error("wick.recipe.report: expected a table of metrics {name = number} (got " .. type(metrics) .. ")", 0)
  end
  for k, v in pairs(metrics) do
    if type(k) ~= "string" or type(v) ~= "number" then
      error(string.format("wick.recipe.report: metric %s must be a number named by a string (got %s)",
        tostring(k), type(v)), 0)
    end
  end
  if current then for k, v in pairs(metrics) do current.reported[k] = v end end
end

-- ---- resume: `wick run --resume DIR` and the recipe API (lua/wick/runs/resume.lua) ----

-- what wick.runs.resume needs of this module
function runs._current() return current end
runs._write_meta = write_meta
for k, v in pairs(require("wick.runs.resume")) do runs[k] = v end

-- ---- `wick run -n N`: the launcher's side ----

-- Creates the run directory, writes command.txt and meta.yaml, and sets WICK_RUN_DIR for the
-- workers (with resume: reopens the run in run_dir, and WICK_RESUME tells the workers). Returns
-- the directory, and whether it was named here (not by --run-dir).
function runs.launch_begin(path, run_dir, nproc, resume)
  local dir = run_dir
  if resume then
    runs.resume_begin(dir, nproc)
  else
    if dir then mkdirs(dir) else dir = runs.new_dir(runs.name_of(path)) end
    write_file(dir .. "/command.txt", runs.command_line() .. "\n")
    write_meta(dir, runs.new_meta(path, nproc))
  end
  core._dist.setenv("WICK_RUN_DIR", dir)
  core._dist.setenv("WICK_RESUME", resume and dir or "")
  return dir, run_dir == nil
end

-- After the workers: the final status (rank 0 recorded its metrics or error). A directory the
-- launcher named itself is removed again when no recipe ran in it (a plain script, or a config
-- error: as without -n, those leave no run).
function runs.launch_end(dir, code, named)
  if named and not read_file(dir .. "/config.yaml") then
    os.remove(dir .. "/command.txt")
    os.remove(dir .. "/meta.yaml")
    if os.remove(dir) then return end -- rmdir: only when nothing else is in it
  end
  local meta = runs.read_meta(dir) or {}
  if code == 0 and meta.status ~= "failed" then
    meta.status = "completed"
  else
    meta.status = "failed"
    meta.error = meta.error or "a worker failed (see the rank<k>.log files)"
  end
  meta.end_time = now_iso()
  write_meta(dir, meta)
end

-- ---- `wick runs [DIR]` ----

local function fmt(v)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    if math.abs(v) >= 1000 and math.abs(v) < 1e15 then return string.format("%.0f", v) end -- 1394, not 1.394e+03
    return string.format("%.4g", v)
  end
  return tostring(v)
end

-- The runs in base (directories holding a meta.yaml), oldest first.
function runs.list(base)
  base = base or runs.BASE
  local p = io.popen("ls -1 " .. quote(base) .. " 2>/dev/null")
  local out = p and p:read("a") or ""
  if p then p:close() end
  local list = {}
  for name in out:gmatch("[^\n]+") do
    local dir = base .. "/" .. name
    local meta = runs.read_meta(dir)
    if meta then
      local text = read_file(dir .. "/config.yaml")
      local ok, cfg = pcall(config.loads, text or "")
      list[#list + 1] = { name = name, dir = dir, meta = meta,
        hparams = flatten(ok and type(cfg) == "table" and config.strip_nulls(cfg) or {}) }
    end
  end
  table.sort(list, function(a, b)
    local ta, tb = tostring(a.meta.start_time or ""), tostring(b.meta.start_time or "")
    if ta ~= tb then return ta < tb end
    return a.name < b.name
  end)
  return list
end

runs.MAX_HPARAMS = 4
runs.MAX_METRICS = 4

-- Key hyperparameters: those whose values differ across the runs (all of them when one run),
-- at most MAX_HPARAMS, in key order.
local function key_hparams(list)
  local keys, seen = {}, {}
  for _, r in ipairs(list) do
    for k in pairs(r.hparams) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
  end
  table.sort(keys)
  local differ = {}
  for _, k in ipairs(keys) do
    local first, diff = fmt(list[1].hparams[k]), false
    for _, r in ipairs(list) do diff = diff or fmt(r.hparams[k]) ~= first end
    if diff then differ[#differ + 1] = k end
  end
  if #list > 1 and #differ > 0 then keys = differ end
  local out = {}
  for i = 1, math.min(#keys, runs.MAX_HPARAMS) do out[i] = keys[i] end
  return out
end

-- The table printed by `wick runs`: a header and one line per run, columns padded.
function runs.format(list)
  local hkeys = key_hparams(list)
  local mkeys, seen = {}, {}
  for _, r in ipairs(list) do
    if type(r.meta.metrics) == "table" then
      for k in pairs(r.meta.metrics) do if not seen[k] then seen[k] = true; mkeys[#mkeys + 1] = k end end
    end
  end
  table.sort(mkeys)
  while #mkeys > runs.MAX_METRICS do table.remove(mkeys) end
  local rows = { { "name", "date", "status" } }
  for _, k in ipairs(hkeys) do rows[1][#rows[1] + 1] = k end
  for _, k in ipairs(mkeys) do rows[1][#rows[1] + 1] = k end
  for _, r in ipairs(list) do
    local t = tostring(r.meta.start_time or "?"):gsub("^(%d+%-%d+%-%d+)T(%d+:%d+):%d+Z$", "%1 %2")
    local row = { r.name, t, tostring(r.meta.status or "?") }
    for _, k in ipairs(hkeys) do row[#row + 1] = r.hparams[k] == nil and "-" or fmt(r.hparams[k]) end
    local m = type(r.meta.metrics) == "table" and r.meta.metrics or {}
    for _, k in ipairs(mkeys) do row[#row + 1] = m[k] == nil and "-" or fmt(m[k]) end
    rows[#rows + 1] = row
  end
  local widths = {}
  for _, row in ipairs(rows) do
    for i, c in ipairs(row) do widths[i] = math.max(widths[i] or 0, utf8.len(c) or #c) end
  end
  local lines = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(row) do
      cells[i] = i == #row and c or c .. string.rep(" ", widths[i] - (utf8.len(c) or #c))
    end
    lines[#lines + 1] = table.concat(cells, "  ")
  end
  return table.concat(lines, "\n") .. "\n"
end

return runs
