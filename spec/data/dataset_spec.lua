-- The dataset protocol (#ds, ds:get(i) 0-based), TensorDataset, Subset, and default_collate.
local data = wick.data

local err = require("helpers").err

describe("TensorDataset", function()
  local x = wick.arange(12):reshape(4, 3)
  local y = wick.tensor({ 10, 11, 12, 13 })

  it("returns the rows of its tensors", function()
    local ds = data.TensorDataset(x, y)
    assert.are.equal(4, #ds)
    local a, b = ds:get(1)
    assert.are.same({ 3, 4, 5 }, a:tolist())
    assert.are.equal(0, b:dim())
    assert.are.equal(11, b:item())
    a, b = ds:get(-1)
    assert.are.same({ 9, 10, 11 }, a:tolist())
    assert.are.equal(13, b:item())
    local one = data.TensorDataset(x, y, x:float())
    assert.are.equal(3, select("#", one:get(0)))
  end)

  it("gathers batches", function()
    local xb, yb = data.TensorDataset(x, y):get_batch(wick.tensor({ 3, 0 }))
    assert.are.same({ { 9, 10, 11 }, { 0, 1, 2 } }, xb:tolist())
    assert.are.same({ 13, 10 }, yb:tolist())
  end)

  it("checks its tensors and indices", function()
    assert.are.equal("TensorDataset: size mismatch between tensors (tensor 1 has 4 rows, tensor 2 has 3 rows)",
      err(data.TensorDataset, x, wick.zeros(3)))
    assert.are.equal("TensorDataset: expected at least one tensor", err(data.TensorDataset))
    assert.are.equal("TensorDataset: argument 2 must be a tensor (got table)", err(data.TensorDataset, x, {}))
    assert.are.equal("TensorDataset: tensor 1 is 0-d (samples are rows along dim 0)", err(data.TensorDataset, wick.tensor(1)))
    local ds = data.TensorDataset(x, y)
    assert.are.equal("TensorDataset: index 4 is out of range for 4 samples", err(ds.get, ds, 4))
    assert.are.equal("TensorDataset: index -5 is out of range for 4 samples", err(ds.get, ds, -5))
    assert.are.equal("TensorDataset: index must be an integer (got 1.5)", err(ds.get, ds, 1.5))
    assert.are.equal("TensorDataset: index must be an integer (got string)", err(ds.get, ds, "1"))
  end)

  it("prints its size", function()
    assert.are.equal("TensorDataset(4 samples, 2 tensors)", tostring(data.TensorDataset(x, y)))
  end)
end)

describe("Subset", function()
  it("maps indices, through get and get_batch", function()
    local ds = data.TensorDataset(wick.arange(10) * 10)
    local sub = data.Subset(ds, { 7, 2, 9 })
    assert.are.equal(3, #sub)
    assert.are.equal(20, sub:get(1):item())
    assert.are.same({ 90, 70 }, sub:get_batch(wick.tensor({ 2, 0 })):tolist())
    local tsub = data.Subset(ds, wick.tensor({ 1, -1 }))
    assert.are.same({ 1, 9 }, tsub.indices)
    assert.are.equal("Subset: index 10 is out of range for 10 samples", err(data.Subset, ds, { 10 }))
  end)

  it("has no batch path over a dataset without one", function()
    local plain = setmetatable({}, { __len = function() return 3 end, __index = { get = function(_, i) return i end } })
    assert.is_false(data.Subset(plain, { 0 }).get_batch)
  end)
end)

describe("default_collate", function()
  local collate = data.default_collate

  it("stacks tensors and turns numbers into tensors", function()
    local x, y = collate({ { wick.tensor({ 1.0, 2.0 }), 3, n = 2 }, { wick.tensor({ 4.0, 5.0 }), 6, n = 2 } })
    assert.are.same({ { 1, 2 }, { 4, 5 } }, x:tolist())
    assert.are.equal("i64", y.dtype)
    assert.are.same({ 3, 6 }, y:tolist())
    local f = collate({ { 0.5 }, { 1.5 } })
    assert.are.equal("f32", f.dtype)
    local b = collate({ { true }, { false } })
    assert.are.equal("bool", b.dtype)
  end)

  it("keeps strings and collates tables per key and per position", function()
    local s = collate({ { "a" }, { "b" } })
    assert.are.same({ "a", "b" }, s)
    local t = collate({ { { image = wick.ones(2), meta = { 1, "x" } } }, { { image = wick.zeros(2), meta = { 2, "y" } } } })
    assert.are.same({ { 1, 1 }, { 0, 0 } }, t.image:tolist())
    assert.are.same({ 1, 2 }, t.meta[1]:tolist())
    assert.are.same({ "x", "y" }, t.meta[2])
  end)

  it("explains what it cannot collate", function()
    assert.are.equal("default_collate: sample 1 holds a string where sample 0 holds a number (value 2)",
      err(collate, { { wick.ones(1), 1 }, { wick.ones(1), "1" } }))
    assert.are.equal("default_collate: stack: expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1",
      err(collate, { { wick.ones(2) }, { wick.ones(3) } }))
    assert.are.equal("default_collate: cannot collate a function (samples hold tensors, numbers, booleans, strings and tables)",
      err(collate, { { print }, { print } }))
    assert.are.equal("default_collate: sample 1 has 1 values where sample 0 has 2",
      err(collate, { { 1, 2, n = 2 }, { 1, n = 1 } }))
    assert.are.equal("default_collate: sample 1 has no key b", err(collate, { { { a = 1, b = 2 } }, { { a = 1 } } }))
    assert.are.equal("default_collate: no samples", err(collate, {}))
  end)
end)
