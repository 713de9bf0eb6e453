-- Run tracking (docs/runs.md) on the real program: the run directory of `wick run` (config,
-- command line, meta, logs, hparams read back by TensorBoard), failures, --run-dir, -n 2, and
-- the table of `wick runs`.
local helper = require("wick_run")
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/runs_spec%.lua$") or "spec") .. "/tb/peer.lua")
local config = require("wick.config")

local slurp = helpers.read_file

local function ls(dir)
  local out = helpers.run(("ls -1 %q 2>/dev/null"):format(dir))
  local t = {}
  for name in out:gmatch("[^\n]+") do t[#t + 1] = name end
  return t
end

local RECIPE = [[
return wick.recipe { config = { lr = 0.1, epochs = 2, model = { width = 8 }, fail = false }, main = function(cfg)
  local tb = wick.tb.SummaryWriter(wick.run_dir())
  for step = 0, cfg.epochs - 1 do tb:add_scalar("train/loss", 1 / (step + 1), step) end
  tb:close()
  print("run dir " .. wick.run_dir())
  io.write("io.write line\n")
  io.stderr:write("to stderr\n")
  if cfg.fail then error("boom at lr " .. cfg.lr) end
  wick.recipe.report { extra = 3 }
  return { accuracy = 0.5 + cfg.lr, note = "not a number: left out" }
end }
]]

describe("wick run: run directories", function()
  local dir
  before_each(function()
    dir = helper.tmpdir()
    helper.write(dir .. "/tiny.lua", RECIPE)
  end)
  after_each(function() helper.rmdir(dir) end)

  local function run(args) return helper.run(args, { cwd = dir }) end

  it("writes config, command line, meta, logs and metrics into runs/<recipe>-<date>-<n>", function()
    local r = run({ "run", "tiny.lua", "lr=0.2" })
    assert.are.equal(0, r.code, r.err)
    local names = ls(dir .. "/runs")
    assert.are.equal(1, #names)
    assert.matches("^tiny%-%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d%-1$", names[1])
    local rd = dir .. "/runs/" .. names[1]
    assert.matches("\nrun dir runs/" .. names[1]:gsub("%p", "%%%0") .. "\n", r.out)
    assert.are.equal("epochs: 2\nfail: false\nlr: 0.2\nmodel:\n  width: 8\n", slurp(rd .. "/config.yaml"))
    assert.matches("^%S+ run tiny%.lua lr=0%.2\n$", slurp(rd .. "/command.txt"))
    assert.are.equal(r.out, slurp(rd .. "/stdout.log"))
    assert.are.equal("to stderr\n", slurp(rd .. "/stderr.log"))
    assert.are.equal("to stderr\n", r.err)
    local meta = config.load(rd .. "/meta.yaml")
    assert.are.equal("completed", meta.status)
    assert.are.same({ accuracy = 0.7, extra = 3 }, meta.metrics)
    assert.are.equal("tiny.lua", meta.recipe)
    assert.are.equal(wick.__version__, meta.wick_version)
    assert.is_number(meta.pid)
    assert.is_string(meta.host)
    assert.matches("^%d+%-%d+%-%d+T%d+:%d+:%d+Z$", meta.start_time)
    assert.matches("^%d+%-%d+%-%d+T%d+:%d+:%d+Z$", meta.end_time)
    assert.is_nil(meta.git_commit) -- a temporary directory is not a git checkout
    assert.is_nil(meta.error)
  end)

  it("records the git commit of the recipe's checkout", function()
    local _, code = helpers.run(("cd %q && git init -q . && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m x 2>&1"):format(dir))
    if code ~= 0 then pending("git is not available") return end
    local head = helpers.run(("cd %q && git rev-parse HEAD"):format(dir)):match("%x+")
    assert.are.equal(0, run({ "run", "tiny.lua" }).code)
    local name = ls(dir .. "/runs")[1]
    assert.are.equal(head, config.load(dir .. "/runs/" .. name .. "/meta.yaml").git_commit)
  end)

  it("marks a run whose main raises as failed, with the error", function()
    local r = run({ "run", "tiny.lua", "fail=true" })
    assert.are.equal(1, r.code)
    assert.matches("^to stderr\nwick: tiny%.lua:8: boom at lr 0%.1\nstack traceback:\n", r.err)
    local rd = dir .. "/runs/" .. ls(dir .. "/runs")[1]
    local meta = config.load(rd .. "/meta.yaml")
    assert.are.equal("failed", meta.status)
    assert.matches("^tiny%.lua:8: boom at lr 0%.1\nstack traceback:\n", meta.error)
    assert.is_nil(meta.metrics)
    assert.is_string(meta.end_time)
    assert.matches("^to stderr\nwick: tiny%.lua:8: boom at lr 0%.1\n", slurp(rd .. "/stderr.log"))
    assert.is_nil(slurp(rd .. "/hparams")) -- no hparams session for a failed run
  end)

  it("gives two runs started in the same second different names", function()
    local r = helpers.run(("cd %q && unset WICK_RUNS_DIR && (%q run tiny.lua >/dev/null 2>&1 & %q run tiny.lua >/dev/null 2>&1; wait)"):format(
      dir, helper.bin(), helper.bin()))
    assert.are.equal("", r)
    local names = ls(dir .. "/runs")
    assert.are.equal(2, #names)
    assert.are_not.equal(names[1], names[2])
    -- in the same second, n tells them apart
    if names[1]:sub(1, -3) == names[2]:sub(1, -3) then
      assert.same({ "1", "2" }, { names[1]:sub(-1), names[2]:sub(-1) })
    end
  end)

  it("takes the directory from --run-dir", function()
    local r = run({ "run", "--run-dir", "my/run", "tiny.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("\nrun dir my/run\n", r.out)
    assert.are.equal("completed", config.load(dir .. "/my/run/meta.yaml").status)
    assert.is_nil(slurp(dir .. "/runs/x"))
    assert.are.same({}, ls(dir .. "/runs"))
    r = run({ "run", "--run-dir=other", "tiny.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("completed", config.load(dir .. "/other/meta.yaml").status)
  end)

  it("says so when the run directory cannot be created, before running the recipe", function()
    helper.write(dir .. "/file", "")
    local r = run({ "run", "--run-dir", "file/sub", "tiny.lua" })
    assert.are.equal(1, r.code)
    assert.are.equal("", r.out)
    assert.are.equal("wick run: cannot create the run directory file/sub: Not a directory\n", r.err)
  end)

  it("gives plain scripts no run directory and wick.run_dir() is nil", function()
    helper.write(dir .. "/plain.lua", "print(wick.run_dir())\n")
    local r = run({ "run", "plain.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("nil\n", r.out)
    assert.are.same({}, ls(dir .. "/runs"))
  end)

  it("checks wick.recipe.report's argument", function()
    assert.are.equal("wick.recipe.report: expected a table of metrics {name = number} (got number)",
      helpers.err(wick.recipe.report, 3))
    assert.are.equal("wick.recipe.report: metric acc must be a number named by a string (got string)",
      helpers.err(wick.recipe.report, { acc = "high" }))
    wick.recipe.report { acc = 1 } -- outside a run: nothing to record
  end)

  it("logs one rank<k>.log per rank with -n 2", function()
    helper.write(dir .. "/ranks.lua", [[
return wick.recipe { config = { lr = 0.1 }, main = function(cfg)
  print("rank " .. os.getenv("RANK") .. " in " .. wick.run_dir())
  return { score = 2 }
end }
]])
    local r = run({ "run", "-n", "2", "--run-dir", "dist", "ranks.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("rank 0 in dist\n", slurp(dir .. "/dist/rank0.log"), 1, true)
    assert.matches("rank 1 in dist\n", slurp(dir .. "/dist/rank1.log"), 1, true)
    assert.matches("[1] rank 1 in dist\n", r.out, 1, true)
    local meta = config.load(dir .. "/dist/meta.yaml")
    assert.are.equal("completed", meta.status)
    assert.are.equal(2, meta.nproc)
    assert.are.same({ score = 2 }, meta.metrics)
    assert.are.equal("lr: 0.1\n", slurp(dir .. "/dist/config.yaml"))
    assert.matches("run %-n 2 %-%-run%-dir dist ranks%.lua\n$", slurp(dir .. "/dist/command.txt"))
  end)

  it("marks a -n 2 run failed with rank 0's error", function()
    helper.write(dir .. "/bad.lua", [[
return wick.recipe { config = {}, main = function()
  if os.getenv("RANK") ~= "0" then os.execute("sleep 3") return end -- stopped by the launcher
  error("rank " .. os.getenv("RANK") .. " fails")
end }
]])
    local r = run({ "run", "-n", "2", "--run-dir", "bad", "bad.lua" })
    assert.are.equal(1, r.code)
    local meta = config.load(dir .. "/bad/meta.yaml")
    assert.are.equal("failed", meta.status)
    assert.matches("^bad%.lua:3: rank 0 fails\n", meta.error)
    assert.is_string(meta.end_time)
  end)

  it("leaves no run directory for a plain script under -n 2", function()
    helper.write(dir .. "/plain.lua", "print(wick.run_dir())\n")
    local r = run({ "run", "-n", "2", "plain.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("[0] nil\n", r.out, 1, true)
    assert.are.same({}, ls(dir .. "/runs"))
  end)

  it("lists runs with `wick runs`: differing hyperparameters and final metrics", function()
    local r = run({ "runs" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("no runs in runs\n", r.out)
    assert.are.equal(0, run({ "run", "tiny.lua", "lr=0.2" }).code)
    assert.are.equal(1, run({ "run", "tiny.lua", "fail=true" }).code)
    r = run({ "runs" })
    assert.are.equal(0, r.code, r.err)
    local names = ls(dir .. "/runs")
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(3, #lines, r.out)
    assert.matches("^name +date +status +fail +lr +accuracy +extra$", lines[1])
    local date = "%d%d%d%d%-%d%d%-%d%d %d%d:%d%d"
    assert.matches("^" .. names[1]:gsub("%p", "%%%0") .. " +" .. date .. "  completed +false +0%.2 +0%.7 +3$", lines[2])
    assert.matches("^" .. names[2]:gsub("%p", "%%%0") .. " +" .. date .. "  failed +true +0%.1 +%- +%-$", lines[3])
    -- another directory, as an argument
    r = helper.run({ "runs", dir .. "/runs" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal(3, select(2, r.out:gsub("\n", "")))
    r = run({ "runs", "a", "b" })
    assert.are.equal(1, r.code)
    assert.are.equal("wick runs: unexpected argument 'b'\n", r.err)
  end)

  it("logs system metrics every SECS seconds with --system-metrics SECS, and stops with the run", function()
    helper.write(dir .. "/wait.lua", [[
return wick.recipe { config = {}, main = function() os.execute("sleep 2.4") end }
]])
    local r = run({ "run", "--system-metrics", "1", "--run-dir", "sys", "wait.lua" })
    assert.are.equal(0, r.code, r.err)
    local files = peer.files(dir .. "/sys/system")
    assert.are.equal(1, #files)
    local n = #peer.records_lua(peer.slurp(files[1]))
    assert.is_true(n >= 3, "records: " .. n) -- file_version, then cpu_percent and rss_mib per sample
    helpers.run("sleep 1.2")
    assert.are.equal(n, #peer.records_lua(peer.slurp(files[1]))) -- the monitor has stopped
    r = run({ "run", "--system-metrics", "0", "wait.lua" })
    assert.are.equal(1, r.code)
    assert.matches("option '--system-metrics' expects an integer >= 1, got '0'", r.err, 1, true)
    if not peer.have_tb then pending(peer.why) return end
    local sys = peer.read(dir .. "/sys/system")["."]
    assert.is_true(#sys.scalars["system/rss_mib"] >= 1)
    assert.is_true(sys.scalars["system/rss_mib"][1].value > 1)
    assert.is_true(sys.scalars["system/cpu_percent"][1].value >= 0)
  end)

  it("writes the run's scalars and the hparams session that TensorBoard reads", function()
    local r = run({ "run", "tiny.lua", "lr=0.2" })
    assert.are.equal(0, r.code, r.err)
    local rd = dir .. "/runs/" .. ls(dir .. "/runs")[1]
    assert.are.equal(1, #peer.files(rd))
    assert.is_true(#peer.files(rd .. "/hparams") >= 1)
    if not peer.have_tb then pending(peer.why) return end
    local main = peer.read(rd)["."]
    assert.are.equal(2, #main.scalars["train/loss"])
    assert.are.equal(0.5, main.scalars["train/loss"][2].value)
    local hp = peer.read(rd .. "/hparams")["."]
    local exp = hp.hparams["_hparams_/experiment"].experiment
    local names = {}
    for _, i in ipairs(exp.hparam_infos) do names[#names + 1] = i.name end
    assert.same({ "epochs", "fail", "lr", "model.width" }, names)
    local metrics = {}
    for _, m in ipairs(exp.metric_infos) do metrics[#metrics + 1] = m.name.tag end
    assert.same({ "accuracy", "extra" }, metrics)
    local start = hp.hparams["_hparams_/session_start_info"].session_start_info.hparams
    assert.are.equal(0.2, start.lr)
    assert.are.equal(8, start["model.width"])
    assert.are.equal(false, start.fail)
    assert.are.equal("STATUS_SUCCESS", hp.hparams["_hparams_/session_end_info"].session_end_info.status)
    assert.is_true(math.abs(hp.scalars.accuracy[1].value - 0.7) < 1e-6)
    assert.are.equal(3, hp.scalars.extra[1].value)
  end)
end)
