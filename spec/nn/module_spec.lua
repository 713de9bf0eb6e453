-- nn.Module: registration, PyTorch's dotted names, traversal, train/eval, freezing, :to,
-- hooks, printing, and wick.class.
local nn = wick.nn

local function Net()
  local Net = wick.class("Net", nn.Module)
  function Net:__init()
    nn.Module.__init(self)
    self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
    self.bn = nn.BatchNorm1d(8)
    self.fc = nn.Linear(8, 3)
  end
  function Net:forward(x) return self.fc(self.bn(self.features(x))) end
  return Net()
end

local function names(pairs_list)
  local out = {}
  for i, item in ipairs(pairs_list) do out[i] = item[1] end
  return out
end

describe("wick.class", function()
  it("builds instances, runs __init, inherits methods and metamethods", function()
    local A = wick.class("A")
    function A:__init(x) self.x = x end
    function A:get() return self.x end
    A.__tostring = function(a) return "A(" .. a.x .. ")" end
    local B = wick.class("B", A)
    function B:__init(x, y) A.__init(self, x); self.y = y end
    local b = B(1, 2)
    assert.are.equal(1, b:get())
    assert.are.equal(2, b.y)
    assert.are.equal("A(1)", tostring(b))
    assert.is_true(wick.class.isinstance(b, A))
    assert.is_true(wick.class.isinstance(b, B))
    assert.is_false(wick.class.isinstance(A(1), B))
    assert.is_false(wick.class.isinstance(wick.zeros(1), A))
    assert.are.equal("class B", tostring(B))
  end)

  it("rejects a parent that is not a class", function()
    assert.has_error(function() wick.class("C", {}) end, "class: parent of C is not a class")
  end)
end)

