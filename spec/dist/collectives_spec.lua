-- wick.dist collectives over the Gloo process group, with real processes (`wick run -n N`):
-- every op and dtype at world sizes 2, 3 and 4 against values computed from the ranks, async
-- handles, non-contiguous tensors, and ranks that leave or stall (errors, never hangs).
local helper = require("spec.support.wick_run")
local dist = wick.dist

-- Runs inside every rank: raises (failing the rank, hence `wick run`) on any wrong value.
local WORKER = [[
local wick = require("wick")
local dist = wick.dist
dist.init_process_group({ timeout = 20 })
local r, n = dist.get_rank(), dist.get_world_size()

local function check(what, got, want)
  local ok = #got == #want
  for i = 1, #want do ok = ok and got[i] == want[i] end
  if not ok then
    error(string.format("%s: got {%s}, expected {%s}", what, table.concat(got, ","), table.concat(want, ",")), 0)
  end
end
local function err(f, ...)
  local ok, msg = pcall(f, ...)
  assert(not ok, "expected an error")
  return msg
end

for _, dt in ipairs({ "f32", "f64", "i64", "i32", "u8" }) do
  local function T(v) return wick.tensor(v, { dtype = dt }) end
  local small = dt == "u8"
  -- all_reduce: rank k holds {k+1, 2(k+1), 7-k}
  local want = { sum = { 0, 0, 0 }, product = { 1, 1, 1 }, min = { math.huge, math.huge, math.huge },
    max = { -math.huge, -math.huge, -math.huge } }
  for k = 0, n - 1 do
    local v = { k + 1, 2 * (k + 1), 7 - k }
    for i = 1, 3 do
      want.sum[i] = want.sum[i] + v[i]
      want.product[i] = want.product[i] * v[i]
      want.min[i] = math.min(want.min[i], v[i])
      want.max[i] = math.max(want.max[i], v[i])
    end
  end
  for _, op in ipairs({ "sum", "product", "min", "max" }) do
    if not (small and op == "product") then
      local t = T({ r + 1, 2 * (r + 1), 7 - r })
      assert(dist.all_reduce(t, op) == t)
      check(dt .. " all_reduce " .. op, t:tolist(), want[op])
    end
  end
  if dt == "f32" or dt == "f64" then
    local t = T({ r + 1, 2 * (r + 1), 7 - r })
    dist.all_reduce(t, "avg")
    check(dt .. " all_reduce avg", t:tolist(), { want.sum[1] / n, want.sum[2] / n, want.sum[3] / n })
  else
    assert(err(dist.all_reduce, T({ 1 }), "avg") == "all_reduce: avg needs a floating-point tensor (got " .. dt .. ")")
  end
  -- broadcast from the last rank (non-zero src)
  local b = T({ r * 10, r * 10 + 1 })
  dist.broadcast(b, n - 1)
  check(dt .. " broadcast", b:tolist(), { (n - 1) * 10, (n - 1) * 10 + 1 })
  -- all_gather into a list of 2x1 tensors
  local list = {}
  for i = 1, n do list[i] = T({ { 0 }, { 0 } }) end
  dist.all_gather(list, T({ r, 20 + r }))
  for i = 1, n do check(dt .. " all_gather " .. i, list[i]:flatten():tolist(), { i - 1, 20 + i - 1 }) end
  -- gather to rank 1
  local g
  if r == 1 then g = {} for i = 1, n do g[i] = T({ 0, 0 }) end end
  dist.gather(T({ 3 * r, 3 * r + 1 }), g, 1)
  if r == 1 then for i = 1, n do check(dt .. " gather " .. i, g[i]:tolist(), { 3 * (i - 1), 3 * (i - 1) + 1 }) end end
  -- scatter from the last rank: rank k gets {k, 40 + k}
  local sl
  if r == n - 1 then sl = {} for i = 1, n do sl[i] = T({ i - 1, 40 + i - 1 }) end end
  local s = T({ 0, 0 })
  dist.scatter(s, sl, n - 1)
  check(dt .. " scatter", s:tolist(), { r, 40 + r })
  -- reduce_scatter: rank k's input_list[i] = {k + i}; rank r gets sum_k (k + r + 1)
  local inputs = {}
  for i = 1, n do inputs[i] = T({ r + i }) end
  local out = T({ 0 })
  dist.reduce_scatter(out, inputs)
  check(dt .. " reduce_scatter", out:tolist(), { n * (n - 1) / 2 + n * (r + 1) })
end

-- async handles: several in flight, completed in order
local a, b = wick.full({ 1000 }, r + 1.0), wick.full({ 3 }, r, { dtype = "i64" })
local ha = dist.all_reduce(a, "sum", { async_op = true })
local hb = dist.broadcast(b, 1, { async_op = true })
local hc = dist.barrier({ async_op = true })
assert(ha:wait() and hb:wait() and hc:wait())
assert(ha:is_completed())
check("async all_reduce", { a:tolist()[1], a:tolist()[1000] }, { n * (n + 1) / 2, n * (n + 1) / 2 })
check("async broadcast", b:tolist(), { 1, 1, 1 })

-- non-contiguous tensors are reduced in place through a contiguous copy
local m = wick.tensor({ { 1, 2 }, { 3, 4 } }, { dtype = "f64" }):t()
dist.all_reduce(m, "max")
check("transposed all_reduce", m:flatten():tolist(), { 1, 3, 2, 4 })
local m2 = wick.tensor({ { 1, 2 }, { 3, 4 } }, { dtype = "f64" }) * (r + 1)
dist.all_reduce(m2:t(), "sum")
local s = n * (n + 1) / 2
check("all_reduce of a view", m2:flatten():tolist(), { s, 2 * s, 3 * s, 4 * s })

-- argument errors
assert(err(dist.broadcast, wick.ones(1), n) == "broadcast: src " .. n .. " is out of range for world size " .. n)
assert(err(dist.all_gather, { wick.ones(1) }, wick.ones(1)) == "all_gather: tensor_list must be a list of " .. n .. " tensor(s)")
assert(err(dist.all_reduce, wick.ones(1), "mean") == "all_reduce: unknown op 'mean'")
assert(err(dist.all_reduce, wick.ones(1, { dtype = "bool" })) == "all_reduce: unsupported dtype bool (f32, f64, i64, i32 or u8)")
assert(err(dist.all_reduce, wick.ones(1), { asyncop = true }):match("unknown option 'asyncop'"))

dist.barrier()
print("ok " .. r)
dist.destroy_process_group()
]]

