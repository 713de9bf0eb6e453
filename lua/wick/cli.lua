-- The `wick run`, `wick info`, `wick runs` and `wick convert` commands (the rows of
-- wick.commands): src/host/main.c calls cli.main(command, args...). Returns 0 on success, 1
-- after printing a usage or config error; errors raised by a recipe's main (or a plain script)
-- propagate, and the host prints them with a traceback and exits non-zero.
local wick = require("wick")
local config = require("wick.config")
local recipe = require("wick.recipe")

local cli = {}

cli.RUN_USAGE = [[
usage: wick run [options] RECIPE [--config FILE.yaml]... [key.sub=value]...
       wick run [options] --resume RUN_DIR [RECIPE] [--config FILE.yaml]... [key.sub=value]...

Runs RECIPE, a Lua file that returns wick.recipe{config = ..., main = function(cfg) ... end},
with its config resolved from the recipe's defaults, then each --config file in order (maps
merge, lists are replaced), then the key=value overrides, whose values are typed as YAML
(lr=0.1, epochs=3, name=abc, flag=true, sizes=[64,32]). A file that returns anything else runs
as a plain script, with `arg` holding the arguments after it.

options:
  -n, --nproc-per-node N   processes on this node (1)
  --nnodes N               number of nodes (1)
  --node-rank R            rank of this node
  --master-addr HOST       rendezvous host
  --master-port PORT       rendezvous port
  --run-dir DIR            the run's directory (default runs/<recipe>-<date>-<n>; docs/runs.md)
  --resume RUN_DIR         continue the run in RUN_DIR from its last checkpoint, with its
                           recipe and config (overrides and --config files apply on top)
  --system-metrics SECS    log CPU % and RSS to TensorBoard every SECS seconds
  --max-restarts N         when a rank fails, stop all and start them again from the run's
                           last checkpoint, up to N times (-n N > 1, one node)
  --heartbeat-timeout SECS a rank silent this long (stopped, frozen) fails the run (60)
  -h, --help               print this help

recipe arguments:
  --config FILE.yaml       merge FILE over the defaults (repeatable)
  --help                   print the recipe's default config
  key.sub=value            override one key
]]

local function fail(cmd, msg)
  io.stderr:write(cmd, ": ", msg, "\n")
  io.stderr:flush()
  return 1
end

-- ---- wick run: launcher options ----

local launcher_options = {
  ["-n"] = "nproc", ["--nproc-per-node"] = "nproc", ["--nnodes"] = "nnodes",
  ["--node-rank"] = "node_rank", ["--master-addr"] = "master_addr", ["--master-port"] = "master_port",
  ["--run-dir"] = "run_dir", ["--system-metrics"] = "system_metrics", ["--resume"] = "resume",
  ["--max-restarts"] = "max_restarts", ["--heartbeat-timeout"] = "heartbeat_timeout",
}
local integer_options = { nproc = 1, nnodes = 1, node_rank = 0, master_port = 1, system_metrics = 1,
  max_restarts = 0, heartbeat_timeout = 1 } -- minimum values