describe("nn.Module registration", function()
  it("names parameters with PyTorch's dotted paths, in registration order", function()
    local net = Net()
    assert.are.same({ "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                      "bn.weight", "bn.bias", "fc.weight", "fc.bias" }, names(net:named_parameters()))
    assert.are.same({ "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" }, names(net:named_buffers()))
    assert.are.equal("i64", net.bn.num_batches_tracked.dtype)
    assert.are.equal(0, net.bn.num_batches_tracked:dim())
  end)

  it("named_parameters is a list of {name, tensor} and an iterator", function()
    local net = Net()
    local list = net:named_parameters()
    assert.are.equal(8, #list)
    assert.are.equal("fc.bias", list[8][1])
    local seen = {}
    for name, p in net:named_parameters() do
      seen[#seen + 1] = name
      assert.is_true(wick.is_tensor(p))
    end
    assert.are.same(names(list), seen)
    -- break and a second loop over the same list
    for name in list do if name == "bn.weight" then break end end
    local n = 0
    for _ in list do n = n + 1 end
    assert.are.equal(8, n)
  end)

  it("parameters returns the same tensor objects every call, as a list and an iterator", function()
    local net = Net()
    local a, b = net:parameters(), net:parameters()
    assert.are.equal(8, #a)
    for i = 1, #a do assert.are.equal(a[i], b[i]) end
    assert.are.equal(net.fc.weight, a[7])
    local n = 0
    for p in net:parameters() do n = n + 1; assert.are.equal(a[n], p) end
    assert.are.equal(8, n)
  end)

  it("parameters and named_parameters take glob patterns", function()
    local net = Net()
    assert.are.same({ "fc.weight", "fc.bias" }, names(net:named_parameters("fc.*")))
    assert.are.same({ "fc.weight", "fc.bias" }, names(net:named_parameters("fc")))
    assert.are.same({ "features.0.bias", "features.2.bias", "bn.bias", "fc.bias" }, names(net:named_parameters("*.bias")))
    assert.are.equal(2, #net:parameters("features.2"))
    assert.are.equal(4, #net:parameters("bn.*", "fc.*"))
    assert.has_error(function() net:parameters("layer9.*") end, "parameters: pattern 'layer9.*' matches no parameter (names start with: features, bn, fc)")
  end)

  it("assigning a Module to a field registers it; reassigning replaces it in place", function()
    local net = Net()
    net.fc = nn.Linear(8, 5)
    assert.are.same({ "features", "bn", "fc" }, names(net:named_children()))
    assert.are.same({ 5, 8 }, net:state_dict()["fc.weight"].shape)
    net.head = nn.Linear(5, 2)
    assert.are.equal("head.bias", names(net:named_parameters())[10])
    net.head = nil
    assert.are.equal(8, #net:parameters())
    assert.is_nil(net.head)
  end)

  it("registers nn.Parameter tensors as parameters, other tensors as plain attributes", function()
    local m = nn.Module()
    m.w = nn.Parameter(wick.zeros(2))
    m.frozen = nn.Parameter(wick.ones(3), false)
    m.plain = wick.ones(4)
    m.input = wick.ones(2):requires_grad_() -- e.g. an input cached in forward
    m.n = 3
    assert.are.same({ "w", "frozen" }, names(m:named_parameters()))
    assert.is_true(m.w.requires_grad)
    assert.is_true(m.input.requires_grad)
    m.w = wick.ones(2) -- an existing parameter name: replaced, still a parameter
    assert.are.same({ "w", "frozen" }, names(m:named_parameters()))
    assert.are.equal(2, m.w:sum():item())
    assert.is_false(m.frozen.requires_grad)
    assert.are.equal(4, m.plain:numel())
    assert.are.equal(3, m.n)
    m:register_buffer("stat", wick.zeros(2))
    m:register_buffer("tmp", wick.zeros(2), { persistent = false })
    assert.are.same({ "stat", "tmp" }, names(m:named_buffers()))
    assert.are.same({ "w", "frozen", "stat" }, m:state_dict():keys())
    m.stat = wick.ones(2) -- replaces the buffer
    assert.are.equal(2, m:state_dict().stat:sum():item())
  end)

  it("raises clear errors on bad assignments", function()
    local lin = nn.Linear(2, 2)
    assert.has_error(function() lin.weight = 3 end,
      "Linear: cannot assign a number as parameter 'weight' (expected a tensor or nil)")
    local seq = nn.Sequential(nn.Linear(2, 2))
    assert.has_error(function() seq:add_module("a.b", nn.ReLU()) end,
      "Sequential: module name can't be empty or contain \".\" (got \"a.b\")")
    local x = wick.ones(2):requires_grad_()
    assert.has_error(function() lin:register_parameter("p", x * 2) end,
      "Linear: cannot assign a non-leaf tensor as parameter 'p' (parameters must be leaves: use t:detach())")
    assert.has_error(function() nn.Module()(1) end, "Module: missing the required forward function")
  end)

  it("shares a module used twice once, under its first name", function()
    local shared = nn.Linear(2, 2)
    local seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert.are.equal(2, #seq:parameters())
    assert.are.same({ "", "0", "1" }, names(seq:named_modules()))
    assert.are.equal(3, #seq:children())
  end)
end)

describe("nn.Module traversal and modes", function()
  it("children, modules and apply walk in order; apply visits children first", function()
    local net = Net()
    assert.are.equal(3, #net:children())
    assert.are.same({ "", "features", "features.0", "features.1", "features.2", "bn", "fc" }, names(net:named_modules()))
    local order = {}
    net:apply(function(m) order[#order + 1] = m:type_name() end)
    assert.are.same({ "Linear", "ReLU", "Linear", "Sequential", "BatchNorm1d", "Linear", "Net" }, order)
  end)

  it("get_submodule and get_parameter follow dotted paths", function()
    local net = Net()
    assert.are.equal(net.features[2], net:get_submodule("features.2"))
    assert.are.equal(net, net:get_submodule(""))
    assert.are.equal(net.fc.bias, net:get_parameter("fc.bias"))
    assert.has_error(function() net:get_submodule("features.7") end,
      "get_submodule: Sequential has no attribute '7' (in 'features.7')")
    assert.has_error(function() net:get_parameter("fc.scale") end, "get_parameter: Linear has no parameter 'scale'")
  end)

  it("train() and eval() set training on every module", function()
    local net = Net()
    assert.is_true(net.bn.training)
    assert.are.equal(net, net:eval())
    for m in net:modules() do assert.is_false(m.training) end
    net:train()
    for m in net:modules() do assert.is_true(m.training) end
    net:train(false)
    assert.is_false(net.features[0].training)
  end)

  it("zero_grad drops gradients, or zeroes them with set_to_none = false", function()
    local lin = nn.Linear(3, 2)
    local y = lin(wick.ones(4, 3))
    y:backward(wick.ones(4, 2))
    assert.are.equal(4, lin.bias.grad[0]:item())
    lin:zero_grad({ set_to_none = false })
    assert.are.equal(0, lin.bias.grad[0]:item())
    lin:zero_grad()
    assert.is_nil(lin.bias.grad)
  end)
end)

describe("freezing", function()
  it("freeze/unfreeze take glob patterns; no argument means all", function()
    local net = Net()
    net:freeze("features.*", "*.bias")
    local frozen = {}
    for name, p in net:named_parameters() do
      if not p.requires_grad then frozen[#frozen + 1] = name end
    end
    assert.are.same({ "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "bn.bias", "fc.bias" }, frozen)
    net:unfreeze("features.2")
    assert.is_true(net.features[2].weight.requires_grad)
    net:freeze()
    for p in net:parameters() do assert.is_false(p.requires_grad) end
    net:unfreeze()
    for p in net:parameters() do assert.is_true(p.requires_grad) end
    assert.has_error(function() net:freeze("layer1.*") end, "freeze: pattern 'layer1.*' matches no parameter (names start with: features, bn, fc)")
  end)

  it("requires_grad_ sets every parameter; a frozen parameter gets no gradient", function()
    local lin = nn.Linear(2, 2)
    lin:requires_grad_(false)
    assert.is_false(lin.weight.requires_grad)
    lin:requires_grad_(true)
    lin:freeze("weight")
    lin(wick.ones(1, 2)):backward(wick.ones(1, 2))
    assert.is_nil(lin.weight.grad)
    assert.is_not_nil(lin.bias.grad)
  end)
end)

describe("Module:to", function()
  it("converts floating parameters and buffers in place, keeping the tensor objects", function()
    local net = Net()
    local params = net:parameters()
    local w = net.fc.weight
    local before = w:double()
    net:to("f64")
    assert.are.equal("f64", w.dtype)
    assert.are.equal(w, net:parameters()[7])
    for i, p in ipairs(net:parameters()) do assert.are.equal(params[i], p) end
    assert.is_true(wick.equal(before, w))
    assert.are.equal("f64", net.bn.running_var.dtype)
    assert.are.equal("i64", net.bn.num_batches_tracked.dtype)
    assert.is_true(w.requires_grad)
    net:float()
    assert.are.equal("f32", w.dtype)
    net:to({ dtype = wick.float64 })
    assert.are.equal("f64", net.bn.weight.dtype)
    assert.has_error(function() net:to("i64") end, "to: nn.Module.to only accepts floating point dtypes (got i64)")
  end)

  it("converts existing gradients along, and a later backward accumulates in the new dtype", function()
    local lin = nn.Linear(2, 2)
    lin(wick.ones(1, 2)):backward(wick.ones(1, 2))
    lin:double()
    assert.are.equal("f64", lin.bias.grad.dtype)
    lin(wick.ones(1, 2, { dtype = "f64" })):backward(wick.ones(1, 2, { dtype = "f64" }))
    assert.are.same({ 2, 2 }, lin.bias.grad:tolist())
    assert.are.equal("f32", lin:to(wick.zeros(1)).weight.dtype)
  end)
end)

describe("forward hooks", function()
  it("see inputs and outputs, may replace them, and can be removed", function()
    local lin = nn.Linear(2, 2)
    local seen
    local h = lin:register_forward_hook(function(m, args, out) seen = { m, args[1], out } end)
    local x = wick.ones(1, 2)
    local y = lin(x)
    assert.are.equal(lin, seen[1])
    assert.are.equal(x, seen[2])
    assert.are.equal(y, seen[3])
    h.remove()
    local h2 = lin:register_forward_hook(function() return wick.zeros(7) end)
    assert.are.equal(7, lin(x):numel())
    h2.remove()
    assert.are.equal(2, lin(x):numel())
  end)
end)

describe("printing", function()
  it("prints like PyTorch's repr", function()
    local net = Net()
    assert.are.equal(table.concat({
      "Net(",
      "  (features): Sequential(",
      "    (0): Linear(in_features=4, out_features=8, bias=true)",
      "    (1): ReLU()",
      "    (2): Linear(in_features=8, out_features=8, bias=true)",
      "  )",
      "  (bn): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)",
      "  (fc): Linear(in_features=8, out_features=3, bias=true)",
      ")" }, "\n"), tostring(net))
    assert.are.equal("Conv2d(3, 8, kernel_size={3, 3}, stride={2, 2}, padding={1, 1}, bias=false)",
      tostring(nn.Conv2d(3, 8, 3, { stride = 2, padding = 1, bias = false })))
    assert.are.equal("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)", tostring(nn.MaxPool2d(2)))
    assert.are.equal("Dropout(p=0.2, inplace=false)", tostring(nn.Dropout(0.2)))
    assert.are.equal("GELU(approximate='tanh')", tostring(nn.GELU({ approximate = "tanh" })))
    assert.are.equal("Embedding(10, 3, padding_idx=0)", tostring(nn.Embedding(10, 3, { padding_idx = 0 })))
    assert.are.equal("LayerNorm({10}, eps=1e-05, elementwise_affine=true)", tostring(nn.LayerNorm(10)))
  end)
end)
