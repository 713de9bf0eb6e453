-- `wick run -n N` names the rank that failed first (issue 15, defect 3), not a peer that failed
-- because of it: the workers record their errors in the launcher's store in the order they
-- happen, and the launcher sees exits in the order they happen (SIGCHLD wakes it).
local helper = require("spec.support.wick_run")

local function report_of(err)
  return err:match("\nwick run: (rank %d+ failed [^\n]*)") or err:match("^wick run: (rank %d+ failed [^\n]*)")
end

describe("wick run -n N blames the first failure", function()
  local dir
  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmdir(dir) end)

  -- Rank 1 raises; while its error unwinds (a to-be-closed variable) it lets the others know
  -- (as closing its connections would) and takes 0.5 s more to exit. The others then fail at
  -- once with a peer's error and exit first: exit order alone would blame them.
  it("names a rank whose error came first even when a peer exits before it", function()
    helper.write(dir .. "/first.lua", [[
      local rank = tonumber(os.getenv("RANK"))
      local flag = arg[1] .. "/rank1-failed"
      if rank == 1 then
        local slow <close> = setmetatable({}, { __close = function()
          io.open(flag, "w"):close()
          os.execute("sleep 0.5")
        end })
        error("boom on rank 1")
      end
      while not io.open(flag) do os.execute("sleep 0.01") end
      error("Connection closed by peer")
    ]])
    local r = helper.run({ "run", "-n", "3", dir .. "/first.lua", dir })
    assert.are.equal(1, r.code)
    -- rank 1 was still unwinding (stopped before it printed its error): the record has the error
    assert.are.equal("rank 1 failed (raised an error)", report_of(r.err), r.err)
    assert.matches("\nrank 1's error:\n  " .. dir .. "/first.lua:8: boom on rank 1\n  stack traceback:\n",
      r.err, 1, true)
    assert.matches("\nwick run: ranks 0, 2 stopped after rank 1 failed\n", r.err, 1, true)
  end)

  -- Rank 2 is killed by a signal; the others notice within milliseconds and raise: a rank that
  -- died without a record, seen exiting no later than the first recorded error's rank, comes first.
  it("names a rank killed by a signal before the peers whose errors it caused", function()
    helper.write(dir .. "/killed.lua", [[
      local rank = tonumber(os.getenv("RANK"))
      local flag = arg[1] .. "/pid2"
      if rank == 2 then
        os.execute("echo $PPID > " .. flag .. ".tmp && mv " .. flag .. ".tmp " .. flag .. " && kill -9 $PPID")
        os.execute("sleep 30")
      end
      local pid
      while not pid do
        local f = io.open(flag)
        pid = f and f:read("n")
        if f then f:close() end
        if not pid then os.execute("sleep 0.005") end
      end
      repeat -- until the process is a zombie (empty cmdline) or gone
        local f = io.open("/proc/" .. pid .. "/cmdline")
        local gone = not f or f:read("a") == ""
        if f then f:close() end
      until gone
      error("Connection closed by peer")
    ]])
    local r = helper.run({ "run", "-n", "3", dir .. "/killed.lua", dir })
    assert.are.equal(1, r.code)
    assert.are.equal("rank 2 failed (killed by signal 9, SIGKILL)", report_of(r.err), r.err)
    assert.matches("\nwick run: ranks 0, 1 stopped after rank 2 failed\n", r.err, 1, true)
  end)
end)
