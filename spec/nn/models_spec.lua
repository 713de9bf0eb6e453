-- wick.models (small_cnn, mlp) against torch.nn.Sequential's names, shapes and numbers;
-- containers; summary(); and a few hand-written SGD steps that reduce a loss.
local nn = wick.nn
local F = nn.functional
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "spec/nn/") .. "helpers.lua")
local M = H.ref.models

local function keys_shapes(m)
  local out = {}
  for k, v in pairs(m:state_dict()) do out[#out + 1] = { k, v.shape } end
  return out
end

describe("wick.models", function()
  it("small_cnn has torch.nn.Sequential's parameter names and shapes", function()
    assert.are.same(M.small_cnn_keys, keys_shapes(wick.models.small_cnn({ num_classes = 10 })))
    local m = wick.models.small_cnn({ num_classes = 5 })
    assert.are.same({ 5, 128 }, m[9].weight.shape)
  end)

  it("mlp has the names of a torch.nn.Sequential of Linear/ReLU and flattens its input", function()
    local m = wick.models.mlp({ 784, 256, 128, 10 })
    assert.are.same(M.mlp_keys, keys_shapes(m))
    assert.are.same({ 3, 10 }, m(wick.zeros(3, 1, 28, 28)).shape)
    assert.are.same({ 3, 10 }, m(wick.zeros(3, 784)).shape)
    local g = wick.models.mlp({ 4, 3, 2, activation = "gelu", dropout = 0.1 })
    assert.are.same({ "Linear", "GELU", "Dropout", "Linear" }, (function()
      local t = {}
      for c in g:children() do t[#t + 1] = c:type_name() end
      return t
    end)())
    assert.has_error(function() wick.models.mlp({ 4 }) end, "mlp: expected layer sizes {in, hidden..., out} (at least two)")
  end)

  it("a seeded small_cnn computes PyTorch's outputs, loss and gradients", function()
    wick.manual_seed(0)
    local m = wick.models.small_cnn({ num_classes = 10 })
    local out = m(H.fx({ 2, 1, 28, 28 }, 0.01, 0, "f32"))
    H.near(out, M.small_cnn_out, 1e-4)
    local loss = F.cross_entropy(out, wick.tensor({ 3, 7 }))
    H.near(loss:item(), M.small_cnn_loss, 1e-5)
    loss:backward()
    for i, p in ipairs(m:parameters()) do
      H.near(p:double():sum():item(), M.small_cnn_param_sums[i], 1e-5, "param " .. i)
      H.near(p.grad:double():sum():item(), M.small_cnn_grad_sums[i], 1e-4, "grad sum " .. i)
      H.near(p.grad:double():abs():sum():item(), M.small_cnn_grad_abs[i], 1e-4, "grad abs " .. i)
    end
  end)
end)

describe("containers", function()
  it("Sequential indexes 0-based, appends, and names the child that failed", function()
    local seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    assert.are.equal(2, #seq)
    assert.are.equal("Linear", seq[0]:type_name())
    assert.are.equal("ReLU", seq[-1]:type_name())
    seq:append(nn.Linear(3000, 128))
    assert.are.equal(seq[2], seq["2"])
    assert.has_error(function() return seq[3] end, "Sequential: index 3 is out of range (3 modules)")
    assert.has_error(function() seq(wick.zeros(64, 4)) end,
      "Sequential[2] (Linear): matmul: shapes [64, 3] and [3000, 128] cannot be multiplied (3 != 3000)")
    seq[2] = nn.Linear(3, 2)
    assert.are.same({ 64, 2 }, seq(wick.zeros(64, 4)).shape)
    local outer = nn.Sequential(nn.Identity(), nn.Sequential(nn.ReLU(), nn.Linear(5, 1)))
    assert.has_error(function() outer(wick.zeros(2, 3)) end,
      "Sequential[1] (Sequential): Sequential[1] (Linear): matmul: shapes [2, 3] and [5, 1] cannot be multiplied (3 != 5)")
    assert.are.same({ "1", "2" }, (function()
      local t = {}
      for name in seq:slice(1):named_children() do t[#t + 1] = name end
      return t
    end)())
  end)

  it("Sequential's error keeps the traceback of the child that raised it", function()
    local run = require("wick_run")
    local dir = run.tmpdir()
    local script = dir .. "/seq_error.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local nn = wick.nn
local Bad = wick.class("Bad", nn.Module)
function Bad:forward(x)
  local y = x:matmul(wick.zeros(5, 1))
  return y
end
local seq = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.ReLU(), Bad()))
seq(wick.zeros(2, 4))
]])
    f:close()
    local r = run.run({ script })
    run.rmdir(dir)
    assert.are.equal(1, r.code)
    local first, tb = r.err:match("^([^\n]*)\n(.*)$")
    assert.are.equal("wick: Sequential[1] (Sequential): Sequential[1] (Bad): matmul: shapes [2, 3] and [5, 1] cannot be multiplied (3 != 5)", first)
    assert.matches("^stack traceback:\n\t%[C%]: in function '[%w%.]*matmul'\n\t[^\n]*seq_error%.lua:4: in function", tb)
    assert.matches("seq_error%.lua:8: in main chunk", tb)
  end)

  it("Sequential takes named children in order", function()
    local seq = nn.Sequential({ { "conv", nn.Conv2d(1, 2, 3) }, { "act", nn.ReLU() } })
    assert.are.same({ "conv.weight", "conv.bias" }, seq:state_dict():keys())
    assert.are.equal(seq.conv, seq[0])
  end)

  it("ModuleList appends, inserts and pops, renumbering its children", function()
    local l = nn.ModuleList({ nn.Linear(1, 1), nn.Linear(2, 2) })
    l:append(nn.Linear(3, 3))
    l:insert(0, nn.Linear(4, 4))
    assert.are.equal(4, #l)
    assert.are.equal(4, l[0].in_features)
    assert.are.equal(3, l[-1].in_features)
    assert.are.equal("3.weight", l:state_dict():keys()[7])
    local popped = l:pop(1)
    assert.are.equal(1, popped.in_features)
    assert.are.equal(2, l[1].in_features)
    assert.has_error(function() l:forward() end, "ModuleList: missing the required forward function")
  end)

  it("ModuleDict keeps names (sorted from a map, in order from pairs)", function()
    local d = nn.ModuleDict({ fc = nn.Linear(2, 2), act = nn.ReLU() })
    assert.are.same({ "act", "fc" }, d:keys())
    d.head = nn.Linear(2, 1)
    assert.are.equal(3, #d)
    assert.is_true(d:contains("head"))
    assert.are.same({ "fc.weight", "fc.bias", "head.weight", "head.bias" }, d:state_dict():keys())
    local o = nn.ModuleDict({ { "z", nn.ReLU() }, { "a", nn.Tanh() } })
    assert.are.same({ "z", "a" }, o:keys())
    assert.are.equal("Tanh", o:pop("a"):type_name())
  end)
end)

describe("summary", function()
  it("records output shapes and counts trainable and frozen parameters", function()
    local m = wick.models.small_cnn({})
    m:freeze("0")
    local s = m:summary({ 1, 1, 28, 28 }, { print = false })
    assert.are.equal(421642, s.total_params)
    assert.are.equal(320, s.frozen_params)
    assert.are.equal(421322, s.trainable_params)
    assert.are.equal("[1, 10]", s.output_shape)
    assert.are.equal(11, #s.rows)
    assert.are.equal("0", s.rows[2].name)
    assert.are.equal("Conv2d", s.rows[2].type)
    assert.are.equal("[1, 32, 28, 28]", s.rows[2].output_shape)
    assert.are.equal(320, s.rows[2].params)
    assert.are.equal(0, s.rows[2].trainable)
    assert.are.equal("[1, 3136]", s.rows[8].output_shape)
    local text = tostring(s)
    assert.truthy(text:find("Total params: 421,642", 1, true))
    assert.truthy(text:find("  0 (Conv2d)", 1, true))
    -- the forward ran in eval mode and left the modes and running statistics alone
    assert.is_true(m.training)
  end)

  it("depth = 1: a block at the limit counts the parameters of its children (as torchinfo)", function()
    local m = wick.models.resnet18 { num_classes = 10 }
    m.layer1:requires_grad_(false)
    local s = m:summary({ depth = 1, print = false })
    local rows = {}
    for _, r in ipairs(s.rows) do rows[r.name] = r end
    assert.are.same({ 147968, 0 }, { rows.layer1.params, rows.layer1.trainable })
    assert.are.same({ 8393728, 8393728 }, { rows.layer4.params, rows.layer4.trainable })
    assert.are.equal(0, rows[""].params) -- the root's rows are shown: its own parameters only
    assert.truthy(tostring(s):find("  layer1 (Sequential)                   --                      147,968     no\n", 1, true))
    -- without a depth limit every module shows its own parameters only
    local full = m:summary({ print = false })
    assert.are.equal(0, full.rows[6].params)
    assert.are.equal("layer1", full.rows[6].name)
  end)

  it("runs in eval mode without touching BatchNorm's statistics", function()
    local m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    m:summary({ 2, 3 }, { print = false })
    assert.are.equal(0, m[1].num_batches_tracked:item())
    assert.is_true(m[1].training)
  end)
end)

describe("training", function()
  it("a few SGD steps by hand reduce the loss on a toy problem", function()
    wick.manual_seed(1)
    local x = wick.randn(64, 2)
    local y = x:select(1, 0):gt(x:select(1, 1)):long() -- class 1 when x0 > x1
    local model = wick.models.mlp({ 2, 16, 2 })
    local lr = 0.5
    local function step()
      model:zero_grad()
      local loss = F.cross_entropy(model(x), y)
      loss:backward()
      wick.no_grad(function()
        for p in model:parameters() do p.data = p - lr * p.grad end
      end)
      return loss:item()
    end
    local first = step()
    local last
    for _ = 1, 30 do last = step() end
    assert.is_true(last < 0.5 * first, ("loss went from %g to %g"):format(first, last))
  end)
end)
