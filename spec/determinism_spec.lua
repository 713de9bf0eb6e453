-- wick.use_deterministic_algorithms: the switch itself, and bit-identical training run to run
-- with it on (separate processes, 2 threads: convolutions, batch norm, dropout, softmax
-- cross entropy, pooling, SGD and Adam, gelu/tanh from the vectorised kernels).
local wick = require("wick")
local helper = require("wick_run")

local script = [[
wick.set_num_threads(2)
wick.use_deterministic_algorithms(true)
assert(wick.are_deterministic_algorithms_enabled())
wick.manual_seed(0)
local nn, F = wick.nn, wick.nn.functional
local model = nn.Sequential(
  nn.Conv2d(3, 16, 3, { padding = 1 }), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
  nn.Conv2d(16, 32, 3, { stride = 2, padding = 1 }), nn.Dropout(0.2), nn.GELU(),
  nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.Tanh(), nn.Linear(64, 10))
local opts = { wick.optim.SGD(model:parameters(), { lr = 0.05, momentum = 0.9 }) }
local x, y = wick.randn(32, 3, 16, 16), wick.randint(0, 10, { 32 })
for step = 1, 4 do
  for _, o in ipairs(opts) do o:zero_grad() end
  F.cross_entropy(model(x), y):backward()
  for _, o in ipairs(opts) do o:step() end
  if step == 2 then opts = { wick.optim.Adam(model:parameters(), { lr = 1e-3 }) } end
end
for _, p in ipairs(model:parameters()) do
  local v = p:double():view(-1)
  print(string.format("%a %a %a", v:sum():item(), v[0]:item(), v[v:size(0) - 1]:item()))
end
]]

describe("use_deterministic_algorithms", function()
  it("is off by default and switches", function()
    assert.is_false(wick.are_deterministic_algorithms_enabled())
    wick.use_deterministic_algorithms(true)
    assert.is_true(wick.are_deterministic_algorithms_enabled())
    wick.use_deterministic_algorithms(false)
    assert.is_false(wick.are_deterministic_algorithms_enabled())
    local ok, err = pcall(wick.use_deterministic_algorithms, 1)
    assert.is_false(ok)
    -- Lua names the function after how it was reached; the rest is fixed
    assert.matches("^bad argument #1 to '[%w_.]*use_deterministic_algorithms' %(boolean expected, got number%)$", err)
  end)

  it("gives bit-identical training run to run", function()
    local first
    for _ = 1, 3 do
      local r = helper.run({ "-e", script })
      assert.are.equal(0, r.code, r.err)
      assert.is_true(#r.out > 100, r.out)
      if first then assert.are.equal(first, r.out) else first = r.out end
    end
  end)
end)
