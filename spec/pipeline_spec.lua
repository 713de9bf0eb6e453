-- nn.Pipeline on CPU stages: the same outputs and gradients as the unsplit sequential model for
-- any chunk count (also counts that do not divide the batch), the GPipe clock order, and clear
-- errors for bad options. CUDA stages are covered by spec/gpu/pipeline_spec.lua.
local nn = wick.nn
local helpers = require("helpers")

local function model()
  wick.manual_seed(7)
  return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
end

local function grads(m)
  local out = {}
  for _, item in ipairs(m:named_parameters()) do out[item[1]] = item[2].grad:clone() end
  return out
end

local function max_diff(a, b) return (a - b):abs():max():item() end

describe("nn.Pipeline on cpu stages", function()
  for _, chunks in ipairs({ 1, 2, 3, 4, 7, 10 }) do
    it("matches the sequential model's output and gradients with chunks = " .. chunks, function()
      local ref = model()
      local x = wick.randn({ 7, 5 }, { requires_grad = true })
      local want = ref(x)
      want:pow(2):sum():backward()
      local want_g, want_xg = grads(ref), x.grad:clone()
      x.grad = nil

      local m = model()
      local pipe = nn.Pipeline({ m[0], m[1], m[2], m[3], m[4] },
        { chunks = chunks, devices = { "cpu", "cpu", "cpu", "cpu", "cpu" } })
      local got = pipe(x)
      assert.are.same({ 7, 3 }, got.shape)
      assert.is_true(max_diff(want, got) < 1e-6)
      got:pow(2):sum():backward()
      local got_g = grads(pipe)
      for name, g in pairs(want_g) do
        assert.is_true(max_diff(g, got_g[name]) < 1e-5, name)
      end
      assert.is_true(max_diff(want_xg, x.grad) < 1e-5)
    end)
  end

  it("takes an nn.Sequential, names parameters like it, and defaults devices to the stages'", function()
    local m = model()
    local pipe = nn.Pipeline(m, { chunks = 2 })
    assert.are.same({ "cpu", "cpu", "cpu", "cpu", "cpu" }, pipe.devices)
    local keys = {}
    for k in pairs(pipe:state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight" }, keys)
    -- the state dict of the sequential model loads into the pipeline
    local other = model()
    pipe:load_state_dict(other:state_dict())
    local x = wick.randn({ 4, 5 })
    assert.are.equal(0, max_diff(other(x), pipe(x)))
  end)

  it("runs micro-batches in GPipe's clock order: stage j takes micro-batch k - j at clock k", function()
    local log = {}
    local Tag = wick.class("Tag", nn.Module)
    function Tag:__init(name) nn.Module.__init(self) self.name = name end
    function Tag:forward(x)
      log[#log + 1] = self.name .. ":" .. x:size(0)
      return x + 0
    end
    -- batch 5 in chunks of 2, 2, 1: sizes identify micro-batches 1 and 3, not 1 and 2
    local pipe = nn.Pipeline({ Tag("a"), Tag("b") }, { chunks = 3 })
    local out = pipe(wick.arange(5):view({ 5, 1 }):float())
    assert.are.same({ 0, 1, 2, 3, 4 }, out:view({ 5 }):tolist())
    -- clock 0: a1; clock 1: b1, a2; clock 2: b2, a3; clock 3: b3
    assert.are.same({ "a:2", "b:2", "a:2", "b:2", "a:1", "b:1" }, log)
  end)

  it("uses fewer micro-batches than chunks when the batch is small", function()
    local calls = 0
    local Count = wick.class("Count", nn.Module)
    function Count:forward(x) calls = calls + 1 return x * 2 end
    local pipe = nn.Pipeline({ Count() }, { chunks = 8 })
    local out = pipe(wick.ones({ 3, 2 }))
    assert.are.equal(3, calls)
    assert.are.same({ 3, 2 }, out.shape)
  end)

  it("trains: an SGD step on the pipeline equals one on the sequential model", function()
    local ref, m = model(), model()
    local pipe = nn.Pipeline(m, { chunks = 3 })
    local x, y = wick.randn({ 9, 5 }), wick.randint(0, 3, { 9 })
    local loss_fn = nn.CrossEntropyLoss()
    for _, pair in ipairs({ { ref, ref }, { pipe, pipe } }) do
      local net = pair[1]
      local opt = wick.optim.SGD(net:parameters(), { lr = 0.1 })
      opt:zero_grad()
      loss_fn(net(x), y):backward()
      opt:step()
    end
    local a, b = ref:state_dict(), pipe:state_dict()
    for k, v in pairs(a) do assert.is_true(max_diff(v, b[k]) < 1e-6, k) end
  end)

  it("rejects bad options and inputs with clear errors", function()
    local m = model()
    assert.are.equal("Pipeline: chunks must be an integer >= 1 (got 0)",
      helpers.err(nn.Pipeline, m, { chunks = 0 }))
    assert.are.equal("Pipeline: chunks must be an integer >= 1 (got 1.5)",
      helpers.err(nn.Pipeline, m, { chunks = 1.5 }))
    assert.are.equal("Pipeline: devices has 2 entries for 5 stages (one device per stage)",
      helpers.err(nn.Pipeline, m, { devices = { "cpu", "cpu" } }))
    assert.are.equal("Pipeline: devices[2] must be a device such as \"cpu\" or \"cuda:0\" (got gpu)",
      helpers.err(nn.Pipeline, { nn.ReLU(), nn.ReLU() }, { devices = { "cpu", "gpu" } }))
    assert.are.equal("Pipeline: devices must be a list of devices, one per stage (got string)",
      helpers.err(nn.Pipeline, m, { devices = "cpu" }))
    assert.are.equal("Pipeline: unknown option 'chunk' (did you mean 'chunks'?)",
      helpers.err(nn.Pipeline, m, { chunk = 2 }))
    assert.are.equal("Pipeline: needs at least one stage", helpers.err(nn.Pipeline, {}))
    assert.are.equal("Pipeline: stage 2 is a number, not a Module", helpers.err(nn.Pipeline, { nn.ReLU(), 3 }))
    assert.are.equal("Pipeline: stages must be a list of modules or an nn.Sequential (got string)",
      helpers.err(nn.Pipeline, "x"))
    local pipe = nn.Pipeline(m, { chunks = 2 })
    assert.are.equal("Pipeline: the input batch is empty", helpers.err(pipe, wick.zeros({ 0, 5 })))
    assert.are.equal("Pipeline: expected a tensor input (got number)", helpers.err(pipe, 3))
    assert.are.equal("Pipeline: the input must have a batch dimension (got a 0-dim tensor)",
      helpers.err(pipe, wick.tensor(1.0)))
    local msg = helpers.err(pipe, wick.zeros({ 4, 6 }))
    assert.is_truthy(msg:find("^Pipeline: stage 1 %(Linear%) on cpu, micro%-batch 1: "), msg)
    local Bad = wick.class("Bad", nn.Module)
    function Bad:forward() return 42 end
    assert.are.equal("Pipeline: stage 1 (Bad) returned a number; a stage must return one tensor",
      helpers.err(nn.Pipeline({ Bad() }), wick.zeros({ 2, 2 })))
  end)

  it("names the missing CUDA device when a stage cannot move there", function()
    if wick.cuda.is_available() then
      pending("this build has a CUDA device; spec/gpu/pipeline_spec.lua covers it")
      return
    end
    local msg = helpers.err(nn.Pipeline, { nn.Linear(2, 2), nn.Linear(2, 2) }, { devices = { "cpu", "cuda:0" } })
    assert.is_truthy(msg:find("^Pipeline: moving stage 2 to cuda:0: "), msg)
  end)
end)
