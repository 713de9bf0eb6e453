-- Run tracking for `wick run` (docs/runs.md): the run of this process (its directory, logs,
-- final status, metrics and hparams), with the parts in wick.runs.* gathered in one table.
local config = require("wick.config")
local files = require("wick.runs.files")
local dir_ = require("wick.runs.dir")
local hparams = require("wick.runs.hparams")
local lock = require("wick.runs.lock")

local runs = {}
-- where `wick run` puts run directories: $WICK_RUNS_DIR, else runs/ in the working directory
runs.BASE = (os.getenv("WICK_RUNS_DIR") or "") ~= "" and os.getenv("WICK_RUNS_DIR") or "runs"

local current -- the run of this process (one at a time), nil outside `wick run`

local write_file, write_meta = files.write_file, files.write_meta

local Run = {}
Run.__index = Run

-- runs.start{path = recipe file, cfg = resolved config, run_dir = DIR or nil}: the run of a
-- recipe in this process. Alone: creates (or takes) the directory and writes everything. As
-- rank k of `wick run -n N` (WICK_RUN_DIR and RANK set by the launcher, which wrote command.txt
-- and meta.yaml): logs to rank<k>.log, and rank 0 writes config.yaml, metrics and hparams.
-- Use as `local run <close> = runs.start{...}; run.result = ...; run:finish()`: closing by an
-- error finishes the run as "failed" with that error.
function runs.start(opts)
  local self = setmetatable({ cfg = opts.cfg, reported = {} }, Run)
  local tee = require("wick.runs.tee").tee
  local env_dir, rank = os.getenv("WICK_RUN_DIR"), math.tointeger(tonumber(os.getenv("RANK") or ""))
  if env_dir and env_dir ~= "" and rank then
    self.dir, self.rank, self.worker = env_dir, rank, true
    if rank == 0 then write_file(self.dir .. "/config.yaml", config.dump(opts.cfg)) end
    self.untee, self.errlog = tee(self.dir .. "/rank" .. rank .. ".log", self.dir .. "/rank" .. rank .. ".log")
  elseif opts.resume then -- `wick run --resume DIR`: the same directory, logs appended
    self.dir, self.rank = opts.run_dir, 0
    self:locked(function()
      runs.resume_begin(self.dir, 1, opts.command)
      write_file(self.dir .. "/config.yaml", config.dump(opts.cfg))
    end)
    self.untee, self.errlog = tee(self.dir .. "/stdout.log", self.dir .. "/stderr.log")
  else
    if opts.run_dir then
      files.mkdirs(opts.run_dir)
      self.dir = opts.run_dir
    else
      self.dir = dir_.new_dir(dir_.name_of(opts.path))
    end
    self.rank = 0
    self:locked(function()
      write_file(self.dir .. "/command.txt", dir_.command_line() .. "\n")
      write_file(self.dir .. "/config.yaml", config.dump(opts.cfg))
      write_meta(self.dir, dir_.new_meta(opts.path))
    end)
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

-- Takes the run directory's lock (wick.runs.lock), then calls fn; released when fn fails.
function Run:locked(fn)
  lock.acquire(self.dir)
  self.lock = true
  local ok, err = pcall(fn)
  if not ok then
    lock.release(self.dir)
    self.lock = nil
    error(err, 0)
  end
end

-- Records the end of the run (err: the error that ended it, or nil). Raises when the run's
-- files cannot be written: the old meta.yaml stays, and the caller says the run did not record.
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
  local metrics = hparams.numeric_metrics(self.result, hparams.numeric_metrics(self.reported))
  local meta = files.read_meta(self.dir) or {}
  -- (a resumed run that had nothing left to do keeps the metrics it had)
  meta.metrics = next(metrics) and metrics or (self.resume and meta.metrics) or nil
  if err ~= nil then
    meta.status, meta.error = "failed", tostring(err)
  elseif not self.worker then
    meta.status = "completed"
  end
  if not self.worker then meta.end_time = files.now_iso() end
  local ok, werr = pcall(function()
    write_meta(self.dir, meta)
    if err == nil then hparams.write(self.dir, self.cfg, metrics) end
  end)
  if self.lock then lock.release(self.dir) end
  if not ok then error(werr, 0) end
end

-- Closing by an error never replaces the recipe's error: a failure to record the run is then a
-- warning (the exit status already says the run failed).
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

-- what wick.runs.resume needs of this module
function runs._current() return current end
runs._write_meta = write_meta

-- the parts: files and meta.yaml, naming, resume, the launcher's side, `wick runs`
runs.read_meta = files.read_meta
runs.flatten = hparams.flatten
for _, part in ipairs { "dir", "resume", "launch", "list" } do
  for k, v in pairs(require("wick.runs." .. part)) do runs[k] = v end
end

return runs
