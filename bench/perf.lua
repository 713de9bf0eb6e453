-- The CPU speed table of docs/perf.md, wick's side: training steps, resnet18, large elementwise,
-- reduction and softmax ops, and (with --layers) each distinct conv layer of resnet18.
-- Prints "name<TAB>microseconds per call"; bench/perf_torch.py prints the same for PyTorch and
-- bench/perf.sh runs both and prints the ratios. WICK_BENCH_THREADS sets the threads (default 2).
wick.set_num_threads(tonumber(os.getenv("WICK_BENCH_THREADS") or "2"))
local bench = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/timing.lua")
local nn, F = wick.nn, wick.nn.functional
local only = os.getenv("WICK_BENCH_ONLY") -- a Lua pattern: run only the rows it matches
local layers = false
for _, a in ipairs(arg) do if a == "--layers" then layers = true end end

local function row(name, fn, iters)
  if not only or name:match(only) then bench(name, fn, iters) end
end

-- one SGD+momentum training step of model on (x, y)
local function stepper(model, x, y)
  local opt = wick.optim.SGD(model:parameters(), { lr = 0.01, momentum = 0.9 })
  return function()
    opt:zero_grad()
    local loss = F.cross_entropy(model(x), y)
    loss:backward()
    opt:step()
  end
end

wick.manual_seed(0)
row("cnn_step", stepper(wick.models.small_cnn { num_classes = 10, in_channels = 3, image_size = 32 },
  wick.randn(64, 3, 32, 32), wick.randint(0, 10, { 64 })), 10)
row("small_cnn_step", stepper(wick.models.small_cnn { num_classes = 10 },
  wick.randn(64, 1, 28, 28), wick.randint(0, 10, { 64 })), 10)
row("mlp_step", stepper(wick.models.mlp { 784, 256, 128, 10 },
  wick.randn(64, 784), wick.randint(0, 10, { 64 })), 200)

do
  wick.manual_seed(0)
  local model = wick.models.resnet18 { num_classes = 10 }
  local x, y = wick.randn(16, 3, 64, 64), wick.randint(0, 10, { 16 })
  row("resnet18_fwd", function() wick.no_grad(function() return model(x) end) end, 2)
  row("resnet18_fwd_bwd", stepper(model, x, y), 1)
end

local n = 4 * 1024 * 1024
local a, b = wick.randn(n), wick.randn(n)
row("add_4M", function() return a + b end, 50)
row("mul_4M", function() return a * b end, 50)
row("relu_4M", function() return a:relu() end, 50)
row("sum_4M", function() return a:sum() end, 50)
row("exp_4M", function() return a:exp() end, 20)
row("tanh_4M", function() return a:tanh() end, 20)
row("sigmoid_4M", function() return a:sigmoid() end, 20)
row("gelu_4M", function() return F.gelu(a) end, 20)
local pos = a:abs() + 0.5
row("log_4M", function() return pos:log() end, 20)
local m = wick.randn(2048, 2048)
row("softmax_2048", function() return m:softmax(1) end, 20)
row("log_softmax_2048", function() return m:log_softmax(1) end, 20)
row("sum_rows_2048", function() return m:sum(1) end, 50)

if layers then
  -- resnet18's distinct convolutions at batch 16, 64x64 input: forward, and forward+backward
  local convs = {
    { "conv1_7x7_3_64", 3, 64, 7, 2, 3, 64 },
    { "l1_3x3_64_64", 64, 64, 3, 1, 1, 16 },
    { "l2a_3x3_64_128_s2", 64, 128, 3, 2, 1, 16 },
    { "l2b_3x3_128_128", 128, 128, 3, 1, 1, 8 },
    { "l2d_1x1_64_128_s2", 64, 128, 1, 2, 0, 16 },
    { "l3a_3x3_128_256_s2", 128, 256, 3, 2, 1, 8 },
    { "l3b_3x3_256_256", 256, 256, 3, 1, 1, 4 },
    { "l4a_3x3_256_512_s2", 256, 512, 3, 2, 1, 4 },
    { "l4b_3x3_512_512", 512, 512, 3, 1, 1, 2 },
  }
  for _, c in ipairs(convs) do
    local name, cin, cout, k, s, p, hw = table.unpack(c)
    local x = wick.randn(16, cin, hw, hw):requires_grad_()
    local w = (wick.randn(cout, cin, k, k) * 0.05):requires_grad_()
    local opts = { stride = s, padding = p }
    local g
    wick.no_grad(function() g = wick.randn(wick.conv2d(x, w, nil, opts):size()) end)
    row("layer_" .. name .. "_fwd", function()
      wick.no_grad(function() return wick.conv2d(x, w, nil, opts) end)
    end, 3)
    row("layer_" .. name .. "_fwd_bwd", function()
      x.grad, w.grad = nil, nil
      wick.conv2d(x, w, nil, opts):backward(g)
    end, 2)
  end
end
