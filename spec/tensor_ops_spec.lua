-- The composite tensor ops of lua/wick/tensor_ops.lua: gradients by finite differences (their
-- values and errors against PyTorch are in spec/diff_torch_spec.lua), the forms the random
-- test does not draw, and their error messages.
local wick = require("wick")
local err = require("helpers").err
local gradcheck = wick.autograd.gradcheck

local function f64(...) return wick.randn({ ... }, { dtype = "f64", requires_grad = true }) end
local den = wick.rand(4, { dtype = "f64" }) + 1

describe("composite tensor ops", function()
  it("have correct gradients (gradcheck in f64)", function()
    local cases = {
      { function(x) return wick.flip(x, { 0, 1 }) end, { f64(3, 4) } },
      { function(x) return wick.roll(x, { 1, -2 }, { 0, 1 }) end, { f64(3, 4) } },
      { function(x) return wick.roll(x, 5) end, { f64(3, 4) } },
      { function(x) return wick.tril(x, -1) end, { f64(3, 4) } },
      { function(x) return wick.triu(x, 1) end, { f64(2, 3, 4) } },
      { function(x) return wick.diag(x, 1) end, { f64(3) } },
      { function(x) return wick.diag(x, -1) end, { f64(3, 4) } },
      { function(x) return wick.trace(x) end, { f64(3, 3) } },
      { function(a, b) return wick.outer(a, b) end, { f64(3), f64(2) } },
      { function(i, a, b) return wick.addmm(i, a, b, { beta = 0.5, alpha = 2 }) end, { f64(2, 4), f64(2, 3), f64(3, 4) } },
      { function(i, a, b) return wick.baddbmm(i, a, b) end, { f64(2, 2, 4), f64(2, 2, 3), f64(2, 3, 4) } },
      { function(a, b, w) return wick.lerp(a, b, w) end, { f64(5), f64(5), f64(5) } },
      { function(x, a, b) return wick.addcmul(x, a, b, { value = 0.5 }) end, { f64(4), f64(4), f64(4) } },
      { function(x, a) return wick.addcdiv(x, a, den) end, { f64(4), f64(4) } },
      { function(x) return wick.movedim(x, { 0, 1 }, { 2, 0 }) end, { f64(2, 3, 4) } },
      { function(x) return x:tile({ 2, 1, 2 }) end, { f64(2, 3) } },
      { function(x) return x["repeat"](x, 2, 2) end, { f64(2, 3) } },
      { function(a, b) return wick.einsum("bij,bjk->bik", a, b) end, { f64(2, 2, 3), f64(2, 3, 2) } },
      { function(a) return wick.einsum("ii->i", a) end, { f64(3, 3) } },
      { function(a, b) return wick.cdist(a, b) end, { f64(3, 2), f64(4, 2) } },
      { function(x) local s, m = wick.std_mean(x, 1); return s + m end, { f64(3, 4) } },
      { function(x, s) return x:masked_scatter(wick.tensor{ true, false, true, true }, s) end, { f64(4), f64(5) } },
      { function(x) return wick.nan_to_num(x) end, { f64(4) } },
      { function(x) return x:unflatten(1, { 2, -1 }) end, { f64(3, 4) } },
    }
    for i, c in ipairs(cases) do
      local ok, e = pcall(gradcheck, c[1], c[2])
      assert(ok, ("case %d: %s"):format(i, tostring(e)))
    end
  end)

  it("mT, view_as, reshape_as, type_as, new_* and swapaxes", function()
    local x = wick.arange(6):reshape(2, 3)
    assert.are.same({ 3, 2 }, x.mT.shape)
    assert.are.same({ 4, 3, 2 }, wick.zeros(4, 2, 3).mT.shape)
    assert.are.equal("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.",
      err(function() return wick.zeros(3).mT end))
    assert.are.same({ 3, 2 }, x:view_as(wick.zeros(3, 2)).shape)
    assert.are.same({ 6 }, x:t():reshape_as(wick.zeros(6)).shape)
    assert.are.equal("f64", x:type_as(wick.zeros(1, { dtype = "f64" })).dtype)
    local n = x:new_full({ 2 }, 7)
    assert.are.equal("i64", n.dtype)
    assert.are.same({ 7, 7 }, n:tolist())
    assert.are.equal("f32", x:new_ones({ 1 }, { dtype = "f32" }).dtype)
    assert.are.same({ 3, 2 }, wick.swapaxes(x, 0, 1).shape)
    assert.are.same({ { 1 }, { 2 } }, wick.argwhere(wick.tensor{ 0, 3, 4 }):tolist())
    assert.are.same({ true, false, true }, wick.isin(wick.tensor{ 1, 2, 3 }, wick.tensor{ 3, 1 }):tolist())
    assert.are.same({ false, true, false }, wick.isin(wick.tensor{ 1, 2, 3 }, wick.tensor{ 3, 1 }, { invert = true }):tolist())
  end)

  it("raise PyTorch's errors", function()
    assert.are.equal("flip: dim 0 appears multiple times in the list of dims", err(wick.flip, wick.zeros(2), { 0, -1 }))
    assert.are.equal("roll: shifts and dimensions must align. shifts: 2, dims: 1", err(wick.roll, wick.zeros(2), { 1, 2 }, { 0 }))
    assert.are.equal("tril: input tensor must have at least 2 dimensions", err(wick.tril, wick.zeros(2)))
    assert.are.equal("einsum: the number of subscripts in the equation (2) does not match the number of dimensions (1) for operand 0",
      err(wick.einsum, "ij->i", wick.zeros(2)))
    assert.are.equal("einsum: ellipsis ('...') is not supported", err(wick.einsum, "...i->i", wick.zeros(2)))
    assert.are.equal("repeat: Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor",
      err(function() return wick.zeros(2, 2)["repeat"](wick.zeros(2, 2), 2) end))
    assert.are.equal("masked_scatter: Number of elements of source < number of ones in mask",
      err(wick.masked_scatter, wick.zeros(3), wick.tensor{ true, true, true }, wick.zeros(2)))
    assert.are.equal("unflatten: Provided sizes don't multiply up to the size of dim 1 (4) in the input tensor",
      err(wick.unflatten, wick.zeros(3, 4), 1, { 3, 2 }))
    assert.are.equal("cdist: X1 and X2 must have the same number of columns. X1: 2 X2: 3", err(wick.cdist, wick.zeros(2, 2), wick.zeros(2, 3)))
  end)
end)
