-- Samplers and random_split: semantics, and the exact indices PyTorch draws for the same
-- generator state (spec/ref/data_ref.py, PyTorch 1.13).
local data = wick.data

local err = require("helpers").err

local function list(s)
  local out = {}
  for i in s:iter() do out[#out + 1] = i end
  return out
end

describe("SequentialSampler", function()
  it("visits 0..n-1 in order, from a dataset or a count", function()
    local s = data.SequentialSampler(5)
    assert.are.equal(5, #s)
    assert.are.same({ 0, 1, 2, 3, 4 }, s:indices():tolist())
    assert.are.same({ 0, 1, 2, 3, 4 }, list(s))
    local ds = data.TensorDataset(wick.zeros(3, 2))
    assert.are.same({ 0, 1, 2 }, list(data.SequentialSampler(ds)))
    assert.are.same({}, list(data.SequentialSampler(0)))
  end)

  it("rejects what is not a dataset", function()
    assert.are.equal("SequentialSampler: expected a dataset (with #ds) or a number of samples (got boolean)",
      err(data.SequentialSampler, true))
    assert.are.equal("SequentialSampler: the number of samples must be >= 0 (got -1)", err(data.SequentialSampler, -1))
  end)
end)

describe("RandomSampler", function()
  it("is a permutation per epoch, different every epoch", function()
    local s = data.RandomSampler(100, { generator = wick.Generator():manual_seed(7) })
    local a, b = list(s), list(s)
    assert.are.equal(100, #a)
    local sorted = table.move(a, 1, 100, 1, {})
    table.sort(sorted)
    for k = 1, 100 do assert.are.equal(k - 1, sorted[k]) end
    assert.are_not.same(a, b)
  end)

  it("draws PyTorch's indices for the same generator", function()
    local s = data.RandomSampler(10, { num_samples = 15, generator = wick.Generator():manual_seed(1) })
    assert.are.equal(15, #s)
    assert.are.same({ 5, 6, 1, 2, 0, 8, 9, 3, 7, 4, 2, 3, 1, 8, 9 }, list(s))
    s = data.RandomSampler(10, { replacement = true, num_samples = 40, generator = wick.Generator():manual_seed(2) })
    assert.are.same({ 8, 7, 1, 4, 8, 9, 2, 5, 0, 1, 0, 1, 9, 5, 5, 3, 9, 7, 6, 0, 0, 2, 3, 1, 1, 0, 0, 4, 9, 3,
      5, 6, 6, 1, 6, 0, 9, 1, 3, 0 }, list(s))
  end)

  it("seeds each epoch from the default generator when it has none", function()
    wick.manual_seed(3)
    assert.are.same({ 1, 4, 5, 2, 0, 3 }, list(data.RandomSampler(6)))
    assert.are.same({ 2, 4, 0, 1, 3, 5 }, list(data.RandomSampler(6)))
  end)

  it("checks its options", function()
    assert.are.equal("RandomSampler: num_samples must be a positive integer (got 0)",
      err(data.RandomSampler, 5, { num_samples = 0 }))
    assert.are.equal("RandomSampler: replacement must be a boolean (got number)",
      err(data.RandomSampler, 5, { replacement = 1 }))
    assert.are.equal("RandomSampler: unknown option 'replace' (did you mean 'replacement'?)",
      err(data.RandomSampler, 5, { replace = true }))
    assert.are.equal("RandomSampler: num_samples must be a positive integer (got 0)", err(data.RandomSampler, 0))
    assert.are.equal("RandomSampler: cannot sample from an empty dataset",
      err(data.RandomSampler(0, { num_samples = 3 }).indices, data.RandomSampler(0, { num_samples = 3 })))
  end)
end)

describe("random_split", function()
  local ds = data.TensorDataset(wick.arange(10))

  local function indices(parts)
    local out = {}
    for k, p in ipairs(parts) do out[k] = p.indices end
    return out
  end

  it("splits a permutation like PyTorch, by counts or by fractions", function()
    local parts = data.random_split(ds, { 3, 7 }, { generator = wick.Generator():manual_seed(42) })
    assert.are.same({ { 2, 6, 1 }, { 8, 4, 5, 0, 9, 3, 7 } }, indices(parts))
    assert.are.equal(3, #parts[1])
    local x = parts[1]:get(0)
    assert.are.equal(2, x:item())
    parts = data.random_split(ds, { 0.3, 0.7 }, { generator = wick.Generator():manual_seed(42) })
    assert.are.same({ { 2, 6, 1 }, { 8, 4, 5, 0, 9, 3, 7 } }, indices(parts))
    parts = data.random_split(data.TensorDataset(wick.arange(5)), { 0.5, 0.5 }, { generator = wick.Generator():manual_seed(0) })
    assert.are.same({ { 4, 0, 1 }, { 3, 2 } }, indices(parts))
  end)

  it("checks the lengths", function()
    assert.are.equal("random_split: the lengths sum to 9 but the dataset has 10 samples", err(data.random_split, ds, { 4, 5 }))
    assert.are.equal("random_split: length 1 must be a non-negative integer (got -1)", err(data.random_split, ds, { 11, -1 }))
  end)
end)
