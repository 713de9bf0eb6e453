-- The small CNN's layers at batch 64 in f32, forward and forward+backward, in wick.
-- Prints "name<TAB>microseconds per call"; bench/nn_ops_torch.py prints the same for PyTorch,
-- and bench/nn_run.sh shows both with the ratios.
local threads = tonumber(os.getenv("WICK_BENCH_THREADS") or "2")
wick.set_num_threads(threads)

local function bench(name, fn, iters)
  fn()
  local best = math.huge
  for _ = 1, 5 do
    local t0 = wick.perf_counter()
    for _ = 1, iters do fn() end
    local dt = (wick.perf_counter() - t0) / iters
    if dt < best then best = dt end
  end
  print(("%s\t%.3f"):format(name, best * 1e6))
end

wick.manual_seed(0)
local B = 64
local x1 = wick.randn(B, 1, 28, 28)
local w1, b1 = wick.randn(32, 1, 3, 3):requires_grad_(), wick.randn(32):requires_grad_()
local x2 = wick.randn(B, 32, 14, 14):requires_grad_()
local w2, b2 = wick.randn(64, 32, 3, 3):requires_grad_(), wick.randn(64):requires_grad_()
local g1, g2 = wick.randn(B, 32, 28, 28), wick.randn(B, 64, 14, 14)
local p1 = wick.randn(B, 32, 28, 28):requires_grad_()
local p2 = wick.randn(B, 64, 14, 14):requires_grad_()
local gp1, gp2 = wick.randn(B, 32, 14, 14), wick.randn(B, 64, 7, 7)
local logits, target = wick.randn(B, 10):requires_grad_(), wick.randint(0, 10, { B })

local function clear(...) for _, t in ipairs({ ... }) do t.grad = nil end end

wick.no_grad(function()
  bench("conv1_fwd", function() return wick.conv2d(x1, w1, b1, { padding = 1 }) end, 20)
  bench("conv2_fwd", function() return wick.conv2d(x2, w2, b2, { padding = 1 }) end, 10)
  bench("maxpool1_fwd", function() return wick.max_pool2d(p1, 2) end, 20)
  bench("maxpool2_fwd", function() return wick.max_pool2d(p2, 2) end, 20)
end)
bench("conv1_fwd_bwd", function()
  clear(w1, b1)
  wick.conv2d(x1, w1, b1, { padding = 1 }):backward(g1)
end, 10)
bench("conv2_fwd_bwd", function()
  clear(x2, w2, b2)
  wick.conv2d(x2, w2, b2, { padding = 1 }):backward(g2)
end, 5)
bench("maxpool1_fwd_bwd", function()
  clear(p1)
  wick.max_pool2d(p1, 2):backward(gp1)
end, 10)
bench("maxpool2_fwd_bwd", function()
  clear(p2)
  wick.max_pool2d(p2, 2):backward(gp2)
end, 10)
bench("relu1_fwd_bwd", function()
  clear(p1)
  p1:relu():backward(g1)
end, 10)
bench("xent_fwd_bwd", function()
  clear(logits)
  wick.cross_entropy(logits, target):backward()
end, 1000)
