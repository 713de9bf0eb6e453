-- The default recipe: trains small_cnn (or an MLP, model=mlp) on Fashion-MNIST with SGD and
-- momentum, evaluates test accuracy after each epoch, and saves the weights as safetensors.
-- wick.recipe.prepare does the plumbing: under `wick run -n N` DDP, a DistributedSampler and
-- a sharded evaluation; `wick run --resume DIR` continues from the last epoch's checkpoint;
-- TensorBoard and metrics.jsonl in the run directory (docs/runs.md) get train/loss and lr every
-- log_every steps, test accuracy, weight/gradient histograms, sample predictions, the graph.
-- Normalised inputs and a cosine-annealed lr make one epoch reliably reach 0.89 (without them
-- PyTorch's 1-epoch accuracy of this model spreads over 0.87-0.89 with the seed).
--   wick run recipes/fashion_mnist.lua                    # 1 epoch of small_cnn, >= 0.88 accuracy
--   wick run recipes/fashion_mnist.lua model=mlp epochs=3 lr=0.1
--   wick run -n 2 recipes/fashion_mnist.lua               # DDP: 2 ranks, batch_size per rank
local nn, data = wick.nn, wick.data

local function build_model(name)
  if name == "small_cnn" then return wick.models.small_cnn { num_classes = 10 } end
  if name == "mlp" then return wick.models.mlp { 784, 256, 128, 10 } end
  error(string.format("fashion_mnist: unknown model '%s' (expected small_cnn or mlp)", tostring(name)), 0)
end

-- The first n samples of ds (quick runs and tests), with the fields the recipe reads.
local function subset(ds, n)
  n = math.min(n, #ds)
  local s = data.Subset(ds, wick.arange(n))
  s.classes, s.data, s.targets = ds.classes, ds.data:narrow(0, 0, n), ds.targets:narrow(0, 0, n)
  return s
end

-- A fixed sample of test images in TensorBoard, with a table of the predictions of each epoch.
local function log_predictions(tb, model, test, x, epoch)
  local pred = wick.no_grad(function() model:eval() local p = model(x):argmax(1):tolist() model:train() return p end)
  tb:add_images("test/samples", test.data:narrow(0, 0, #pred):unsqueeze(1), epoch) -- u8, as stored
  local lines = { "| # | label | prediction |", "|---|---|---|" }
  for i, p in ipairs(pred) do
    local label = test.targets[i - 1]:item()
    lines[#lines + 1] = string.format("| %d | %s | %s%s |", i - 1, test.classes[label + 1], test.classes[p + 1],
      p == label and "" or " ✗")
  end
  tb:add_text("test/predictions", table.concat(lines, "\n"), epoch)
end

return wick.recipe {
  config = "fashion_mnist.yaml",
  description = "Trains small_cnn (or mlp) on Fashion-MNIST with SGD + momentum; prints test accuracy.",
  main = function(cfg)
    if cfg.threads then wick.set_num_threads(cfg.threads) end
    if cfg.schedule ~= "cosine" and cfg.schedule ~= "constant" then
      error(string.format("fashion_mnist: unknown schedule '%s' (expected cosine or constant)", tostring(cfg.schedule)), 0)
    end
    wick.manual_seed(cfg.seed)
    local train = data.FashionMNIST(cfg.data_dir, "train", { normalize = cfg.normalize })
    local test = data.FashionMNIST(cfg.data_dir, "test", { normalize = cfg.normalize })
    if cfg.train_subset then train = subset(train, cfg.train_subset) end
    if cfg.test_subset then test = subset(test, cfg.test_subset) end
    local model = build_model(cfg.model)
    local opt = wick.optim.SGD(model:parameters(), { lr = cfg.lr, momentum = cfg.momentum, weight_decay = cfg.weight_decay })
    local run = wick.recipe.prepare {
      model = model, optimizer = opt, checkpoint = cfg.checkpoint,
      train = data.DataLoader(train, { batch_size = cfg.batch_size, shuffle = true, seed = cfg.seed,
        num_workers = cfg.num_workers }),
      eval = data.DataLoader(test, { batch_size = cfg.test_batch_size }),
      -- annealed to 0 over the run, per batch: built once prepare knows the batches per rank
      scheduler = cfg.schedule == "cosine" and function(o, batches)
        return wick.optim.lr_scheduler.CosineAnnealingLR(o, math.max(1, cfg.epochs * batches)) end or nil,
    }
    run:print(string.format("%s: %d parameters, %d training batches of %d, %d threads%s", cfg.model,
      model:summary({ print = false }).total_params, #run.train, cfg.batch_size, wick.get_num_threads(),
      run.world_size > 1 and (", " .. run.world_size .. " ranks") or ""))
    local samples = math.min(cfg.log_images, #test) > 0 and test:get_batch(wick.arange(math.min(cfg.log_images, #test)))
    -- traced in eval mode: dropout would draw random numbers and change the training run
    if run.tb and samples then model:eval() run.tb:add_graph(model, samples) model:train() end
    local start, result = wick.perf_counter(), nil
    for epoch in run:epochs(cfg.epochs) do
      local t0, loss_sum, seen = wick.perf_counter(), 0.0, 0
      for batch, x, y in run.train:iter() do
        opt:zero_grad()
        local loss = nn.functional.cross_entropy(run.model(x), y)
        loss:backward()
        opt:step()
        local step, lr = epoch * #run.train + batch, opt.param_groups[1].lr
        if run.scheduler then run.scheduler:step() end
        local l = loss:item()
        loss_sum, seen = loss_sum + l * y:size(0), seen + y:size(0)
        if cfg.log_every > 0 and step % cfg.log_every == 0 then run:log({ ["train/loss"] = l, ["train/lr"] = lr }, step) end
      end
      local train_time = wick.perf_counter() - t0
      loss_sum, seen = table.unpack(run:sum { loss_sum, seen })
      local m = run:evaluate(function(x, y) return { correct = model(x):argmax(1):eq(y):sum():item(), total = y:size(0) } end)
      result = { epoch = epoch + 1, train_loss = loss_sum / seen, test_accuracy = m.correct / m.total,
        samples_per_sec = seen / train_time }
      run:print(string.format("epoch %d/%d  train loss %.4f  test accuracy %.4f  %.0f samples/s  elapsed %.1fs", epoch + 1,
        cfg.epochs, result.train_loss, result.test_accuracy, result.samples_per_sec, wick.perf_counter() - start))
      run:log({ ["test/accuracy"] = result.test_accuracy }, epoch + 1)
      run:histograms(epoch + 1)
      if run.tb and samples then log_predictions(run.tb, model, test, samples, epoch + 1) end
    end
    run:save(cfg.out or (wick.run_dir() and wick.run_dir() .. "/model.safetensors"))
    return result
  end,
}
