-- `wick run --resume RUN_DIR` and wick.recipe.checkpoint/resume: a Fashion-MNIST run SIGKILLed
-- after epoch 1 and resumed ends bit-identical to an uninterrupted one (weights, losses,
-- TensorBoard curves); SIGKILL at random moments of a save loop never spoils the last
-- checkpoint; bad directories and checkpoints are clear errors.
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/resume_spec%.lua$") or "spec") .. "/tb/peer.lua")

local root = peer.root
local recipe = root .. "/recipes/fashion_mnist.lua"
local have_data = io.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ~= nil
-- small and bounded: an MLP on 12800 training images (200 batches an epoch, long enough for the
-- kill to land in epoch 2), 1000 test images
local ARGS = "model=mlp epochs=2 train_subset=12800 test_subset=1000 log_images=4 log_every=10"

local q, slurp = helpers.quote, helpers.read_file
local function wick_cmd(args) return q(helpers.wick_bin()) .. " " .. args end


-- alive: not yet a zombie (a killed child of a shell that has exited waits for init to reap it,
-- which can take a second; as a zombie it writes nothing more)
local function alive(pid)
  local stat = slurp("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end
local function wait_gone(pid)
  for _ = 1, 500 do
    if not alive(pid) then return end
    os.execute("sleep 0.01")
  end
  error("process " .. pid .. " did not die")
end

-- "epoch k/n  train loss x  test accuracy y" lines (timings dropped)
local function epoch_lines(log)
  local out = {}
  for line in log:gmatch("[^\n]+") do
    local head = line:match("^(epoch %d+/%d+  train loss %S+  test accuracy %S+)")
    if head then out[#out + 1] = head end
  end
  return out
end

local function same_tensors(a_path, b_path)
  local a, b = wick.load(a_path), wick.load(b_path)
  local n = 0
  for k, t in pairs(a) do
    assert.is_truthy(b[k], "missing " .. k)
    assert.is_true(t:equal(b[k]), k .. " differs")
    n = n + 1
  end
  for k in pairs(b) do assert.is_truthy(a[k], "extra " .. k) end
  return n
end

describe("wick run --resume", function()
  local tmp = helpers.tmpdir()
  teardown(function() os.execute("rm -rf " .. q(tmp)) end)

  it("continues a run SIGKILLed after epoch 1 to the same weights, losses and curves", function()
    if not have_data then pending("dataset-fashion-mnist not installed"); return end
    local a, b = tmp .. "/uninterrupted", tmp .. "/killed"
    local out, code = helpers.run(wick_cmd(("run --run-dir %s %s %s 2>&1"):format(q(a), q(recipe), ARGS)))
    assert.are.equal(0, code, out)
    -- the same run, killed as soon as its epoch-1 checkpoint is there (epoch 2 is well under way
    -- by then, and has logged some of its steps that the resumed run logs again)
    local pid = helpers.run(wick_cmd(("run --run-dir %s %s %s >/dev/null 2>&1 & echo $!"):format(q(b), q(recipe), ARGS))):match("%d+")
    local ck = b .. "/checkpoint.safetensors"
    for _ = 1, 3000 do
      if io.open(ck) then break end
      os.execute("sleep 0.01")
    end
    os.execute("kill -9 " .. pid)
    wait_gone(pid)
    assert.are.same({ epoch = 1, step = 200 }, wick.checkpoint.counters(ck))
    assert.is_nil(io.open(b .. "/model.safetensors"))
    assert.is_truthy(slurp(b .. "/meta.yaml"):find("status: running", 1, true))

    out, code = helpers.run(wick_cmd(("run --resume %s 2>&1"):format(q(b))))
    assert.are.equal(0, code, out)
    assert.is_truthy(out:find(("wick run: resuming %s (%s) from checkpoint.safetensors (epoch 1, step 200)\n"):format(b, recipe), 1, true), out)
    assert.is_truthy(out:find(("resumed from %s/checkpoint.safetensors (epoch 1, step 200)\n"):format(b), 1, true), out)
    assert.is_nil(out:find("epoch 1/2", 1, true), out) -- epoch 1 is not run again

    -- bit-identical weights, checkpoint state and per-epoch losses
    assert.are.equal(6, same_tensors(a .. "/model.safetensors", b .. "/model.safetensors"))
    same_tensors(a .. "/checkpoint.safetensors", b .. "/checkpoint.safetensors")
    local la, lb = epoch_lines(slurp(a .. "/stdout.log")), epoch_lines(slurp(b .. "/stdout.log"))
    assert.are.equal(2, #la)
    assert.are.same(la, lb)
    local ma, mb = wick.config.load(a .. "/meta.yaml"), wick.config.load(b .. "/meta.yaml")
    assert.are.equal(ma.metrics.train_loss, mb.metrics.train_loss)
    assert.are.equal(ma.metrics.test_accuracy, mb.metrics.test_accuracy)
    assert.are.equal("completed", mb.status)
    assert.are.equal(1, #mb.resumed)
    assert.are.equal(ma.start_time <= mb.start_time, true)
    local cmds = slurp(b .. "/command.txt")
    assert.is_truthy(cmds:find("\n[^\n]*run %-%-resume " .. b:gsub("%p", "%%%0") .. "\n$"), cmds)

    -- TensorBoard: the resumed run's purge_step hides what the killed run logged after its
    -- checkpoint: one train/loss curve, no duplicate steps, the uninterrupted run's values
    if not peer.have_tb then pending(peer.why); return end
    local ra, rb = peer.read(a), peer.read(b)
    local function series(r, tag)
      local s = {}
      for i, e in ipairs(r["."].scalars[tag]) do s[i] = { e.step, e.value } end
      return s
    end
    assert.are.equal(40, #series(ra, "train/loss"))
    for _, tag in ipairs { "train/loss", "train/lr", "test/accuracy" } do
      assert.are.same(series(ra, tag), series(rb, tag))
    end
  end)

  it("with DDP (wick run -n 2): the launcher SIGKILLed after epoch 1, every rank resumes", function()
    if not have_data then pending("dataset-fashion-mnist not installed"); return end
    local args = "model=mlp epochs=2 train_subset=12800 test_subset=1000 log_images=4 log_every=10"
    local a, b = tmp .. "/ddp_uninterrupted", tmp .. "/ddp_killed"
    local out, code = helpers.run(wick_cmd(("run -n 2 --run-dir %s %s %s 2>&1"):format(q(a), q(recipe), args)))
    assert.are.equal(0, code, out)
    local pid = helpers.run(wick_cmd(("run -n 2 --run-dir %s %s %s >/dev/null 2>&1 & echo $!"):format(q(b), q(recipe), args))):match("%d+")
    local ck = b .. "/checkpoint.safetensors"
    for _ = 1, 3000 do
      if io.open(ck) then break end
      os.execute("sleep 0.01")
    end
    local workers = helpers.run("ps -o pid= --ppid " .. pid)
    os.execute("kill -9 " .. pid)
    wait_gone(pid)
    -- the workers die with their launcher (parent-death signal)
    for w in workers:gmatch("%d+") do wait_gone(w) end
    assert.are.same({ epoch = 1, step = 100 }, wick.checkpoint.counters(ck))
    out, code = helpers.run(wick_cmd(("run -n 2 --resume %s 2>&1"):format(q(b))))
    assert.are.equal(0, code, out)
    assert.is_truthy(out:find(("[0] resumed from %s/checkpoint.safetensors (epoch 1, step 100)\n"):format(b), 1, true), out)
    assert.are.equal(6, same_tensors(a .. "/model.safetensors", b .. "/model.safetensors"))
    local la, lb = epoch_lines(slurp(a .. "/rank0.log")), epoch_lines(slurp(b .. "/rank0.log"))
    assert.are.equal(2, #la)
    assert.are.same(la, lb)
    local mb = wick.config.load(b .. "/meta.yaml")
    assert.are.equal("completed", mb.status)
    assert.are.equal(2, mb.nproc)
    assert.are.equal(wick.config.load(a .. "/meta.yaml").metrics.train_loss, mb.metrics.train_loss)
  end)

  it("overrides the recorded config from the command line (epochs=3 extends the run)", function()
    if not have_data then pending("dataset-fashion-mnist not installed"); return end
    local d = tmp .. "/extend"
    local out, code = helpers.run(wick_cmd(("run --run-dir %s %s %s epochs=1 2>&1"):format(q(d), q(recipe), ARGS)))
    assert.are.equal(0, code, out)
    out, code = helpers.run(wick_cmd(("run --resume %s epochs=2 2>&1"):format(q(d))))
    assert.are.equal(0, code, out)
    assert.is_truthy(out:find("\nepoch 2/2 ", 1, true), out)
    assert.is_truthy(slurp(d .. "/config.yaml"):find("\nepochs: 2\n", 1, true))
    assert.are.same({ epoch = 2, step = 400 }, wick.checkpoint.counters(d .. "/checkpoint.safetensors"))
    local metrics = wick.config.load(d .. "/meta.yaml").metrics
    assert.are.equal(2, metrics.epoch)
    -- RECIPE and --config files may follow the directory; a finished run has nothing left to
    -- do and keeps its metrics
    helpers.write(d .. "/../more.yaml", "log_every: 5\n")
    out, code = helpers.run(wick_cmd(("run --resume %s %s --config %s 2>&1"):format(q(d), q(recipe), q(tmp .. "/more.yaml"))))
    assert.are.equal(0, code, out)
    assert.is_nil(out:find("\nepoch ", 1, true), out)
    assert.is_truthy(slurp(d .. "/config.yaml"):find("\nlog_every: 5\n", 1, true))
    local meta = wick.config.load(d .. "/meta.yaml")
    assert.are.same(metrics, meta.metrics)
    assert.are.equal(2, #meta.resumed)
    assert.are.equal("completed", meta.status)
    -- an override naming an unknown key is the config's own error
    local _, e, c = helpers.wick(("run --resume %s epoch=3"):format(q(d)))
    assert.are.equal(1, c)
    assert.is_truthy(e:find("unknown config key 'epoch' (did you mean 'epochs'?)", 1, true), e)
  end)

  it("refuses a missing directory, a directory with no run or no checkpoint, a corrupt checkpoint", function()
    local function fails(args)
      local out, e, code = helpers.wick("run " .. args)
      assert.are.equal(1, code, out .. e)
      return e
    end
    local d = tmp .. "/bad"
    assert.are.equal(("wick run: --resume: no run directory '%s'\n"):format(d), fails("--resume " .. q(d)))
    os.execute("mkdir -p " .. q(d))
    assert.are.equal(("wick run: --resume: '%s' is not a run directory (no meta.yaml or config.yaml)\n"):format(d),
      fails("--resume " .. q(d)))
    helpers.write(d .. "/meta.yaml", "recipe: " .. recipe .. "\nstatus: running\n")
    helpers.write(d .. "/config.yaml", "epochs: 1\n")
    assert.are.equal(("wick run: --resume: '%s' has no checkpoint to resume from (no checkpoint.safetensors: " ..
      "the recipe saves one with wick.recipe.checkpoint, at the end of each epoch)\n"):format(d), fails("--resume " .. q(d)))
    helpers.write(d .. "/checkpoint.safetensors", "\20\0\0\0\0\0\0\0{\"a\": 1")
    assert.are.equal(("wick run: --resume: cannot read the checkpoint of '%s': load: '%s/checkpoint.safetensors': " ..
      "header length 20 exceeds the file size (15 bytes)\n"):format(d, d), fails("--resume " .. q(d)))
    wick.save(d .. "/checkpoint.safetensors", { x = wick.zeros(2) })
    assert.are.equal(("wick run: --resume: cannot read the checkpoint of '%s': checkpoint.counters: " ..
      "'%s/checkpoint.safetensors' is not a wick checkpoint (no 'wick.checkpoint' metadata)\n"):format(d, d),
      fails("--resume " .. q(d)))
    wick.checkpoint.save(d .. "/checkpoint.safetensors", { model = wick.nn.Linear(1, 1), epoch = 1 })
    helpers.write(d .. "/meta.yaml", "recipe: elsewhere/r.lua\nstatus: running\n")
    assert.are.equal(("wick run: --resume: cannot open 'elsewhere/r.lua', the recipe recorded in '%s': give RECIPE " ..
      "after the directory\n"):format(d), fails("--resume " .. q(d)))
    assert.are.equal("wick run: --resume continues the run in its own directory: --run-dir cannot be given with it\n",
      fails("--run-dir x --resume " .. q(d)))
    local help = helpers.wick("run --help")
    assert.is_truthy(help:find("\n       wick run [options] --resume RUN_DIR [RECIPE] [--config FILE.yaml]... [key.sub=value]...\n", 1, true), help)
    assert.is_truthy(help:find("\n  --resume RUN_DIR         continue the run in RUN_DIR from its last checkpoint", 1, true), help)
    assert.are.equal("wick run: option '--resume' needs a value\n" ..
      "usage: wick run [options] RECIPE [--config FILE.yaml]... [key.sub=value]...\n", fails("--resume"))
  end)
end)

describe("wick.recipe.checkpoint and resume", function()
  it("refuse to overwrite the checkpoint of a resumed run whose recipe did not resume", function()
    local d = helpers.tmpdir()
    helpers.write(d .. "/r.lua", [[
      return wick.recipe { config = { resume = true }, main = function(cfg)
        local m = wick.nn.Linear(2, 2)
        local c = cfg.resume and wick.recipe.resume({ model = m })
        print("resumed", wick.recipe.resumed(), c and c.epoch)
        wick.recipe.checkpoint({ model = m }, { epoch = (c and c.epoch or 0) + 1 })
      end }]])
    local out, e, code = helpers.wick(("run --run-dir %s %s"):format(q(d .. "/run"), q(d .. "/r.lua")))
    assert.are.equal(0, code, e)
    assert.is_truthy(out:find("resumed\tfalse\tnil\n", 1, true), out)
    out, e, code = helpers.wick(("run --resume %s"):format(q(d .. "/run")))
    assert.are.equal(0, code, e)
    assert.is_truthy(out:find("resumed\ttrue\t1\n", 1, true), out)
    assert.are.same({ epoch = 2 }, wick.checkpoint.counters(d .. "/run/checkpoint.safetensors"))
    out, e, code = helpers.wick(("run --resume %s resume=false"):format(q(d .. "/run")))
    assert.are.equal(1, code, out)
    assert.is_truthy(e:find(("wick.recipe.checkpoint: this run was started by --resume, but the recipe saves a " ..
      "checkpoint without having called wick.recipe.resume(state): refusing to overwrite %s/run/checkpoint.safetensors"):format(d), 1, true), e)
    assert.are.same({ epoch = 2 }, wick.checkpoint.counters(d .. "/run/checkpoint.safetensors"))
    os.execute("rm -rf " .. q(d))
  end)

  it("do nothing outside wick run, and check their arguments", function()
    assert.is_nil(wick.recipe.checkpoint({ model = wick.nn.Linear(2, 2) }, { epoch = 1 }))
    assert.is_nil(wick.recipe.resume({}))
    assert.is_false(wick.recipe.resumed())
    assert.are.equal("wick.recipe.checkpoint: expected a table {model = ..., optimizer = ..., ...} (got number)",
      helpers.err(wick.recipe.checkpoint, 3))
    assert.are.equal("wick.recipe.checkpoint: counters must be a table {epoch = ..., step = ...} (got number)",
      helpers.err(wick.recipe.checkpoint, {}, 1))
    assert.are.equal("wick.recipe.resume: expected a table {model = ..., optimizer = ..., ...} (got nil)",
      helpers.err(wick.recipe.resume))
  end)
end)

describe("a checkpoint killed while being saved", function()
  it("leaves the previous checkpoint intact and loadable (SIGKILL at many random moments)", function()
    local d = helpers.tmpdir()
    local path = d .. "/checkpoint.safetensors"
    -- every parameter of the saved model holds the counter i: a loaded checkpoint is checked
    -- whole, not just parsed
    local script = d .. "/saver.lua"
    helpers.write(script, ([[
      local path = %q
      local model = wick.nn.Sequential(wick.nn.Linear(512, 512), wick.nn.Linear(512, 512))
      local opt = wick.optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
      local c = wick.checkpoint.load(path, { model = model })
      for i = c.i + 1, math.huge do
        for _, p in ipairs(model:parameters()) do p:detach():fill_(i) end
        wick.checkpoint.save(path, { model = model, i = i })
        io.stdout:write(i, "\n"); io.stdout:flush()
      end
    ]]):format(path))
    local model = wick.nn.Sequential(wick.nn.Linear(512, 512), wick.nn.Linear(512, 512))
    for _, p in ipairs(model:parameters()) do p:detach():fill_(0) end
    wick.checkpoint.save(path, { model = model, i = 0 })
    math.randomseed(42)
    local last, kills, interrupted, deadline = 0, 0, 0, os.time() + 20
    while kills < 50 and os.time() < deadline do
      local log = d .. "/out" .. kills
      local pid = helpers.run(wick_cmd(("%s >%s 2>&1 & echo $!"):format(q(script), q(log)))):match("%d+")
      -- from its first finished save on, the saver is (almost) always inside a save
      for _ = 1, 500 do
        if (slurp(log) or ""):find("\n") then break end
        os.execute("sleep 0.01")
      end
      local tmp_glob = ("%s.tmp.%s.*"):format(q(path), pid)
      if kills % 2 == 0 then
        -- a moment anywhere in the save loop (checksums, write, fsync, rename)
        os.execute(("sleep %.3f"):format(math.random() * 0.05))
      else
        -- aimed into a write: a shell loop (builtins only, so it sees the file within
        -- microseconds) kills as soon as a temporary file exists; slow builds spend much of the
        -- save loop computing checksums, before the file is opened
        helpers.run(("n=0; while [ $n -lt 200000 ]; do for f in %s; do [ -e \"$f\" ] && kill -9 %s && exit 0; done; n=$((n+1)); done")
          :format(tmp_glob, pid))
      end
      os.execute("kill -9 " .. pid .. " 2>/dev/null")
      wait_gone(pid)
      kills = kills + 1
      -- a save cut short leaves its temporary file (<path>.tmp.<pid>.<n>) beside the checkpoint
      if helpers.run(("ls %s 2>/dev/null"):format(tmp_glob)) ~= "" then interrupted = interrupted + 1 end
      local printed = 0
      for n in (slurp(log) or ""):gmatch("(%d+)\n") do printed = tonumber(n) end
      local m = wick.nn.Sequential(wick.nn.Linear(512, 512), wick.nn.Linear(512, 512))
      local ok, c = pcall(wick.checkpoint.load, path, { model = m })
      assert.is_true(ok, "after kill " .. kills .. ": " .. tostring(c))
      -- the file is the last save that finished, or the one that was being renamed into place
      assert.is_true(c.i >= math.max(printed, last) and c.i <= math.max(printed, last) + 1,
        ("after kill %d: checkpoint %d, last printed %d"):format(kills, c.i, printed))
      for _, p in ipairs(m:parameters()) do
        assert.are.equal(c.i, p:min():item())
        assert.are.equal(c.i, p:max():item())
      end
      last = c.i
    end
    assert.is_true(kills >= 10, "only " .. kills .. " kills in the time allowed")
    assert.is_true(last > 0, "no save finished")
    -- the saver spends most of its time in save (write + fsync + rename): many kills land in one
    assert.is_true(interrupted >= kills // 4, ("only %d of %d kills interrupted a save"):format(interrupted, kills))
    io.stderr:write(("[kill during save: %d kills, %d during a save, %d saves in all]\n"):format(kills, interrupted, last))
    os.execute("rm -rf " .. q(d))
  end)
end)
