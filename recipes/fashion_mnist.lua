-- The default recipe: trains small_cnn (or an MLP, model=mlp) on Fashion-MNIST with SGD and
-- momentum, evaluates test accuracy after each epoch, and saves the weights as safetensors.
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
    local start = wick.perf_counter()
    local result
    for epoch = 0, cfg.epochs - 1 do
      local t0, loss_sum, seen = wick.perf_counter(), 0.0, 0
      for _, x, y in loader:iter() do
        opt:zero_grad()
        local loss = nn.functional.cross_entropy(model(x), y)
        loss:backward()
        opt:step()
        if sched then sched:step() end
        local b = y:size(0)
        loss_sum, seen = loss_sum + loss:item() * b, seen + b
      end
      local train_time = wick.perf_counter() - t0
      local acc = evaluate(model, test_loader)
      result = { epoch = epoch + 1, train_loss = loss_sum / seen, test_accuracy = acc,
        samples_per_sec = seen / train_time }
      print(string.format("epoch %d/%d  train loss %.4f  test accuracy %.4f  %.0f samples/s  elapsed %.1fs",
        epoch + 1, cfg.epochs, result.train_loss, acc, result.samples_per_sec, wick.perf_counter() - start))
      io.stdout:flush()
    end
    if cfg.out then
      mkdir_for(cfg.out)
      wick.save(cfg.out, model:state_dict())
      print("saved " .. cfg.out)
    end
    return result
  end,
}
