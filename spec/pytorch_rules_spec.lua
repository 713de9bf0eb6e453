-- PyTorch 1.13's dtype rules and options that spec/diff_torch_spec.lua found wick missing:
-- div's rounding_mode, round's decimals, clamp/where/add-alpha/mse_loss promotion and the
-- errors PyTorch raises, each with its message word for word.
local wick = require("wick")
local err = require("helpers").err
local F = wick.nn.functional

local function strip(msg) return (tostring(msg):gsub("^[^:]*:%d+: ", "")) end

describe("PyTorch's rules for elementwise ops", function()
  it("div takes rounding_mode 'trunc' and 'floor' and keeps integer dtypes", function()
    local a, b = wick.tensor{7, -7, 5}, wick.tensor{2, 2, -3}
    local t = wick.div(a, b, {rounding_mode = "trunc"})
    assert.are.equal("i64", t.dtype)
    assert.are.same({3, -3, -1}, t:tolist())
    assert.are.same({3, -4, -2}, a:div(b, {rounding_mode = "floor"}):tolist())
    assert.are.same({3.5, -3.5, 5 / -3}, wick.div(a, b:double(), {}):tolist())
    local f = wick.tensor{7.5, -7.5}:div(2, {rounding_mode = "trunc"})
    assert.are.equal("f32", f.dtype)
    assert.are.same({3, -3}, f:tolist())
    assert.are.equal("ZeroDivisionError: integer division by zero",
      strip(err(wick.div, a, wick.tensor{1, 0, 1}, {rounding_mode = "trunc"})))
    assert.are.equal("div: expected rounding_mode to be one of nil, 'trunc', or 'floor' but found 'round'",
      strip(err(wick.div, a, b, {rounding_mode = "round"})))
    assert.are.equal("div: unknown option 'mode' (expected rounding_mode)",
      strip(err(wick.div, a, b, {mode = "trunc"})))
    local c = wick.tensor{7, -7}
    c:div_(2, {rounding_mode = "floor"})
    assert.are.same({3, -4}, c:tolist())
    assert.are.equal("div_: result type f32 can't be cast to the desired output type i64",
      strip(err(function() return c:div_(2, {rounding_mode = nil}) end)))
  end)

  it("round takes decimals, and refuses integers then", function()
    assert.are.same({3.4000000953674316}, wick.tensor{3.389}:round{decimals = 1}:tolist())
    assert.are.same({1200, -0.0}, wick.tensor{1250.0, -2.5}:round{decimals = -2}:tolist())
    assert.are.same({2, 4}, wick.tensor{2.5, 3.5}:round():tolist()) -- half to even
    assert.are.equal("round: not implemented for 'Long'", strip(err(wick.round, wick.tensor{1}, {decimals = 1})))
  end)

  it("clamp promotes like PyTorch and takes tensor bounds", function()
    local c = wick.clamp(wick.tensor{1, 5, 0}, 0.5, 2.5)
    assert.are.equal("f32", c.dtype)
    assert.are.same({1, 2.5, 0.5}, c:tolist())
    assert.are.equal("i64", wick.tensor{true, false}:clamp(0, 2).dtype)
    assert.are.same({255, 255}, wick.tensor({7, 0}, {dtype = "u8"}):clamp(-1):tolist()) -- -1 wraps to 255
    assert.are.same({1, 2, 2}, wick.tensor{0, 2, 7}:clamp(wick.tensor{1, 1, 1}, wick.tensor{3, 3, 2}):tolist())
    assert.are.equal("clamp_: result type f32 can't be cast to the desired output type i64",
      strip(err(function() return wick.tensor{1}:clamp_(0.5) end)))
    assert.are.equal("clamp: at least one of 'min' or 'max' must not be nil", strip(err(wick.clamp, wick.ones(1))))
  end)

  it("where with two numbers gives PyTorch's default dtypes", function()
    local c = wick.tensor{true, false}
    assert.are.equal("f32", wick.where(c, 1.5, 2.5).dtype)
    assert.are.equal("i64", wick.where(c, 1, 2).dtype)
    assert.are.equal("f32", wick.where(c, 1, 2.5).dtype)
  end)

  it("add/sub alpha: computed in the result dtype, bool stays bool, float alpha needs floats", function()
    local b = wick.tensor{true, false}
    local r = wick.add(b, b, {alpha = 2})
    assert.are.equal("bool", r.dtype)
    assert.are.same({true, false}, r:tolist())
    local s = wick.sub(wick.tensor{1.5}, wick.tensor({255}, {dtype = "u8"}), {alpha = -1})
    assert.are.same({256.5}, s:tolist())
    assert.are.equal("add: for integral input tensors, argument alpha must not be a floating point number",
      strip(err(wick.add, wick.tensor{1}, wick.tensor{2}, {alpha = 0.5})))
    assert.are.equal("sub: subtraction with a bool tensor is not supported; use logical_not to invert a mask",
      strip(err(function() return b - 1 end)))
    assert.are.equal("sub: subtraction with a bool tensor is not supported; use logical_not to invert a mask",
      strip(err(wick.sub, wick.tensor{1}, b, {alpha = 2})))
  end)

  it("raises where PyTorch's kernels are not implemented for a dtype", function()
    local i, b = wick.tensor{1, -2}, wick.tensor{true}
    assert.are.equal("gelu: not implemented for 'Long'", strip(err(F.gelu, i)))
    assert.are.equal("silu: not implemented for 'Int'", strip(err(F.silu, i:int())))
    assert.are.equal("softplus: not implemented for 'Byte'", strip(err(F.softplus, wick.tensor({1}, {dtype = "u8"}))))
    assert.are.equal("leaky_relu: not implemented for 'Long'", strip(err(F.leaky_relu, i)))
    assert.are.equal("relu: Boolean inputs not supported for relu", strip(err(wick.relu, b)))
    assert.are.equal("floor: not implemented for 'Bool'", strip(err(wick.floor, b)))
    assert.are.equal("ceil: not implemented for 'Bool'", strip(err(wick.ceil, b)))
    assert.are.equal("abs: not implemented for 'Bool'", strip(err(wick.abs, b)))
    assert.are.equal("pow: not implemented for 'Bool'", strip(err(wick.pow, b, b)))
    assert.are.equal("pow: integers to negative integer powers are not allowed", strip(err(wick.pow, i, -1)))
    assert.are.same({1, 4}, wick.pow(i, 2):tolist())
    assert.are.equal("i64", wick.square(b).dtype)
    assert.are.same({1, 1}, wick.floor(i):abs():clamp(0, 1):tolist()) -- integers are fine
  end)

  it("index_put_ refuses a value tensor of another dtype", function()
    local x = wick.zeros(3)
    assert.are.equal("index_put_: index put requires the source and destination dtypes match, got f32 for the destination and i64 for the source",
      strip(err(function() return x:index_put_({wick.tensor{0, 2}}, wick.tensor{1, 2}) end)))
    x:index_put_({wick.tensor{0, 2}}, 5)                      -- numbers convert
    x:index_put_({x:gt(0)}, wick.tensor(1.0, {dtype = "f64"})) -- as does a 0-d value through one mask
    assert.are.same({1, 0, 1}, x:tolist())
  end)

  it("mse_loss and l1_loss promote input and target", function()
    local x, t = wick.tensor{1.0, 2.0}, wick.tensor({1.5, 4.0}, {dtype = "f64"})
    local l = F.mse_loss(x, t)
    assert.are.equal("f64", l.dtype)
    assert.are.equal((0.25 + 4) / 2, l:item())
    assert.are.equal("f32", F.l1_loss(wick.tensor{1, 5}, wick.tensor{1.5, 2.0}).dtype)
    assert.are.same({3, 3}, F.l1_loss(wick.tensor{1, 5}, wick.tensor{4, 2}, {reduction = "none"}):tolist())
    assert.are.equal("mse_loss: not implemented for 'Long'", strip(err(F.mse_loss, wick.tensor{1}, wick.tensor{2})))
  end)
end)
