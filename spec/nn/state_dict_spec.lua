-- Module:state_dict / load_state_dict: key order, aliasing, strictness, the "module." prefix
-- and the error messages, word for word.
local nn = wick.nn

local function model()
  return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
end

describe("state_dict", function()
  it("lists parameters then buffers per module, in registration order", function()
    local sd = model():state_dict()
    assert.are.same({ "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                      "1.num_batches_tracked", "3.weight", "3.bias" }, sd:keys())
    local order = {}
    for k in pairs(sd) do order[#order + 1] = k end
    assert.are.same(sd:keys(), order)
  end)

  it("holds detached aliases of the parameters (same memory, no grad)", function()
    local m = model()
    local sd = m:state_dict()
    local w = sd["0.weight"]
    assert.is_false(w.requires_grad)
    assert.is_true(w:_same_storage(m[0].weight))
    wick.no_grad(function() m[0].weight:fill_(2) end)
    assert.are.equal(2, w[0][0]:item())
    assert.are.equal(m[0].weight, m:state_dict({ keep_vars = true })["0.weight"])
  end)

  it("takes a key prefix", function()
    local sd = nn.Linear(2, 2):state_dict({ prefix = "head." })
    assert.are.same({ "head.weight", "head.bias" }, sd:keys())
  end)
end)

describe("load_state_dict", function()
  it("copies values in, keeping the parameter objects, and converts dtypes", function()
    local a, b = model(), model()
    local w = b[0].weight
    local sd = a:state_dict()
    sd["0.weight"] = sd["0.weight"]:double()
    local r = b:load_state_dict(sd)
    assert.are.same({ missing_keys = {}, unexpected_keys = {} }, r)
    assert.are.equal(w, b[0].weight)
    assert.are.equal("f32", w.dtype)
    assert.is_true(wick.equal(a[0].weight, w))
    assert.is_true(wick.equal(a[3].bias, b[3].bias))
    assert.is_true(w.requires_grad)
  end)

  it("accepts a plain (unordered) table and a DDP checkpoint's module. prefix", function()
    local a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b:load_state_dict({ ["module.weight"] = a.weight:detach(), ["module.bias"] = a.bias:detach() })
    assert.is_true(wick.equal(a.weight, b.weight))
  end)

  it("strict = true raises listing missing and unexpected keys, copying nothing", function()
    local m = nn.Sequential(nn.Linear(2, 2))
    local before = m[0].weight:clone()
    assert.has_error(function()
      m:load_state_dict({ ["0.weight"] = wick.zeros(2, 2), ["1.weight"] = wick.zeros(2), ["extra"] = wick.zeros(1) })
    end, 'load_state_dict: missing key(s) in state_dict: "0.bias"; unexpected key(s) in state_dict: "1.weight", "extra"')
    assert.is_true(wick.equal(before, m[0].weight))
    assert.has_error(function() m:load_state_dict({ ["0.weight"] = wick.zeros(2, 2) }) end,
      'load_state_dict: missing key(s) in state_dict: "0.bias"')
  end)

  it("strict = false loads what matches and returns missing and unexpected keys", function()
    local m = nn.Sequential(nn.Linear(2, 2))
    local r = m:load_state_dict({ ["0.weight"] = wick.zeros(2, 2), ["x.y"] = wick.zeros(1) }, { strict = false })
    assert.are.same({ missing_keys = { "0.bias" }, unexpected_keys = { "x.y" } }, r)
    assert.are.equal(0, m[0].weight:abs():sum():item())
  end)

  it("raises on a shape mismatch naming the key and both shapes", function()
    local m = nn.Sequential()
    m.fc = nn.Linear(128, 5)
    local sd = { ["fc.weight"] = wick.zeros(10, 128), ["fc.bias"] = wick.zeros(10) }
    assert.has_error(function() m:load_state_dict(sd) end,
      "load_state_dict: size mismatch for fc.weight: copying a param with shape [10, 128] from checkpoint, the shape in current model is [5, 128]")
    assert.has_error(function() m:load_state_dict({ ["fc.weight"] = 1 }, { strict = false }) end,
      "load_state_dict: expected a tensor for fc.weight (got number)")
    assert.has_error(function() m:load_state_dict(sd, { stict = false }) end,
      "load_state_dict: unknown option 'stict' (did you mean 'strict'?)")
  end)

  it("round-trips buffers such as running statistics", function()
    local a, b = model(), model()
    wick.no_grad(function() a[1].running_mean:fill_(0.5); a[1].num_batches_tracked:fill_(7) end)
    b:load_state_dict(a:state_dict())
    assert.are.equal(0.5, b[1].running_mean[2]:item())
    assert.are.equal(7, b[1].num_batches_tracked:item())
  end)
end)
