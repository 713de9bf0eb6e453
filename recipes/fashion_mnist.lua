-- The default recipe: trains small_cnn (or an MLP, model=mlp) on Fashion-MNIST with SGD and
-- momentum, evaluates test accuracy after each epoch, and saves the weights as safetensors.
-- Under `wick run` it logs to TensorBoard in its run directory (docs/runs.md): train/loss every
-- log_every steps, lr, test accuracy, weight/gradient histograms and sample predictions per
-- epoch, the graph; the runner adds the hparams and final metrics.
-- Normalised inputs and a cosine-annealed lr make one epoch reliably reach 0.89 (without them
-- PyTorch's 1-epoch accuracy of this model spreads over 0.87-0.89 with the seed).
--   wick run recipes/fashion_mnist.lua                    # 1 epoch of small_cnn, >= 0.88 accuracy
--   wick run recipes/fashion_mnist.lua model=mlp epochs=3 lr=0.1
local function build_model(name)
  if name == "small_cnn" then return wick.models.small_cnn { num_classes = 10 } end
  if name == "mlp" then return wick.models.mlp { 784, 256, 128, 10 } end
  error(string.format("fashion_mnist: unknown model '%s' (expected small_cnn or mlp)", tostring(name)), 0)
end

-- Fraction of test images classified correctly (no autograd graph, eval mode).
local function evaluate(model, loader)
  model:eval()
  local correct, total = 0, 0
  wick.no_grad(function()
    for _, x, y in loader:iter() do
      correct = correct + model(x):argmax(1):eq(y):sum():item()
      total = total + y:size(0)
    end
  end)
  model:train()
  return correct / total
end

-- TensorBoard logging in the run directory (nil outside `wick run`): everything heavier than a
-- scalar happens once per epoch, so logging does not slow training.
local function open_log(cfg, model, test)
  local dir = wick.run_dir()
  if not dir then return nil end
  local tb = wick.tb.SummaryWriter(dir)
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

return wick.recipe {
  config = "fashion_mnist.yaml",
  description = "Trains small_cnn (or mlp) on Fashion-MNIST with SGD + momentum; prints test accuracy.",
  main = function(cfg)
    local nn, data = wick.nn, wick.data
    if cfg.threads then wick.set_num_threads(cfg.threads) end
    wick.manual_seed(cfg.seed)
    local train = data.FashionMNIST(cfg.data_dir, "train", { normalize = cfg.normalize })
    local test = data.FashionMNIST(cfg.data_dir, "test", { normalize = cfg.normalize })
    local loader = data.DataLoader(train, { batch_size = cfg.batch_size, shuffle = true,
      seed = cfg.seed, num_workers = cfg.num_workers })
    local test_loader = data.DataLoader(test, { batch_size = cfg.test_batch_size })
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
    print(string.format("%s: %d parameters, %d training batches of %d, %d threads", cfg.model,
      nparams, #loader, cfg.batch_size, wick.get_num_threads()))
    local log = open_log(cfg, model, test)
    local start = wick.perf_counter()
    local result
    for epoch = 0, cfg.epochs - 1 do
      local t0, loss_sum, seen = wick.perf_counter(), 0.0, 0
      for batch, x, y in loader:iter() do
        opt:zero_grad()
        local loss = nn.functional.cross_entropy(model(x), y)
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
      local acc = evaluate(model, test_loader)
      result = { epoch = epoch + 1, train_loss = loss_sum / seen, test_accuracy = acc,
        samples_per_sec = seen / train_time }
      print(string.format("epoch %d/%d  train loss %.4f  test accuracy %.4f  %.0f samples/s  elapsed %.1fs",
        epoch + 1, cfg.epochs, result.train_loss, acc, result.samples_per_sec, wick.perf_counter() - start))
      io.stdout:flush()
      if log then log_epoch(log, model, epoch + 1, acc, test) end
    end
    if log then log.tb:close() end
    local out = cfg.out or (wick.run_dir() and wick.run_dir() .. "/model.safetensors")
    if out then
      mkdir_for(out)
      wick.save(out, model:state_dict())
      print("saved " .. out)
    end
    return result
  end,
}