-- A rank that leaves early or stalls: rank 0 reports the error of its all_reduce and the time.
local FAULT = [[
local wick = require("wick")
local dist = wick.dist
dist.init_process_group({ timeout = tonumber(arg[2]) })
dist.barrier()
if dist.get_rank() == 1 then
  if arg[1] == "exit" then os.exit(0) end
  os.execute("sleep " .. arg[3])
  os.exit(0)
end
local t0 = wick.perf_counter()
local ok, msg = pcall(dist.all_reduce, wick.ones(4))
print(string.format("%s|%s|%.2f", tostring(ok), tostring(msg), wick.perf_counter() - t0))
]]

local function ranks_ok(r, n)
  assert.are.equal(0, r.code, r.err .. r.out)
  for k = 0, n - 1 do assert.matches("[" .. k .. "] ok " .. k .. "\n", r.out, 1, true) end
end

describe("wick.dist collectives over Gloo", function()
  local dir
  local function no_gloo()
    if dist.is_gloo_available() then return false end
    pending("wick was built without Gloo")
    return true
  end
  before_each(function()
    dir = helper.tmpdir()
    helper.write(dir .. "/worker.lua", WORKER)
    helper.write(dir .. "/fault.lua", FAULT)
  end)
  after_each(function() helper.rmdir(dir) end)

  for _, n in ipairs({ 2, 3, 4 }) do
    it("computes every op for every dtype with " .. n .. " ranks", function()
      if no_gloo() then return end
      ranks_ok(helper.run({ "run", "-n", tostring(n), dir .. "/worker.lua" }), n)
    end)
  end

  it("fails the other ranks with a message when one exits early", function()
    if no_gloo() then return end
    local r = helper.run({ "run", "-n", "2", dir .. "/fault.lua", "exit", "10" })
    assert.are.equal(0, r.code, r.err)
    local ok, msg, dt = r.out:match("%[0%] (%a+)|(.-)|([%d.]+)\n")
    assert.are.equal("false", ok, r.out)
    assert.matches("^all_reduce: ", msg)
    assert.is_true(tonumber(dt) < 10, dt)
  end)

  it("times out, naming the op, when a rank stalls", function()
    if no_gloo() then return end
    local r = helper.run({ "run", "-n", "2", dir .. "/fault.lua", "stall", "3", "5" })
    assert.are.equal(0, r.code, r.err)
    local ok, msg, dt = r.out:match("%[0%] (%a+)|(.-)|([%d.]+)\n")
    assert.are.equal("false", ok, r.out)
    assert.are.equal("all_reduce: Timed out waiting 3000ms for recv operation to complete", msg)
    assert.is_true(tonumber(dt) >= 2.9 and tonumber(dt) < 5, dt)
  end)
end)
