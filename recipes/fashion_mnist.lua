-- The default recipe: trains small_cnn (or an MLP, model=mlp) on Fashion-MNIST with SGD and
-- momentum, evaluates test accuracy after each epoch, and saves the weights as safetensors.
-- Under `wick run` it logs to TensorBoard in its run directory (docs/runs.md): train/loss every
-- log_every steps, lr, test accuracy, weight/gradient histograms and sample predictions per
-- epoch, the graph; the runner adds the hparams and final metrics.
-- Normalised inputs and a cosine-annealed lr make one epoch reliably reach 0.89 (without them
-- PyTorch's 1-epoch accuracy of this model spreads over 0.87-0.89 with the seed).
--   wick run recipes/fashion_mnist.lua                    # 1 epoch of small_cnn, >= 0.88 accuracy
--   wick run recipes/fashion_mnist.lua model=mlp epochs=3 lr=0.1
--   wick run -n 2 recipes/fashion_mnist.lua               # DDP: 2 ranks, batch_size per rank
local function build_model(name)
  if name == "small_cnn" then return wick.models.small_cnn { num_classes = 10 } end
  if name == "mlp" then return wick.models.mlp { 784, 256, 128, 10 } end
  error(string.format("fashion_mnist: unknown model '%s' (expected small_cnn or mlp)", tostring(name)), 0)
end

-- Fraction of test images classified correctly (no autograd graph, eval mode). With several
-- ranks each evaluates its shard and the counts are summed over the ranks.
local function evaluate(model, loader, world)
  model:eval()
  local correct, total = 0, 0
  wick.no_grad(function()
    for _, x, y in loader:iter() do
      correct = correct + model(x):argmax(1):eq(y):sum():item()
      total = total + y:size(0)
    end
  end)
  model:train()
  if world > 1 then correct, total = table.unpack(wick.dist.all_reduce(wick.tensor({ correct, total }, { dtype = "f64" })):tolist()) end
  return correct / total
end

-- TensorBoard logging in the run directory (nil outside `wick run`): everything heavier than a
-- scalar happens once per epoch, so logging does not slow training.
-- purge_step (a resumed run: the step of its checkpoint) makes TensorBoard drop what the
-- interrupted run logged after it, so the curves continue without duplicate steps.
local function open_log(cfg, model, test, purge_step)
  local dir = wick.run_dir()
  if not dir then return nil end
  local tb = wick.tb.SummaryWriter(dir, { purge_step = purge_step })
  -- a fixed sample of test images: shown as a grid with the predictions after each epoch
  local n = math.min(cfg.log_images, #test)
  local log = { tb = tb, n = n }
  if n > 0 then
    log.x = test:get_batch(wick.arange(n))
    log.pixels = test.data:narrow(0, 0, n):unsqueeze(1) -- u8 [n, 1, 28, 28], as stored
    log.labels = test.targets:narrow(0, 0, n):tolist()
    -- traced in eval mode: dropout would draw random numbers and change the training run
    model:eval()
    tb:add_graph(model, log.x)
    model:train()
  end
  return log
end

local function log_epoch(log, model, epoch, acc, test)
  local tb = log.tb
  tb:add_scalar("test/accuracy", acc, epoch)
  for name, p in model:named_parameters() do
    tb:add_histogram("weights/" .. name, p, epoch)
    if p.grad then tb:add_histogram("grads/" .. name, p.grad, epoch) end
  end
  if log.n > 0 then
    local pred = wick.no_grad(function()
      model:eval()
      local out = model(log.x):argmax(1):tolist()
      model:train()
      return out
    end)
    tb:add_images("test/samples", log.pixels, epoch)
    local lines = { "| # | label | prediction |", "|---|---|---|" }
    for i = 1, log.n do
      lines[#lines + 1] = string.format("| %d | %s | %s%s |", i - 1, test.classes[log.labels[i] + 1],
        test.classes[pred[i] + 1], pred[i] == log.labels[i] and "" or " ✗")
    end
    tb:add_text("test/predictions", table.concat(lines, "\n"), epoch)
  end
  tb:flush()
end

local function mkdir_for(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then
    local ok = os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
    if not ok then error("fashion_mnist: cannot create directory " .. dir, 0) end
  end
end

-- The first n samples of ds, as a dataset with the same fields the recipe reads.
local function subset(ds, n)
  n = math.min(n, #ds)
  local s = wick.data.Subset(ds, wick.arange(n))
  s.classes = ds.classes
  s.data, s.targets = ds.data:narrow(0, 0, n), ds.targets:narrow(0, 0, n)
  return s
end

return wick.recipe {
  config = "fashion_mnist.yaml",
  description = "Trains small_cnn (or mlp) on Fashion-MNIST with SGD + momentum; prints test accuracy.",
  main = function(cfg)
    local nn, data = wick.nn, wick.data
    if cfg.threads then wick.set_num_threads(cfg.threads) end
    wick.manual_seed(cfg.seed)
    local train = data.FashionMNIST(cfg.data_dir, "train", { normalize = cfg.normalize })
    local test = data.FashionMNIST(cfg.data_dir, "test", { normalize = cfg.normalize })
    -- the first N samples only (quick runs and tests); Subset keeps classes and get_batch
    if cfg.train_subset then train = subset(train, cfg.train_subset) end
    if cfg.test_subset then test = subset(test, cfg.test_subset) end
    -- under `wick run -n N` (N > 1): DDP over the launcher's group, each rank on its shard of
    -- the data (a DistributedSampler for training, every N-th test image for evaluation);
    -- rank 0 alone prints, logs and saves
    local dist = wick.dist
    local world = math.tointeger(tonumber(os.getenv("WORLD_SIZE") or "")) or 1
    if world > 1 and not dist.is_initialized() then dist.init_process_group() end
    local rank = world > 1 and dist.get_rank() or 0
    local sampler = world > 1 and data.DistributedSampler(train, { shuffle = true, seed = cfg.seed }) or nil
    local loader = data.DataLoader(train, { batch_size = cfg.batch_size, shuffle = sampler == nil,
      sampler = sampler, seed = cfg.seed, num_workers = cfg.num_workers })
    local test_shard = world > 1 and data.Subset(test, wick.arange(rank, #test, world)) or test
    local test_loader = data.DataLoader(test_shard, { batch_size = cfg.test_batch_size })
    local model = build_model(cfg.model)
    local opt = wick.optim.SGD(model:parameters(), { lr = cfg.lr, momentum = cfg.momentum,
      weight_decay = cfg.weight_decay })
    local sched
    if cfg.schedule == "cosine" then
      sched = wick.optim.lr_scheduler.CosineAnnealingLR(opt, math.max(1, cfg.epochs * #loader))
    elseif cfg.schedule ~= "constant" then
      error(string.format("fashion_mnist: unknown schedule '%s' (expected cosine or constant)",
        tostring(cfg.schedule)), 0)
    end
    local nparams = 0
    for _, p in ipairs(model:parameters()) do nparams = nparams + p:numel() end
    if rank == 0 then
      print(string.format("%s: %d parameters, %d training batches of %d, %d threads%s", cfg.model,
        nparams, #loader, cfg.batch_size, wick.get_num_threads(), world > 1 and (", " .. world .. " ranks") or ""))
    end
    -- `wick run --resume DIR`: everything that decides the rest of the run comes back from the
    -- checkpoint saved after the last finished epoch (weights, momentum, lr schedule, RNGs)
    local state = { model = model, optimizer = opt, scheduler = sched, loader = loader }
    local resumed = wick.recipe.resume(state)
    local first_epoch = resumed and resumed.epoch or 0
    local log = rank == 0 and open_log(cfg, model, test, resumed and resumed.step) or nil
    -- after the resume: DDP starts every rank from rank 0's weights
    local net = world > 1 and nn.DDP(model) or model
    local start = wick.perf_counter()
    local result
    for epoch = first_epoch, cfg.epochs - 1 do
      local t0, loss_sum, seen = wick.perf_counter(), 0.0, 0
      if sampler then sampler:set_epoch(epoch) end
      for batch, x, y in loader:iter() do
        opt:zero_grad()
        local loss = nn.functional.cross_entropy(net(x), y)
        loss:backward()
        opt:step()
        local step = epoch * #loader + batch
        local log_now = log and cfg.log_every > 0 and step % cfg.log_every == 0
        if log_now then log.tb:add_scalar("train/lr", opt.param_groups[1].lr, step) end
        if sched then sched:step() end
        local b, l = y:size(0), loss:item()
        loss_sum, seen = loss_sum + l * b, seen + b
        if log_now then log.tb:add_scalar("train/loss", l, step) end
      end
      local train_time = wick.perf_counter() - t0
      if world > 1 then
        loss_sum, seen = table.unpack(dist.all_reduce(wick.tensor({ loss_sum, seen }, { dtype = "f64" })):tolist())
      end
      local acc = evaluate(model, test_loader, world)
      result = { epoch = epoch + 1, train_loss = loss_sum / seen, test_accuracy = acc,
        samples_per_sec = seen / train_time }
      if rank == 0 then
        print(string.format("epoch %d/%d  train loss %.4f  test accuracy %.4f  %.0f samples/s  elapsed %.1fs",
          epoch + 1, cfg.epochs, result.train_loss, acc, result.samples_per_sec, wick.perf_counter() - start))
      end
      io.stdout:flush()
      if log then log_epoch(log, model, epoch + 1, acc, test) end
      if cfg.checkpoint then
        local path = wick.recipe.checkpoint(state, { epoch = epoch + 1, step = (epoch + 1) * #loader })
        if path then print("saved checkpoint " .. path .. " (epoch " .. (epoch + 1) .. ")") end
      end
    end
    if log then log.tb:close() end
    local out = cfg.out or (wick.run_dir() and wick.run_dir() .. "/model.safetensors")
    if out and rank == 0 then
      mkdir_for(out)
      wick.save(out, model:state_dict())
      print("saved " .. out)
    end
    return result
  end,
}
