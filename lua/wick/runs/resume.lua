-- `wick run --resume RUN_DIR` (docs/runs.md): checking the directory, reopening it, and the
-- recipe API wick.recipe.checkpoint / resume / resumed over the run's checkpoint.safetensors.
local core = require("wick.core")

local M = {}

-- wick.runs (which requires this module while it loads: looked up when called) and its helpers
local function runs() return require("wick.runs") end
local util = require("wick.util")
local quote, read_file = util.shell_quote, util.read_file
local function now_iso() return os.date("!%Y-%m-%dT%H:%M:%SZ") end
local function fmt_value(v)
  if math.type(v) == "float" then return string.format("%.6g", v) end
  return tostring(v)
end

M.CHECKPOINT = "checkpoint.safetensors" -- the run's last checkpoint, in its directory
M.PREVIOUS = "checkpoint.prev.safetensors" -- the one before, kept in case the last is corrupt

-- The checkpoint a resume loads: the last one, else (missing, or failing its checks: a flipped
-- byte fails its tensor's checksum) the previous one. Returns its path, its counters, and a
-- warning when it is the previous one; raises with the last one's error when neither loads.
function M.pick_checkpoint(dir)
  local ck = require("wick.checkpoint")
  local last, prev = dir .. "/" .. M.CHECKPOINT, dir .. "/" .. M.PREVIOUS
  local ok, counters = pcall(ck.counters, last)
  if ok then return last, counters end
  local have_last = io.open(last, "rb")
  if have_last then have_last:close() end
  local pok, pcounters = pcall(ck.counters, prev)
  if pok then
    local why = have_last and tostring(counters) or ("no " .. M.CHECKPOINT)
    return prev, pcounters, string.format("%s cannot be used (%s): resuming from %s", M.CHECKPOINT, why, M.PREVIOUS)
  end
  if not have_last then return nil end
  error(counters, 0)
end

local function is_dir(path)
  return os.execute("test -d " .. quote(path)) == true
end

-- What `wick run --resume DIR` needs, checked before anything runs: {dir, recipe (as recorded
-- in meta.yaml), config (DIR/config.yaml), checkpoint (its path), counters (epoch, step, ...)}.
function M.check_resume(dir)
  local op = "--resume"
  if not is_dir(dir) then error(string.format("%s: no run directory '%s'", op, dir), 0) end
  local meta = runs().read_meta(dir)
  if not meta or not read_file(dir .. "/config.yaml") then
    error(string.format("%s: '%s' is not a run directory (no meta.yaml or config.yaml)", op, dir), 0)
  end
  require("wick.runs.lock").check(dir) -- a live run is not resumed under its feet
  local ok, path, counters, warning = pcall(M.pick_checkpoint, dir)
  if not ok then
    error(string.format("%s: cannot read the checkpoint of '%s': %s", op, dir, tostring(path)), 0)
  end
  if not path then
    error(string.format("%s: '%s' has no checkpoint to resume from (no %s: the recipe saves one " ..
      "with wick.recipe.checkpoint, at the end of each epoch)", op, dir, M.CHECKPOINT), 0)
  end
  return { dir = dir, recipe = meta.recipe, config = dir .. "/config.yaml", checkpoint = path,
    counters = counters, warning = warning }
end

-- "epoch 1, step 938" from a checkpoint's counters (epoch and step first, then the others).
function M.describe_counters(c)
  local keys = {}
  for k, v in pairs(c) do if type(v) ~= "string" then keys[#keys + 1] = k end end
  table.sort(keys, function(a, b)
    local ra, rb = a == "epoch" and 0 or a == "step" and 1 or 2, b == "epoch" and 0 or b == "step" and 1 or 2
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. " " .. fmt_value(c[k]) end
  return table.concat(parts, ", ")
end

-- A resumed run's directory: meta.yaml is running again (start_time kept, the time of each
-- resume appended to `resumed`), command.txt gets the resuming command line appended.
function M.resume_begin(dir, nproc, command)
  local meta = runs().read_meta(dir) or {}
  meta.status, meta.end_time, meta.error = "running", nil, nil
  meta.nproc, meta.pid = nproc or 1, core._dist.getpid()
  local resumed = type(meta.resumed) == "table" and meta.resumed or {}
  resumed[#resumed + 1] = now_iso()
  meta.resumed = resumed
  require("wick.runs.files").write_file(dir .. "/command.txt",
    (read_file(dir .. "/command.txt") or "") .. (command or runs().command_line()) .. "\n")
  runs()._write_meta(dir, meta)
  M.clean_partial(dir)
end

-- What a stopped run leaves half-written: a save cut short leaves its temporary file (the
-- checkpoint itself is whole: the rename is atomic); the hparams session is written again when
-- the run completes.
function M.clean_partial(dir)
  os.execute("rm -f " .. quote(dir .. "/" .. M.CHECKPOINT) .. ".tmp.* 2>/dev/null")
  os.execute("rm -rf " .. quote(dir .. "/hparams") .. " 2>/dev/null")
end

-- the run of this process (nil outside `wick run`)
local function current() return runs()._current() end

local function rank_now()
  local cur = current()
  if cur then return cur.rank end
  return math.tointeger(tonumber(os.getenv("RANK") or "")) or 0
end

local function check_state(op, state)
  if type(state) ~= "table" then
    error(string.format("%s: expected a table {model = ..., optimizer = ..., ...} (got %s)", op, type(state)), 0)
  end
end

-- wick.recipe.checkpoint(state, counters): saves state (model, optimizer, scheduler, loader,
-- generators, as wick.checkpoint.save takes them) and the counters (epoch, step, ...) to the
-- run's checkpoint.safetensors, atomically. Rank 0 writes; other ranks and a recipe outside
-- `wick run` write nothing. Returns the path written, or nil.
function M.checkpoint(state, counters)
  local op = "wick.recipe.checkpoint"
  check_state(op, state)
  if counters ~= nil and type(counters) ~= "table" then
    error(string.format("%s: counters must be a table {epoch = ..., step = ...} (got %s)", op, type(counters)), 0)
  end
  local cur = current()
  if not cur or cur.rank ~= 0 then return nil end
  if cur.resume and not cur.resumed_from then
    error(string.format("%s: this run was started by --resume, but the recipe saves a checkpoint without " ..
      "having called wick.recipe.resume(state): refusing to overwrite %s/%s", op, cur.dir, M.CHECKPOINT), 0)
  end
  local spec = {}
  for k, v in pairs(state) do spec[k] = v end
  for k, v in pairs(counters or {}) do
    if spec[k] ~= nil then error(string.format("%s: '%s' is both in state and in counters", op, tostring(k)), 0) end
    spec[k] = v
  end
  -- the last checkpoint becomes the previous one (a resume falls back to it), then the new one
  -- is written (atomically: a crash in between leaves the previous one to resume from)
  local path = cur.dir .. "/" .. M.CHECKPOINT
  local last = io.open(path, "rb")
  if last then
    last:close()
    local ok, err = os.rename(path, cur.dir .. "/" .. M.PREVIOUS)
    if not ok then error(string.format("%s: cannot keep the previous checkpoint: %s", op, tostring(err)), 0) end
  end
  require("wick.checkpoint").save(path, spec)
  return path
end

-- wick.recipe.resume(state) -> counters, or nil when this run is not resumed: loads the run's
-- checkpoint into state (every rank) and prints what it resumed from (rank 0).
function M.resume(state)
  check_state("wick.recipe.resume", state)
  local cur = current()
  if not cur or not cur.resume then return nil end
  local path = M.pick_checkpoint(cur.dir) or (cur.dir .. "/" .. M.CHECKPOINT)
  local counters = require("wick.checkpoint").load(path, state)
  cur.resumed_from = counters
  if rank_now() == 0 then
    print(string.format("resumed from %s (%s)", path, M.describe_counters(counters)))
  end
  return counters
end

-- wick.recipe.resumed() -> true when the run in progress was started by `wick run --resume`.
function M.resumed()
  local cur = current()
  return cur ~= nil and cur.resume == true
end

return M
