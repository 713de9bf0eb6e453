-- The workers' heartbeat (issue 15, defect 6): a rank stopped by SIGSTOP is noticed within
-- --heartbeat-timeout seconds (not at the 1800 s collective timeout), named, and the run ends
-- with no process left; a rank that is merely busy (its heartbeat thread beats on) is not.
local helper = require("spec.support.wick_run")

local function leftovers(marker)
  local p = io.popen("ps -eo pid,args")
  local out = {}
  for l in p:lines() do
    if l:find(marker, 1, true) and not l:find("ps -eo", 1, true) then out[#out + 1] = l end
  end
  p:close()
  return out
end

describe("wick run --heartbeat-timeout", function()
  local dir, marker
  before_each(function()
    dir = helper.tmpdir()
    marker = "wick-heartbeat-spec-" .. tostring(math.random(1 << 30))
  end)
  after_each(function() helper.rmdir(dir) end)

  it("fails the run fast when a rank stops, naming it", function()
    helper.write(dir .. "/stop.lua", string.format([[
      if os.getenv("RANK") == "1" then os.execute("sleep 0.3; kill -STOP $PPID") end
      os.execute("sh -c 'sleep 60; : %s'")
    ]], marker))
    local t0 = wick.perf_counter()
    local r = helper.run({ "run", "-n", "2", "--heartbeat-timeout", "2", dir .. "/stop.lua" })
    local took = wick.perf_counter() - t0
    assert.are.equal(1, r.code)
    assert.are.equal("wick run: rank 1 failed (no heartbeat for 2 s: stopped or hung)\n" ..
      "wick run: rank 0 stopped after rank 1 failed\n", r.err)
    assert.is_true(took < 10, "took " .. took .. " s")
    assert.are.same({}, leftovers(marker))
  end)

  it("leaves a busy rank alone", function()
    -- the main thread sleeps through two timeouts; its heartbeat thread does not
    helper.write(dir .. "/busy.lua", [[
      if os.getenv("RANK") == "0" then require("wick.core")._dist.sleep(4.5) end
      print("done")
    ]])
    local r = helper.run({ "run", "-n", "2", "--heartbeat-timeout", "2", dir .. "/busy.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("[1] done\n[0] done\n", r.out)
  end)

  it("checks its value", function()
    local r = helper.run({ "run", "--heartbeat-timeout", "0", "-n", "2", dir .. "/x.lua" })
    assert.are.equal(1, r.code)
    assert.are.equal("wick run: option '--heartbeat-timeout' expects an integer >= 1, got '0'\n", r.err:match("^[^\n]*\n"))
  end)
end)
