-- Loss modules and nn.functional losses against PyTorch, and their gradients.
local nn = wick.nn
local F = nn.functional
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "spec/nn/") .. "helpers.lua")
local fx, near, L = H.fx, H.near, H.ref.loss

local function logits() return fx({ 4, 5 }, 0.9) * 2 end
local function target() return wick.tensor({ 1, 0, 4, 2 }) end
local function w() return wick.tensor({ 1.0, 2.0, 0.5, 1.5, 3.0 }, { dtype = "f64" }) end
local function p() return fx({ 3, 4 }, 0.61) end
local function t() return fx({ 3, 4 }, 1.3):sigmoid() end
local function pw() return wick.tensor({ 0.5, 1.0, 2.0, 3.0 }, { dtype = "f64" }) end

describe("CrossEntropyLoss", function()
  it("matches PyTorch for each reduction, class weights, ignore_index and label smoothing", function()
    near(nn.CrossEntropyLoss()(logits(), target()), L.ce)
    near(nn.CrossEntropyLoss({ reduction = "sum" })(logits(), target()), L.ce_sum)
    near(nn.CrossEntropyLoss({ reduction = "none" })(logits(), target()), L.ce_none)
    near(nn.CrossEntropyLoss({ weight = w() })(logits(), target()), L.ce_weight)
    near(nn.CrossEntropyLoss()(logits(), wick.tensor({ 1, -100, 4, 2 })), L.ce_ignore)
    near(nn.CrossEntropyLoss({ ignore_index = 2 })(logits(), target()), L.ce_ignore2)
    near(nn.CrossEntropyLoss({ label_smoothing = 0.1 })(logits(), target()), L.ce_ls)
  end)

  it("gives PyTorch's gradient with weights and label smoothing, and passes gradcheck", function()
    local x = logits():requires_grad_()
    local loss = nn.CrossEntropyLoss({ weight = w(), label_smoothing = 0.1 })
    local l = loss(x, target())
    near(l, L.ce_ls_weight)
    l:backward()
    near(x.grad, L.ce_ls_weight_grad)
    assert.is_true(wick.autograd.gradcheck(function(a) return loss(a, target()) end, { x }))
  end)

  it("keeps its class weights as a buffer", function()
    local loss = nn.CrossEntropyLoss({ weight = w() })
    assert.are.same({ "weight" }, loss:state_dict():keys())
    assert.are.equal(0, #loss:parameters())
    assert.has_error(function() nn.CrossEntropyLoss({ reduction = "avg" }) end,
      "CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none' (got 'avg')")
    assert.has_error(function() nn.CrossEntropyLoss({ label_smothing = 0.1 }) end,
      "CrossEntropyLoss: unknown option 'label_smothing' (did you mean 'label_smoothing'?)")
  end)
end)

describe("NLLLoss", function()
  it("matches PyTorch on log-probabilities", function()
    near(nn.NLLLoss()(F.log_softmax(logits(), 1), target()), L.nll)
    near(nn.NLLLoss({ weight = w(), reduction = "sum" })(F.log_softmax(logits(), 1), target()), L.nll_weight_sum)
  end)
end)

describe("MSELoss, L1Loss, BCEWithLogitsLoss", function()
  it("match PyTorch", function()
    near(nn.MSELoss()(p(), t()), L.mse)
    near(nn.MSELoss({ reduction = "sum" })(p(), t()), L.mse_sum)
    near(nn.L1Loss()(p(), t()), L.l1)
    near(nn.L1Loss({ reduction = "none" })(p(), t()), L.l1_none)
    near(nn.BCEWithLogitsLoss()(p(), t()), L.bce)
    near(nn.BCEWithLogitsLoss({ pos_weight = pw() })(p(), t()), L.bce_pos)
    near(nn.BCEWithLogitsLoss({ weight = pw(), reduction = "sum" })(p(), t()), L.bce_weight_sum)
  end)

  it("pass gradcheck", function()
    local x = p():requires_grad_()
    for _, loss in ipairs({ nn.MSELoss(), nn.L1Loss({ reduction = "sum" }), nn.BCEWithLogitsLoss({ pos_weight = pw() }) }) do
      assert.is_true(wick.autograd.gradcheck(function(a) return loss(a, t()) end, { x }))
    end
  end)
end)

describe("nn.functional", function()
  it("has the functional forms of the losses and layers", function()
    near(F.cross_entropy(logits(), target(), { label_smoothing = 0.1 }), L.ce_ls)
    near(F.nll_loss(F.log_softmax(logits(), 1), target()), L.nll)
    near(F.mse_loss(p(), t()), L.mse)
    near(F.l1_loss(p(), t(), { reduction = "none" }), L.l1_none)
    near(F.binary_cross_entropy_with_logits(p(), t(), { pos_weight = pw() }), L.bce_pos)
    local x = fx({ 2, 5 }, 0.9) * 3
    near(F.relu(x), H.ref.act.relu)
    near(F.gelu(x, { approximate = "tanh" }), H.ref.act.gelu_tanh)
    near(F.leaky_relu(x, 0.2), H.ref.act.leaky_relu)
    near(F.softmax(x, 1), H.ref.act.softmax1)
    near(F.linear(fx({ 4, 5 }, 0.23, 0.1), fx({ 3, 5 }), fx({ 3 }, 0.5, 1.0)), H.ref.linear.out)
    near(F.max_pool2d(fx({ 1, 2, 5, 5 }, 0.77), 3, { stride = 2, padding = 1 }), H.ref.pool.max3s2p1)
    assert.are.equal(x, F.dropout(x, 0.5, false))
    assert.are.equal(x, F.dropout(x, { p = 0.9, training = false }))
    assert.are.equal(0, F.dropout(x, 1.0):abs():sum():item())
    assert.has_error(function() F.dropout(x, { q = 1 }) end, "dropout: unknown option 'q' (did you mean 'p'?)")
  end)
end)
