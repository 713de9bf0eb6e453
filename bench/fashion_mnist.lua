-- Training throughput on Fashion-MNIST: small_cnn and mlp 784-256-128-10, batch 64, SGD with
-- momentum, as the default recipe; prints the same lines as bench/fashion_mnist_torch.py:
-- model, samples/s, steps, last loss[, test accuracy].
-- usage: wick bench/fashion_mnist.lua [--steps N] [--threads T] [--eval] [--models small_cnn,mlp]
--        [--data-dir DIR]      (--steps 0, the default: one epoch per model)
local opts = { steps = 0, models = "small_cnn,mlp", data_dir = "/usr/share/datasets/fashion-mnist",
  batch_size = 64, lr = 0.05, seed = 0 }
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "--eval" then opts.eval = true
  elseif a:match("^%-%-") and arg[i + 1] then
    local k = a:sub(3):gsub("%-", "_")
    local v = arg[i + 1]
    opts[k] = tonumber(v) or v
    i = i + 1
  else error("fashion_mnist bench: unknown argument " .. a, 0) end
  i = i + 1
end
if opts.threads then wick.set_num_threads(math.tointeger(opts.threads)) end

local train = wick.data.FashionMNIST(opts.data_dir, "train")
local test = opts.eval and wick.data.FashionMNIST(opts.data_dir, "test")

local function build(name)
  if name == "small_cnn" then return wick.models.small_cnn { num_classes = 10 } end
  return wick.models.mlp { 784, 256, 128, 10 }
end

local function accuracy(model)
  model:eval()
  local correct = 0
  wick.no_grad(function()
    for _, x, y in wick.data.DataLoader(test, { batch_size = 1000 }):iter() do
      correct = correct + model(x):argmax(1):eq(y):sum():item()
    end
  end)
  return correct / #test
end

for name in opts.models:gmatch("[^,]+") do
  wick.manual_seed(opts.seed)
  local model = build(name)
  local opt = wick.optim.SGD(model:parameters(), { lr = opts.lr, momentum = 0.9 })
  local loader = wick.data.DataLoader(train, { batch_size = opts.batch_size, shuffle = true,
    seed = opts.seed, progress = false })
  local nb = #loader
  local steps = opts.steps > 0 and math.min(nb, opts.steps) or nb
  local warm = opts.steps > 0 and 5 or 0 -- quick mode: skip start-up effects
  local done, seen, t0, loss = 0, 0, wick.perf_counter(), nil
  while done < steps + warm do
    for _, x, y in loader:iter() do
      if done == warm then t0, seen = wick.perf_counter(), 0 end
      if done >= steps + warm then break end
      opt:zero_grad()
      loss = wick.nn.functional.cross_entropy(model(x), y)
      loss:backward()
      opt:step()
      seen, done = seen + y:size(0), done + 1
    end
  end
  local elapsed = wick.perf_counter() - t0
  local line = string.format("%s\t%.1f\t%d\t%.4f", name, seen / elapsed, steps, loss:item())
  if opts.eval then line = line .. string.format("\t%.4f", accuracy(model)) end
  print(line)
  io.stdout:flush()
end
