-- wick.dist collectives over the Gloo process group, with real processes (`wick run -n N`):
-- every op and dtype at world sizes 1, 2, 3 and 4 against values computed from the ranks, async
-- handles, non-contiguous tensors, subgroups (new_group) of 1 to 4 ranks, and ranks that leave
-- or stall (errors, never hangs).
local helper = require("spec.support.wick_run")
local dist = wick.dist

-- The ranks' program: every op and dtype, then subgroups (spec/dist/grid_worker.lua).
local GRID = helper.root .. "/spec/dist/grid_worker.lua"

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
    helper.write(dir .. "/fault.lua", FAULT)
  end)
  after_each(function() helper.rmdir(dir) end)

  it("computes every op for every dtype with 1 rank (no launcher, no backend)", function()
    local r = helper.run({ "run", "-n", "1", GRID })
    assert.are.equal(0, r.code, r.err .. r.out)
    assert.are.equal("ok 0\n", r.out)
  end)

  for _, n in ipairs({ 2, 3, 4 }) do
    it("computes every op for every dtype with " .. n .. " ranks", function()
      if no_gloo() then return end
      ranks_ok(helper.run({ "run", "-n", tostring(n), GRID }), n)
    end)
  end

  it("runs every op on subgroups of 3 and 4 ranks, pairs and singletons (new_group)", function()
    if no_gloo() then return end
    ranks_ok(helper.run({ "run", "-n", "4", GRID, "groups" }), 4)
  end)

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
