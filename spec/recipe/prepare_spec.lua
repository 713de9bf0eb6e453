-- wick.recipe.prepare: alone it changes nothing but gives epochs, evaluate and sums; under
-- `wick run -n 2` it shards the data, wraps DDP and gathers the evaluation; with --resume the
-- run continues from its epoch checkpoint to the weights and metric history of a run that was
-- never interrupted.
local helpers = require("helpers")
local q = helpers.quote
local err = helpers.err

-- A recipe on 96 synthetic samples (3 batches of 16 per rank at 2 ranks): it prints what each
-- rank saw and returns the final weights' sum.
local RECIPE = [[
return wick.recipe { config = { epochs = 2, seed = 0 }, main = function(cfg)
  local data, nn = wick.data, wick.nn
  wick.manual_seed(cfg.seed)
  local x = wick.randn(96, 4)
  local y = x:sum(1):gt(0):long()
  local model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
  local opt = wick.optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
  local run = wick.recipe.prepare { model = model, optimizer = opt,
    train = data.DataLoader(data.TensorDataset(x, y), { batch_size = 16, shuffle = true, seed = 3 }),
    eval = data.DataLoader(data.TensorDataset(x, y), { batch_size = 40 }),
    scheduler = function(o, batches) return wick.optim.lr_scheduler.StepLR(o, batches) end }
  print(string.format("rank %d of %d: %s, %d batches, start %d", run.rank, run.world_size,
    run.model == model and "bare" or "ddp", #run.train, run.start_epoch))
  for epoch in run:epochs(cfg.epochs) do
    for b, xb, yb in run.train:iter() do
      opt:zero_grad()
      local loss = nn.functional.cross_entropy(run.model(xb), yb)
      loss:backward()
      opt:step()
      run:log({ loss = loss }, epoch * #run.train + b)
    end
    run.scheduler:step()
    local m = run:evaluate(function(xb, yb) return { n = yb:size(0), correct = model(xb):argmax(1):eq(yb):sum():item() } end)
    run:print(string.format("epoch %d: %d of %d", epoch, m.correct, m.n))
    run:log({ accuracy = m.correct / m.n }, epoch + 1)
  end
  run:save(wick.run_dir() .. "/model.safetensors")
end }
]]

describe("wick.recipe.prepare", function()
  local dir
  before_each(function() dir = helpers.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  it("alone: the model and loaders as given, epochs, evaluate and sums, no files", function()
    local data = wick.data
    local model = wick.nn.Linear(2, 2)
    local loader = data.DataLoader(data.TensorDataset(wick.randn(10, 2), wick.arange(10)), { batch_size = 4 })
    local run = wick.recipe.prepare { model = model, optimizer = wick.optim.SGD(model:parameters(), { lr = 0.1 }),
      train = loader, eval = loader }
    assert.are.same({ model, loader, loader, 0, 1, true, 0 },
      { run.model, run.train, run.eval, run.rank, run.world_size, run.is_main, run.start_epoch })
    assert.is_nil(run.tb)
    local seen = {}
    for epoch in run:epochs(3) do seen[#seen + 1] = epoch end
    assert.are.same({ 0, 1, 2 }, seen)
    assert.are.same({ n = 10, batches = 3 }, run:evaluate(function(_, y) return { n = y:size(0), batches = 1 } end))
    assert.are.same({ 1.5, 2 }, run:sum { 1.5, 2 })
    assert.is_nil(run:log({ loss = 1 }, 3))
  end)

  it("checks what it is given, word for word", function()
    local m = wick.nn.Linear(2, 2)
    assert.are.equal("wick.recipe.prepare: model must be an nn.Module (got number)", err(wick.recipe.prepare, { model = 3 }))
    assert.are.equal("wick.recipe.prepare: unknown option 'optimiser' (did you mean 'optimizer'?)",
      err(wick.recipe.prepare, { model = m, optimiser = 1 }))
    assert.are.equal("wick.recipe.prepare: train must be a wick.data.DataLoader (got table)",
      err(wick.recipe.prepare, { model = m, train = {} }))
    assert.are.equal("wick.recipe.prepare: evaluate needs an eval loader (prepare{eval = ...})",
      err(function() wick.recipe.prepare({ model = m }):evaluate(function() end) end))
  end)

  it("under wick run -n 2: DDP, a shard per rank, gathered evaluation, resume bit-identical", function()
    if not wick.dist.is_gloo_available() then pending("wick was built without Gloo") return end
    helpers.write(dir .. "/r.lua", RECIPE)
    local function run(args)
      local out, code = helpers.run(("%q run -n 2 %s 2>&1"):format(helpers.wick_bin(), args))
      assert.are.equal(0, code, out)
      return out
    end
    local whole = dir .. "/whole"
    local out = run(("--run-dir %s %s"):format(q(whole), q(dir .. "/r.lua")))
    assert.truthy(out:find("[0] rank 0 of 2: ddp, 3 batches, start 0\n", 1, true), out)
    assert.truthy(out:find("[1] rank 1 of 2: ddp, 3 batches, start 0\n", 1, true), out)
    -- every sample evaluated once over the two shards; rank 0 alone prints
    assert.truthy(out:find("%[0%] epoch 1: %d+ of 96\n"), out)
    assert.is_nil(out:find("[1] epoch 0", 1, true), out)
    assert.truthy(out:find("[0] saved checkpoint " .. whole .. "/checkpoint.safetensors (epoch 2)\n", 1, true), out)
    assert.are.same({ epoch = 2, step = 6 }, wick.checkpoint.counters(whole .. "/checkpoint.safetensors"))
    local lines = {}
    for l in helpers.read_file(whole .. "/metrics.jsonl"):gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(8, #lines) -- 6 losses and 2 accuracies, from rank 0 only
    assert.matches('^{"step": 0, "loss": [%d.e-]+}$', lines[1])
    assert.matches('^{"step": 1, "accuracy": [%d.e-]+}$', lines[4])

    -- the same run stopped after its first epoch, then resumed: the same weights and history
    local part = dir .. "/part"
    run(("--run-dir %s %s epochs=1"):format(q(part), q(dir .. "/r.lua")))
    -- a line the stopped run logged after its checkpoint is dropped on resume, as TensorBoard's
    local f = io.open(part .. "/metrics.jsonl", "a")
    f:write('{"step": 3, "loss": 99}\n')
    f:close()
    out = run(("--resume %s epochs=2"):format(q(part)))
    assert.truthy(out:find("[0] rank 0 of 2: ddp, 3 batches, start 1\n", 1, true), out)
    local a, b = wick.load(whole .. "/model.safetensors"), wick.load(part .. "/model.safetensors")
    for k, t in pairs(a) do assert.is_true(t:equal(b[k]), k) end
    assert.are.equal(helpers.read_file(whole .. "/metrics.jsonl"), helpers.read_file(part .. "/metrics.jsonl"))
  end)
end)