local function option_names()
  local names = { "-h", "--help" }
  for k in pairs(launcher_options) do names[#names + 1] = k end
  table.sort(names)
  return names
end

-- Parses the options before RECIPE. Returns opts, index of RECIPE (nil for --help), or nil, msg.
local function parse_run_options(args)
  local opts = { nproc = 1, nnodes = 1, node_rank = 0 }
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "-h" or a == "--help" then return opts, nil end
    if a == "--" then return opts, i + 1 end
    if a:sub(1, 1) ~= "-" or a == "-" then return opts, i end
    -- with --resume, RECIPE is optional: recipe arguments may come right after the options
    if opts.resume and (a == "--config" or a == "-c" or a:match("^%-%-config=")) then return opts, i end
    local name, value = a:match("^(%-%-[^=]+)=(.*)$")
    name = name or a
    local field = launcher_options[name]
    if not field then
      local s = require("wick.util").suggest(name, option_names())
      return nil, string.format("unknown option '%s'%s", name, s and string.format(" (did you mean '%s'?)", s) or "")
    end
    if not value then
      i = i + 1
      value = args[i]
      if value == nil then return nil, string.format("option '%s' needs a value", name) end
    end
    local min = integer_options[field]
    if min then
      local v = math.tointeger(tonumber(value))
      if not v or v < min then
        return nil, string.format("option '%s' expects an integer >= %d, got '%s'", name, min, value)
      end
      value = v
    end
    opts[field] = value
    i = i + 1
  end
  if opts.resume then return opts, i end
  return nil, "missing RECIPE (see wick run --help)"
end

-- ---- wick run: one process ----

-- `arg` for the file: arg[0] = the file, arg[1..] = what follows it, negative indices = the
-- wick program and the arguments before the file (as lua.c does).
local function set_arg(file_index, args)
  local old, new = _G.arg or {}, {}
  for k, v in pairs(old) do
    if math.type(k) == "integer" then new[k - file_index] = v end
  end
  if args then -- `--resume` rewrote the arguments: the file and what follows come from them
    for k = #new, 0, -1 do new[k] = nil end
    for k = file_index, #args do new[k - file_index] = args[k] end
  end
  _G.arg = new
end

local function recipe_help(r, path)
  io.stdout:write("usage: wick run ", path, " [--config FILE.yaml]... [key.sub=value]...\n")
  if r.description then io.stdout:write("\n", r.description, "\n") end
  local ok, defaults = pcall(r.defaults, r)
  if not ok then return fail("wick run", defaults) end
  io.stdout:write("\ndefault config", r:config_path() and (" (" .. r:config_path() .. ")") or "", ":\n",
    config.dump(defaults))
  return 0
end

local function run_recipe(r, path, rest, opts)
  r.dir = path:match("^(.*)/[^/]*$") or "."
  local configs, overrides = {}, {}
  local i = 1
  while i <= #rest do
    local a = rest[i]
    if a == "--config" or a == "-c" then
      i = i + 1
      if rest[i] == nil then return fail("wick run", "'" .. a .. "' needs a file name") end
      configs[#configs + 1] = rest[i]
    elseif a:match("^%-%-config=") then
      configs[#configs + 1] = a:sub(#"--config=" + 1)
    elseif a == "--help" or a == "-h" then
      return recipe_help(r, path)
    elseif a:sub(1, 1) ~= "-" and a:find("=", 1, true) then
      overrides[#overrides + 1] = a
    else
      return fail("wick run", string.format(
        "unexpected argument '%s' (overrides are key=value, config files follow --config)", a))
    end
    i = i + 1
  end
  local ok, cfg = pcall(r.resolve, r, configs, overrides)
  if not ok then return fail("wick run", tostring(cfg)) end
  -- the run directory (docs/runs.md); closing `run` records the result, or the error while it
  -- propagates (the host prints it with the traceback of where it was raised)
  local started, run = pcall(require("wick.runs").start,
    { path = path, cfg = cfg, run_dir = opts.run_dir, resume = opts.resume ~= nil, command = opts.command })
  if not started then return fail("wick run", tostring(run)) end
  local guard <close> = run
  run.result = r:start(cfg, path)
  -- the recipe succeeded; a run that could not be recorded still fails the command
  local recorded, rerr = pcall(run.finish, run)
  if not recorded then return fail("wick run", "could not record the run in " .. run.dir .. ": " .. tostring(rerr)) end
  return 0
end

-- Runs one file in this process: a recipe, or a plain script.
local function run_file(args, file_index, opts)
  local path = args[file_index]
  local rest = table.move(args, file_index + 1, #args, 1, {})
  local f, err = io.open(path, "r")
  if not f then
    return fail("wick run", string.format("cannot open '%s': %s", path, err:match(": ([^:]*)$") or err))
  end
  f:close()
  local chunk, lerr = loadfile(path)
  if not chunk then return fail("wick run", lerr) end
  set_arg(file_index, opts.resume and args)
  local r = chunk(table.unpack(rest))
  if not recipe.is_recipe(r) then return 0 end -- a plain script: it has run
  return run_recipe(r, path, rest, opts)
end

-- The launcher. One process runs the file here. With N > 1 processes the launcher
-- (wick.dist.launch) starts N workers, each running the file with RANK WORLD_SIZE LOCAL_RANK
-- LOCAL_WORLD_SIZE MASTER_ADDR MASTER_PORT set, and supervises them; with --nnodes K, one
-- launcher per node (docs/dist.md).
local function launch(opts, args, file_index)
  -- under Slurm or Open MPI (srun/mpirun wick run ...): the ranks or nodes come from them
  local sched_ok, sched = pcall(require("wick.dist.scheduler").apply, opts)
  if not sched_ok then return fail("wick run", sched) end
  if opts.nproc > 1 or opts.nnodes > 1 or (opts.max_restarts or 0) > 0 then
    local runs = require("wick.runs")
    local ok, dir, named = pcall(runs.launch_begin, args[file_index], opts.run_dir, opts.nproc, opts.resume ~= nil,
      opts.node_rank)
    if not ok then return fail("wick run", dir) end
    opts.on_restart = function(k, max, headline)
      local restarted, err = pcall(runs.launch_restart, dir, k, max, headline)
      if not restarted then
        fail("wick run", "cannot restart: " .. tostring(err))
        return false
      end
    end
    -- Ctrl-C or SIGTERM: the launcher exits with 128 + N, after the run is recorded
    opts.on_interrupt = function(sig)
      pcall(runs.launch_end, dir, 128 + sig, named, string.format("interrupted (signal %d)", sig))
    end
    local code = require("wick.dist.launch").run(opts, args, file_index)
    local recorded, err = pcall(runs.launch_end, dir, code, named)
    if not recorded then
      fail("wick run", "could not record the run in " .. dir .. ": " .. tostring(err))
      return code ~= 0 and code or 1
    end
    return code
  end
  return run_file(args, file_index, opts)
end

-- `wick run --resume DIR [RECIPE] [recipe arguments]` becomes `wick run --run-dir DIR RECIPE
-- --config DIR/config.yaml [recipe arguments]` in a resumed run: the recorded config is the
-- first --config file, so the config is the recorded one plus what the command line adds, and
-- workers of -n N get the same arguments. Returns the new args and RECIPE's index, or nil, msg.
local function resume_args(opts, args, file_index)
  if opts.run_dir then return nil, "--resume continues the run in its own directory: --run-dir cannot be given with it" end
  local ok, info = pcall(require("wick.runs").check_resume, opts.resume)
  if not ok then return nil, info end
  opts.command = require("wick.runs").command_line() -- as typed (the arguments change below)
  local out = table.move(args, 1, file_index - 1, 1, {})
  local a = args[file_index]
  local recipe_given = a ~= nil and a:sub(1, 1) ~= "-" and not (a:find("=", 1, true) and not a:match("%.lua$"))
  local recipe_path = recipe_given and a or info.recipe
  if type(recipe_path) ~= "string" then
    return nil, string.format("--resume: '%s' does not record its recipe (meta.yaml has no 'recipe'): give RECIPE after the directory", info.dir)
  end
  if not recipe_given and not io.open(recipe_path) then -- recorded relative to another directory?
    return nil, string.format("--resume: cannot open '%s', the recipe recorded in '%s': give RECIPE after the directory",
      recipe_path, info.dir)
  end
  out[#out + 1] = recipe_path
  out[#out + 1] = "--config"
  out[#out + 1] = info.config
  table.move(args, recipe_given and file_index + 1 or file_index, #args, #out + 1, out)
  opts.run_dir = info.dir
  if info.warning then io.stderr:write("wick run: ", info.warning, "\n") end
  io.stdout:write(string.format("wick run: resuming %s (%s) from %s (%s)\n", info.dir, recipe_path,
    info.checkpoint:match("[^/]*$"), require("wick.runs").describe_counters(info.counters)))
  io.stdout:flush()
  return out, file_index
end

local run_command

function cli.run(args)
  -- a worker of `wick run -n N`: if its launcher dies, what the worker started goes too; its
  -- error is recorded for the launcher, which names the rank that failed first
  if os.getenv("WICK_DIST_AGENT_STORE") == "1" and os.getenv("RANK") then
    require("wick.core")._dist.worker_guard()
    return require("wick.dist.worker").run(run_command, args)
  end
  return run_command(args)
end

function run_command(args)
  local opts, file_index = parse_run_options(args)
  if not opts then
    fail("wick run", file_index)
    io.stderr:write(cli.RUN_USAGE:match("^[^\n]*\n"))
    return 1
  end
  if not file_index then
    io.stdout:write(cli.RUN_USAGE)
    return 0
  end
  if opts.resume then
    local new_args, idx = resume_args(opts, args, file_index)
    if not new_args then return fail("wick run", idx) end
    args, file_index = new_args, idx
  end
  if not args[file_index] then return fail("wick run", "missing RECIPE after '--'") end
  -- read by wick.runs in this process and in the workers of -n N
  if opts.system_metrics then require("wick.core")._dist.setenv("WICK_SYSTEM_METRICS", tostring(opts.system_metrics)) end
  return launch(opts, args, file_index)
end

-- ---- wick info ----

local function default_dtype()
  local ok, d = pcall(function() return wick.get_default_dtype() end)
  return ok and d and tostring(d) or "float32"
end

local function cuda_line(b)
  if not b.cuda then return "no (built without CUDA)" end
  local n = wick.cuda.device_count()
  if n == 0 then return "yes, no CUDA device available" end
  return string.format("yes, %d device%s: %s", n, n == 1 and "" or "s", table.concat(wick.cuda.describe(), "; "))
end

function cli.info(args)
  if args[1] == "-h" or args[1] == "--help" then
    io.stdout:write("usage: wick info\n\nPrints the version and what this build of wick has.\n")
    return 0
  end
  if args[1] then return fail("wick info", "unexpected argument '" .. args[1] .. "'") end
  local b = wick.build_info()
  local blas_config = b.blas_config or ""
  if blas_config:sub(1, #b.blas) == b.blas then blas_config = blas_config:sub(#b.blas + 2) end
  local rows = {
    { "wick", b.version },
    { "Lua", b.lua },
    { "BLAS", string.format("%s, %d threads%s", b.blas, b.blas_threads,
      blas_config ~= "" and " (" .. blas_config .. ")" or "") },
    { "OpenMP", string.format("%d threads", b.threads) },
    { "CPU", string.format("%s kernels (this CPU runs: %s; WICK_CPU_ISA picks one)", b.cpu_isa,
      table.concat(b.cpu_isas, ", ")) },
    { "conv", b.dnnl or "im2col + BLAS (built without oneDNN, or WICK_CONV=im2col)" },
    { "CUDA", cuda_line(b) },
    { "NCCL", b.nccl and "yes" or "no" },
    { "Gloo", b.gloo and "yes" or "no" },
    { "dtype", default_dtype() .. " (default)" },
  }
  for _, r in ipairs(rows) do io.stdout:write(string.format("%-7s %s\n", r[1], r[2])) end
  return 0
end

-- ---- wick runs ----

cli.RUNS_USAGE = [[
usage: wick runs [DIR] [--metric NAME]

Lists the runs in DIR (default runs/), oldest first: name, start date (UTC), status, the
hyperparameters that differ across them, and their final metrics. When runs logged a metric
history (wick.recipe.log, metrics.jsonl), a last column shows the last value of NAME and a
sparkline of all its values (default NAME: the metric logged most often by the newest run).
]]

function cli.runs(args)
  if args[1] == "-h" or args[1] == "--help" then
    io.stdout:write(cli.RUNS_USAGE)
    return 0
  end
  local dir, metric
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--metric" then
      i = i + 1
      metric = args[i]
      if not metric then return fail("wick runs", "option '--metric' needs a value") end
    elseif a:match("^%-%-metric=") then
      metric = a:sub(#"--metric=" + 1)
    elseif dir == nil and a:sub(1, 1) ~= "-" then
      dir = a
    else
      return fail("wick runs", "unexpected argument '" .. a .. "'")
    end
    i = i + 1
  end
  local runs = require("wick.runs")
  local list = runs.list(dir)
  if #list == 0 then
    io.stdout:write("no runs in ", dir or runs.BASE, "\n")
    return 0
  end
  local ok, text = pcall(require("wick.recipe.history").with_column, runs.format(list), list, metric)
  if not ok then return fail("wick runs", text) end
  io.stdout:write(text)
  return 0
end

-- ---- wick convert ----

-- wick convert IN.pth OUT.safetensors: a torch.save(state_dict) file to safetensors.
function cli.convert(args)
  if args[1] == "-h" or args[1] == "--help" or #args ~= 2 then
    local usage = "usage: wick convert IN.pt OUT.safetensors\n\nConverts a state dict saved by torch.save " ..
                  "(a .pt/.pth zip file) to safetensors.\n"
    if #args ~= 2 and args[1] ~= "-h" and args[1] ~= "--help" then io.stderr:write(usage) return 1 end
    io.stdout:write(usage)
    return 0
  end
  local ok, t, keys = pcall(wick.load_torch, args[1])
  if not ok then return fail("wick convert", t) end
  local saved, err = pcall(wick.save, args[2], t, { metadata = { format = "pt" } })
  if not saved then return fail("wick convert", err) end
  io.stdout:write(string.format("converted %d tensors from %s to %s\n", #keys, args[1], args[2]))
  return 0
end

-- Runs a row of wick.commands.
function cli.main(command, ...)
  for _, c in ipairs(require("wick.commands")) do
    if c.name == command then return require(c.module)[c.fn]({ ... }) end
  end
  return fail("wick", "unknown command '" .. tostring(command) .. "'")
end

return cli
