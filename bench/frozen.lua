-- Frozen backbone vs fully trainable: per training step, the forward time and the backward +
-- optimizer step time, best of 5 rounds. Prints "case<TAB>mode<TAB>forward us<TAB>backward+step us"
-- (bench/frozen.sh joins it with bench/frozen_torch.py, the same models in PyTorch).
-- WICK_BENCH_THREADS sets the threads (default 2).
wick.set_num_threads(tonumber(os.getenv("WICK_BENCH_THREADS") or "2"))
local nn = wick.nn

local cases = {
  -- resnet18 on 64x64 images, everything but the new fc frozen (BatchNorm in eval mode)
  { name = "resnet18 b16 64x64", iters = 2, input = { 16, 3, 64, 64 },
    build = function() return wick.models.resnet18 { num_classes = 10 } end, keep = "fc" },
  -- small_cnn at a larger batch, the convolutions frozen (0.*, 3.*)
  { name = "small_cnn b256", iters = 5, input = { 256, 1, 28, 28 },
    build = function() return wick.models.small_cnn { num_classes = 10 } end, freeze = { "0", "3" } },
}

local function run(case, frozen)
  wick.manual_seed(0)
  local model = case.build()
  if frozen then
    if case.keep then
      model:freeze({ bn_eval = true })
      model:unfreeze(case.keep)
    else
      local pats = table.move(case.freeze, 1, #case.freeze, 1, {})
      pats[#pats + 1] = { bn_eval = true }
      model:freeze(table.unpack(pats))
    end
  end
  local params = {}
  for _, p in ipairs(model:parameters()) do if p.requires_grad then params[#params + 1] = p end end
  local opt = wick.optim.SGD(params, { lr = 0.01, momentum = 0.9 })
  local x = wick.randn(case.input)
  local y = wick.randint(0, 10, { case.input[1] })
  local function step()
    opt:zero_grad()
    local t0 = wick.perf_counter()
    local loss = nn.functional.cross_entropy(model(x), y)
    local t1 = wick.perf_counter()
    loss:backward()
    opt:step()
    return t1 - t0, wick.perf_counter() - t1
  end
  step()
  local best_f, best_b = math.huge, math.huge
  for _ = 1, 5 do
    local f, b = 0, 0
    for _ = 1, case.iters do
      local df, db = step()
      f, b = f + df, b + db
    end
    best_f, best_b = math.min(best_f, f / case.iters), math.min(best_b, b / case.iters)
  end
  print(("%s\t%s\t%.0f\t%.0f"):format(case.name, frozen and "frozen" or "full", best_f * 1e6, best_b * 1e6))
end

for _, case in ipairs(cases) do
  run(case, false)
  run(case, true)
end
