-- wick.dist collectives over the shared-memory and Gloo process groups, with real processes
-- (`wick run -n N`): every op and dtype at world sizes 1, 2, 3 and 4 against values computed
-- from the ranks, async handles, non-contiguous tensors, subgroups (new_group) of 1 to 4 ranks,
-- and ranks that leave, stall or disagree (errors, never hangs or corruption). Each runs on
-- both back-ends: shm (chosen by itself on one host) and Gloo (WICK_DIST_SHM=0).
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

-- Ranks that disagree on a collective (size, dtype, op), then agree again.
local MISMATCH = [[
local wick = require("wick")
local dist = wick.dist
dist.init_process_group({ timeout = 10 })
local r = dist.get_rank()
local function try(f, ...) local ok, msg = pcall(f, ...) print(tostring(ok) .. "|" .. tostring(msg)) end
try(dist.all_reduce, wick.ones(4 + r))
try(dist.all_reduce, wick.ones(4, { dtype = r == 0 and "f32" or "f64" }))
if r == 0 then try(dist.broadcast, wick.ones(4), 1) else try(dist.all_reduce, wick.ones(4)) end
local t = wick.full({ 3 }, r + 1.0)
dist.all_reduce(t)
print(table.concat(t:tolist(), ","))
]]
local function ranks_ok(r, n)
  assert.are.equal(0, r.code, r.err .. r.out)
  for k = 0, n - 1 do assert.matches("[" .. k .. "] ok " .. k .. "\n", r.out, 1, true) end
end

local BACKENDS = {
  { name = "shm", env = { WICK_SPEC_TRANSPORT = "shm" } },
  { name = "gloo", env = { WICK_SPEC_TRANSPORT = "gloo", WICK_DIST_SHM = "0" } },
}

for _, backend in ipairs(BACKENDS) do
describe("wick.dist collectives over " .. backend.name, function()
  local env = backend.env
  local dir
  local function no_gloo()
    if backend.name == "shm" or dist.is_gloo_available() then return false end
    pending("wick was built without Gloo")
    return true
  end
  before_each(function()
    dir = helper.tmpdir()
    helper.write(dir .. "/fault.lua", FAULT)
    helper.write(dir .. "/mismatch.lua", MISMATCH)
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
      ranks_ok(helper.run({ "run", "-n", tostring(n), GRID }, { env = env }), n)
    end)
  end

  it("runs every op on subgroups of 3 and 4 ranks, pairs and singletons (new_group)", function()
    if no_gloo() then return end
    ranks_ok(helper.run({ "run", "-n", "4", GRID, "groups" }, { env = env }), 4)
  end)

  it("fails the other ranks with a message when one exits early", function()
    if no_gloo() then return end
    local r = helper.run({ "run", "-n", "2", dir .. "/fault.lua", "exit", "10" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    local ok, msg, dt = r.out:match("%[0%] (%a+)|(.-)|([%d.]+)\n")
    assert.are.equal("false", ok, r.out)
    assert.matches("^all_reduce: ", msg)
    if backend.name == "shm" then assert.are.equal("all_reduce: rank 1 exited during the collective", msg) end
    assert.is_true(tonumber(dt) < 10, dt)
  end)

  it("times out, naming the op, when a rank stalls", function()
    if no_gloo() then return end
    local r = helper.run({ "run", "-n", "2", dir .. "/fault.lua", "stall", "3", "5" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    local ok, msg, dt = r.out:match("%[0%] (%a+)|(.-)|([%d.]+)\n")
    assert.are.equal("false", ok, r.out)
    assert.are.equal(backend.name == "shm" and "all_reduce: timed out after 3 s waiting for rank 1"
      or "all_reduce: Timed out waiting 3000ms for recv operation to complete", msg)
    assert.is_true(tonumber(dt) >= 2.9 and tonumber(dt) < 5, dt)
  end)
end)
end

describe("wick.dist shared-memory group", function()
  local dir
  before_each(function() dir = helper.tmpdir() helper.write(dir .. "/mismatch.lua", MISMATCH) end)
  after_each(function() helper.rmdir(dir) end)

  it("fails every rank with both calls named when ranks disagree, and stays usable", function()
    local r = helper.run({ "run", "-n", "2", dir .. "/mismatch.lua" })
    assert.are.equal(0, r.code, r.err .. r.out)
    local want = {
      [0] = { "all_reduce of 4 f32, rank 1 called all_reduce of 5 f32", "all_reduce of 4 f32, rank 1 called all_reduce of 4 f64",
        "broadcast of 4 f32 (root 1), rank 1 called all_reduce of 4 f32" },
      [1] = { "all_reduce of 5 f32, rank 0 called all_reduce of 4 f32", "all_reduce of 4 f64, rank 0 called all_reduce of 4 f32",
        "all_reduce of 4 f32, rank 0 called broadcast of 4 f32 (root 1)" },
    }
    for k = 0, 1 do
      local name = k == 0 and "broadcast" or "all_reduce"
      for i, w in ipairs(want[k]) do
        local op = (i == 3 and name) or "all_reduce"
        assert.matches("[" .. k .. "] false|" .. op .. ": ranks disagree on the collective: rank " .. k .. " called " .. w .. "\n",
          r.out, 1, true)
      end
      assert.matches("[" .. k .. "] 3.0,3.0,3.0\n", r.out, 1, true)
    end
  end)

  it("moves every op in many chunks through small slots (3 ranks)", function()
    ranks_ok(helper.run({ "run", "-n", "3", GRID }, { env = { WICK_DIST_SHM_SLOT_BYTES = "8192", WICK_SPEC_TRANSPORT = "shm" } }), 3)
  end)

  it("falls back to Gloo with one warning when shared memory cannot be reserved", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local r = helper.run({ "run", "-n", "2", GRID },
      { env = { WICK_DIST_SHM_SLOT_BYTES = "1000000000000000", WICK_SPEC_TRANSPORT = "gloo" } })
    assert.are.equal(0, r.code, r.err .. r.out)
    for k = 0, 1 do
      local _, count = r.err:gsub("%[" .. k .. "%] wick.dist: shared memory cannot be used %(rank 0: cannot reserve 2000000000004096 bytes of shared memory: %d+ bytes available%); collectives use Gloo\n", "")
      assert.are.equal(1, count, r.err)
    end
  end)
end)
