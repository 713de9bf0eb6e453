-- wick.checkpoint.save/load: a run checkpointed and resumed into fresh objects ends with exactly
-- the parameters of an uninterrupted run (model, optimizer state keyed by parameter name,
-- scheduler, counters, default and DataLoader RNG states); errors are clear.
local wick = require("wick")
local helpers = require("helpers")
local nn, optim, data = wick.nn, wick.optim, wick.data

local dir = helpers.tmpdir()

local function make_model(reverse)
  local m = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
  local params = {}
  for p in m:parameters() do params[#params + 1] = p end
  if reverse then -- the optimizer sees the parameters in another order than the saving run
    local r = {}
    for i = #params, 1, -1 do r[#r + 1] = params[i] end
    params = r
  end
  return m, params
end

local dataset
local function loader(seed)
  if not dataset then
    local g = wick.Generator():manual_seed(7)
    dataset = data.TensorDataset(wick.randn({ 40, 6 }, { generator = g }), wick.randint(0, 3, { 40 }, { generator = g }))
  end
  return data.DataLoader(dataset, { batch_size = 10, shuffle = true, seed = seed })
end

local function make_opt(kind, params)
  if kind == "sgd" then return optim.SGD(params, { lr = 0.1, momentum = 0.9, weight_decay = 1e-3 }) end
  return optim.Adam(params, { lr = 0.01 })
end

-- Trains epochs [from, to) and returns the global step reached.
local function train(m, opt, sched, dl, from, to, step)
  m:train()
  for _ = from, to - 1 do
    for _, x, y in dl:iter() do
      opt:zero_grad()
      nn.functional.cross_entropy(m(x), y):backward()
      opt:step()
      step = step + 1
    end
    sched:step()
  end
  return step
end

local function same_params(a, b)
  local sa, sb = a:state_dict(), b:state_dict()
  for _, k in ipairs(sa:keys()) do
    assert.are.equal(0, (sa[k]:double() - sb[k]:double()):abs():max():item(), k)
  end
end

describe("checkpoint", function()
  teardown(function() os.execute(("rm -rf %q"):format(dir)) end)

  for _, kind in ipairs({ "sgd", "adam" }) do
    it("resumes a " .. kind .. " run exactly (fresh objects, other parameter order)", function()
      local E, K = 4, 2
      -- uninterrupted
      wick.manual_seed(1)
      local m1, p1 = make_model()
      local o1 = make_opt(kind, p1)
      local s1 = optim.lr_scheduler.StepLR(o1, 1, { gamma = 0.5 })
      local d1 = loader(3)
      train(m1, o1, s1, d1, 0, E, 0)
      -- interrupted at epoch K
      wick.manual_seed(1)
      local m2, p2 = make_model()
      local o2 = make_opt(kind, p2)
      local s2 = optim.lr_scheduler.StepLR(o2, 1, { gamma = 0.5 })
      local d2 = loader(3)
      local step = train(m2, o2, s2, d2, 0, K, 0)
      local path = dir .. "/" .. kind .. ".safetensors"
      wick.checkpoint.save(path, { model = m2, optimizer = o2, scheduler = s2, loader = d2, epoch = K, step = step,
                                   note = "warmup done", best = 0.25, final = false })
      -- resumed into fresh objects, with every RNG scrambled first
      wick.manual_seed(99)
      local m3, p3 = make_model(true)
      local o3 = make_opt(kind, p3)
      local s3 = optim.lr_scheduler.StepLR(o3, 1, { gamma = 0.5 })
      local d3 = loader(1234)
      wick.randn(5)
      local c = wick.checkpoint.load(path, { model = m3, optimizer = o3, scheduler = s3, loader = d3 })
      assert.are.same({ epoch = K, step = 8, note = "warmup done", best = 0.25, final = false }, c)
      assert.are.same(s2:get_last_lr(), s3:get_last_lr())
      assert.are.equal(o2.param_groups[1].lr, o3.param_groups[1].lr)
      train(m3, o3, s3, d3, c.epoch, E, c.step)
      same_params(m1, m3)
      -- and the file was written atomically: nothing else is left in the directory
      local ls = helpers.run(("ls %q"):format(dir))
      assert.is_nil(ls:match("tmp"))
    end)
  end

  it("saves the state under the parameters' names", function()
    local m, p = make_model()
    local opt = make_opt("sgd", p)
    m(wick.randn(4, 6)):sum():backward()
    opt:step()
    local path = dir .. "/names.safetensors"
    wick.checkpoint.save(path, { model = m, optimizer = opt, epoch = 0 })
    local t, md = wick.load(path)
    assert.are.equal("wick.checkpoint", md.format)
    assert.are.equal("1", md.version)
    assert.is_not_nil(t["model.1.running_mean"])
    assert.is_not_nil(t["optimizer.state.0.weight.momentum_buffer"])
    assert.is_not_nil(t["optimizer.state.4.bias.momentum_buffer"])
    assert.are.equal("u8", t["rng.default"].dtype)
    -- without a model, state is keyed by position and restores into an optimizer alone
    local opt2 = make_opt("sgd", p)
    wick.checkpoint.save(path, { optimizer = opt })
    wick.checkpoint.load(path, { optimizer = opt2 })
    assert.are.equal(0, (opt2.state[p[1]].momentum_buffer - opt.state[p[1]].momentum_buffer):abs():max():item())
  end)

  it("restores named generators and can leave the RNG alone", function()
    local g = wick.Generator():manual_seed(5)
    local path = dir .. "/gen.safetensors"
    wick.checkpoint.save(path, { generators = { aug = g }, step = 3 })
    local want_g, want_d = wick.rand(3, { generator = g }), wick.rand(3)
    local g2 = wick.Generator():manual_seed(77)
    assert.are.same({ step = 3 }, wick.checkpoint.load(path, { generators = { aug = g2 } }))
    assert.are.same(want_g:tolist(), wick.rand(3, { generator = g2 }):tolist())
    assert.are.same(want_d:tolist(), wick.rand(3):tolist())
    local before = wick.get_rng_state()
    wick.checkpoint.load(path, { rng = false })
    assert.are.same(before:tolist(), wick.get_rng_state():tolist())
  end)

  it("raises clear errors", function()
    local m, p = make_model()
    local opt = make_opt("sgd", p)
    local path = dir .. "/err.safetensors"
    assert.has_error(function() wick.checkpoint.save(path, { model = m, epoch = {} }) end,
      "checkpoint.save: 'epoch' must be a number, a string or a boolean (got table)")
    assert.has_error(function() wick.checkpoint.save(path, { loss = wick.tensor(1.0) }) end,
      "checkpoint.save: 'loss' must be a number, a string or a boolean (got a tensor)")
    assert.has_error(function() wick.checkpoint.save(path, { generators = { a = 1 } }) end,
      "checkpoint.save: generators.a must be a wick.Generator (got number)")
    wick.save(path, { x = wick.zeros(2) })
    assert.has_error(function() wick.checkpoint.load(path, { model = m }) end,
      "checkpoint.load: '" .. path .. "' is not a wick checkpoint (no 'wick.checkpoint' metadata)")
    wick.checkpoint.save(path, { model = m, epoch = 1 })
    assert.has_error(function() wick.checkpoint.load(path, { optimizer = opt }) end,
      "checkpoint.load: '" .. path .. "' holds no optimizer state")
    assert.has_error(function() wick.checkpoint.load(path, { modle = m }) end,
      "checkpoint.load: unknown field 'modle' (expected model, optimizer, scheduler, loader, generators, strict, rng)")
    local other = nn.Sequential(nn.Linear(6, 16))
    assert.has_error(function() wick.checkpoint.load(path, { model = other }) end)
    m(wick.randn(4, 6)):sum():backward()
    opt:step()
    wick.checkpoint.save(path, { model = m, optimizer = opt })
    local m4 = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    local opt4 = make_opt("sgd", { m4[0].weight })
    assert.has_error(function() wick.checkpoint.load(path, { model = m4, optimizer = opt4 }) end,
      "checkpoint.load: optimizer group 0 has 1 parameters, the checkpoint's has 6")
    assert.has_error(function() wick.checkpoint.load(dir .. "/none.safetensors") end,
      "load: cannot open '" .. dir .. "/none.safetensors': No such file or directory")
  end)
end)
