-- Python habits that Lua reads differently: each raises a message saying what to write instead
-- (they used to fail inside wick with "attempt to index a nil value (local 'self')", "invalid
-- index of type table", or give nil silently).
local err = require("helpers").err
local nn = wick.nn

describe("Python habits", function()
  it("m.parameters() and opt.step(): call methods with ':'", function()
    local m = nn.Sequential(nn.Linear(2, 3))
    assert.are.equal("Module: call parameters with ':' (write m:parameters(), not m.parameters())",
      err(function() return m.parameters() end))
    assert.are.equal("Module: call train with ':' (write m:train(), not m.train())",
      err(function() return m.train() end))
    local opt = wick.optim.SGD(m:parameters(), { lr = 0.1 })
    assert.are.equal("Optimizer: call zero_grad with ':' (write opt:zero_grad(), not opt.zero_grad())",
      err(function() return opt.zero_grad() end))
    assert.are.equal("Optimizer: call step with ':' (write opt:step(), not opt.step())",
      err(function() return wick.optim.Adam(m:parameters()).step() end))
    -- the right spelling, on a subclass that never called Module.__init, still works
    local Net = wick.class("Net", nn.Module)
    function Net:forward(x) return x end
    assert.are.same({}, Net():parameters())
    assert.are.equal(2, #m:parameters())
  end)

  it("loss.backward() and x.item(): the same for tensor methods", function()
    local x = wick.ones(2):sum()
    assert.are.equal("Tensor: call backward with ':' (write x:backward(), not x.backward())",
      err(function() return x.backward() end))
    assert.are.equal("Tensor: call item with ':' (write x:item(), not x.item())",
      err(function() return x.item() end))
  end)

  it("x[{0, 1}]: x:index{0, 1}", function()
    local x = wick.arange(6):view(2, 3)
    assert.are.equal("Tensor: x[{...}] is not an index: write x:index{...} (x:index{0, 1} is PyTorch's x[0, 1]; x[i] takes one integer)",
      err(function() return x[{ 0, 1 }] end))
    assert.are.equal("Tensor: x[{...}] = v is not an index: write x:index_put_({...}, v) (x:index_put_({0, 1}, v) is PyTorch's x[0, 1] = v)",
      err(function() x[{ 0, 1 }] = 5 end))
    assert.are.equal(1, x:index { 0, 1 }:item())
    assert.are.same({ 3, 4, 5 }, x[1]:tolist())
  end)

  it("x.sahpe: an unknown field is an error with a suggestion, not nil", function()
    local x = wick.zeros(2, 3)
    assert.are.equal("Tensor: no field or method 'sahpe' (did you mean 'shape'?)", err(function() return x.sahpe end))
    assert.are.equal("Tensor: no field or method 'requires_gard' (did you mean 'requires_grad'?)",
      err(function() return x.requires_gard end))
    assert.are.equal("Tensor: no field or method 'numpy' (did you mean 'numel'?)", err(function() return x.numpy end))
    assert.are.equal("Tensor: no field or method 'xyzzy_plugh'", err(function() return x.xyzzy_plugh end))
    -- fields that exist are unchanged, nil ones included
    assert.are.same({ 2, 3 }, x.shape)
    assert.is_nil(x.grad)
    assert.is_nil(x.grad_fn)
    assert.is_false(x.requires_grad)
  end)
end)
