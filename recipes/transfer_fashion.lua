-- Transfer learning on real data: pretrains small_cnn on Fashion-MNIST classes 0-4, then learns
-- classes 5-9 with the pretrained feature extractor frozen (patterns from the config) and a new
-- head (per-group learning rates from the config), and compares the test accuracy after N steps
-- with N steps of the same model trained from scratch.
--   wick run recipes/transfer_fashion.lua                       # about a minute on 2 cores
--   wick run recipes/transfer_fashion.lua transfer.steps=100 'transfer.freeze=["0","3","7"]'
local nn, data = wick.nn, wick.data

-- The samples of ds whose label is in [lo, lo + 4], relabelled 0-4; at most `limit` of them.
local function half(ds, lo, limit)
  local idx = {}
  for i, label in ipairs(ds.targets:tolist()) do
    if label >= lo and label < lo + 5 then
      idx[#idx + 1] = i - 1
      if limit and #idx >= limit then break end
    end
  end
  local x, y = ds:get_batch(wick.tensor(idx, { dtype = "i64" }))
  local ds5 = data.TensorDataset(x, y - lo)
  ds5.classes = table.move(ds.classes, lo + 1, lo + 5, 1, {})
  return ds5
end

-- Fraction of ds classified correctly (eval mode, no graph).
local function accuracy(model, ds)
  model:eval()
  local correct = 0
  wick.no_grad(function()
    for _, x, y in data.DataLoader(ds, { batch_size = 500 }):iter() do
      correct = correct + model(x):argmax(1):eq(y):sum():item()
    end
  end)
  model:train()
  return correct / #ds
end

-- `steps` SGD steps over ds (as many passes as needed); returns the mean loss of the last 10.
local function train(model, opt, ds, steps, batch_size, seed)
  local loader = data.DataLoader(ds, { batch_size = batch_size, shuffle = true, seed = seed })
  local step, recent = 0, {}
  while step < steps do
    for _, x, y in loader:iter() do
      opt:zero_grad()
      local loss = nn.functional.cross_entropy(model(x), y)
      loss:backward()
      opt:step()
      step = step + 1
      recent[(step - 1) % 10 + 1] = loss:item()
      if step == steps then break end
    end
  end
  local sum = 0
  for _, l in ipairs(recent) do sum = sum + l end
  return sum / #recent
end

-- SGD param groups from the config: {params = pattern(s), lr = x} over the trainable
-- parameters; each of them must be in exactly one group.
local function param_groups(model, groups, momentum)
  local owner, out = {}, {}
  for i, g in ipairs(groups) do
    local pats = type(g.params) == "table" and g.params or { g.params }
    local params = {}
    for _, item in ipairs(model:named_parameters(table.unpack(pats))) do
      local name, p = item[1], item[2]
      if p.requires_grad then
        if owner[name] then
          error(string.format("transfer_fashion: parameter '%s' is in groups %d and %d", name, owner[name], i), 0)
        end
        owner[name] = i
        params[#params + 1] = p
      end
    end
    if #params == 0 then
      error(string.format("transfer_fashion: group %d (%s) selects no trainable parameter", i, table.concat(pats, ", ")), 0)
    end
    out[#out + 1] = { params = params, lr = g.lr }
  end
  for _, item in ipairs(model:named_parameters()) do
    if item[2].requires_grad and not owner[item[1]] then
      error(string.format("transfer_fashion: trainable parameter '%s' is in no group of transfer.groups", item[1]), 0)
    end
  end
  return wick.optim.SGD(out, { lr = out[1].lr, momentum = momentum })
end

local function count(model, trainable)
  local n = 0
  for _, p in ipairs(model:parameters()) do
    if p.requires_grad == trainable then n = n + p:numel() end
  end
  return n
end

return wick.recipe {
  config = "transfer_fashion.yaml",
  description = "Pretrains small_cnn on Fashion-MNIST classes 0-4, transfers it to classes 5-9 with a " ..
    "frozen feature extractor and a new head, and compares with training from scratch.",
  main = function(cfg)
    if cfg.threads then wick.set_num_threads(cfg.threads) end
    local t0 = wick.perf_counter()
    local opts = { normalize = cfg.normalize }
    local train_all = data.FashionMNIST(cfg.data_dir, "train", opts)
    local test_all = data.FashionMNIST(cfg.data_dir, "test", opts)
    local pt, tr = cfg.pretrain, cfg.transfer
    -- only as many training images as the steps can use
    local train_a = half(train_all, 0, pt.steps * pt.batch_size)
    local train_b = half(train_all, 5, tr.steps * tr.batch_size)
    local test_a, test_b = half(test_all, 0, cfg.test_samples), half(test_all, 5, cfg.test_samples)

    -- 1. pretrain on classes 0-4
    wick.manual_seed(cfg.seed)
    local base = wick.models.small_cnn { num_classes = 5 }
    local opt = wick.optim.SGD(base:parameters(), { lr = pt.lr, momentum = pt.momentum })
    train(base, opt, train_a, pt.steps, pt.batch_size, cfg.seed)
    local pretrain_acc = accuracy(base, test_a)
    print(string.format("pretrain: %d steps on %s: test accuracy %.4f (%.1fs)", pt.steps,
      table.concat(train_a.classes, "/"), pretrain_acc, wick.perf_counter() - t0))

    -- 2. transfer: the pretrained weights, the feature extractor frozen, a new head
    wick.manual_seed(cfg.seed + 1)
    local model = wick.models.small_cnn { num_classes = 5 }
    model:load_state_dict(base:state_dict())
    model["9"] = nn.Linear(128, 5)
    local pats = type(tr.freeze) == "table" and table.move(tr.freeze, 1, #tr.freeze, 1, {}) or { tr.freeze }
    pats[#pats + 1] = { bn_eval = tr.bn_eval }
    model:freeze(table.unpack(pats))
    local frozen_before = {}
    for _, item in ipairs(model:named_parameters()) do
      if not item[2].requires_grad then frozen_before[item[1]] = item[2]:clone() end
    end
    local topt = param_groups(model, tr.groups, tr.momentum)
    local t1 = wick.perf_counter()
    train(model, topt, train_b, tr.steps, tr.batch_size, cfg.seed)
    local transfer_acc = accuracy(model, test_b)
    print(string.format("transfer: %d steps on %s, %d parameters frozen, %d trained: test accuracy %.4f (%.1fs)",
      tr.steps, table.concat(train_b.classes, "/"), count(model, false), count(model, true), transfer_acc,
      wick.perf_counter() - t1))

    -- 3. the same budget from scratch
    wick.manual_seed(cfg.seed + 1)
    local scratch = wick.models.small_cnn { num_classes = 5 }
    local sopt = wick.optim.SGD(scratch:parameters(), { lr = cfg.scratch.lr, momentum = cfg.scratch.momentum })
    local t2 = wick.perf_counter()
    train(scratch, sopt, train_b, tr.steps, tr.batch_size, cfg.seed)
    local scratch_acc = accuracy(scratch, test_b)
    print(string.format("scratch:  %d steps on %s, all %d parameters trained: test accuracy %.4f (%.1fs)",
      tr.steps, table.concat(train_b.classes, "/"), count(scratch, true), scratch_acc, wick.perf_counter() - t2))
    print(string.format("pretraining on classes 0-4 gains %+.2f points on classes 5-9 after %d steps (%.1fs in all)",
      100 * (transfer_acc - scratch_acc), tr.steps, wick.perf_counter() - t0))
    -- numbers become the run's metrics; the models are for callers of main (spec/transfer_spec.lua)
    return { pretrain_accuracy = pretrain_acc, transfer_accuracy = transfer_acc, scratch_accuracy = scratch_acc,
      gain = transfer_acc - scratch_acc, model = model, frozen_before = frozen_before }
  end,
}
