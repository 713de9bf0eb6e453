-- `wick run -n N` and wick.dist.spawn with real processes: rank prefixes and environment, a
-- failing rank stops the others within seconds with its error shown, a rank killed by a
-- signal, SIGTERM to the launcher, faults (a rank that hangs in a collective, never joins, or
-- has a wrong secret; an outside client with a wrong secret), spawn's failures, and no process
-- left behind. Several nodes: multinode_spec.lua.
local helper = require("spec.support.wick_run")
local dist = wick.dist

local err = require("helpers").err

-- Processes whose command line holds the marker (the workers' "sleep" shells).
local function leftovers(marker)
  local p = io.popen("ps -eo pid,args")
  local out = {}
  for l in p:lines() do
    if l:find(marker, 1, true) and not l:find("ps -eo", 1, true) then out[#out + 1] = l end
  end
  p:close()
  return out
end

local function lines_of(text, prefix)
  local out = {}
  for l in text:gmatch("[^\n]+") do
    if l:sub(1, #prefix) == prefix then out[#out + 1] = l end
  end
  return out
end

describe("wick run -n N", function()
  local dir, marker
  before_each(function()
    dir = helper.tmpdir()
    marker = "wick-launch-spec-" .. tostring(math.random(1 << 30))
  end)
  after_each(function() helper.rmdir(dir) end)

  it("starts N workers with their rank in the environment and prefixed output", function()
    helper.write(dir .. "/ranks.lua", [[
      local wick = require("wick")
      local e = os.getenv
      print(string.format("rank=%s world=%s local=%s lws=%s addr=%s port=%s secret=%d arg=%s",
        e("RANK"), e("WORLD_SIZE"), e("LOCAL_RANK"), e("LOCAL_WORLD_SIZE"), e("MASTER_ADDR"),
        e("MASTER_PORT"), #e("WICK_DIST_SECRET"), arg[1]))
      io.stderr:write("to stderr\n")
      local dist = wick.dist
      dist.init_process_group()
      dist.barrier()
      print("init", dist.get_rank(), dist.get_world_size(), dist.get_local_rank())
      local ok, msg = pcall(dist.all_reduce, wick.ones(2))
      print(ok and "sum " .. msg:tolist()[1] or msg)
      dist.destroy_process_group()
    ]])
    local r = helper.run({ "run", "-n", "3", dir .. "/ranks.lua", "x=1" })
    assert.are.equal(0, r.code, r.err)
    local port
    for rank = 0, 2 do
      local pre = "[" .. rank .. "] "
      local out = lines_of(r.out, pre)
      assert.are.equal(3, #out, r.out)
      local p = out[1]:match("^%[%d%] rank=" .. rank .. " world=3 local=" .. rank .. " lws=3 addr=127%.0%.0%.1 port=(%d+) secret=64 arg=x=1$")
      assert.is_not_nil(p, out[1])
      port = port or p
      assert.are.equal(port, p)
      assert.are.equal(pre .. "init\t" .. rank .. "\t3\t" .. rank, out[2])
      assert.are.equal(pre .. "sum 3.0", out[3]) -- shared memory, with or without Gloo
      assert.are.same({ pre .. "to stderr" }, lines_of(r.err, pre))
    end
  end)

  it("stops the other ranks within seconds when one fails, and shows its error", function()
    helper.write(dir .. "/fail.lua", string.format([[
      if os.getenv("RANK") == "2" then error("boom on rank 2") end
      os.execute("sh -c 'sleep 30; : %s'")
    ]], marker))
    local t0 = wick.perf_counter()
    local r = helper.run({ "run", "-n", "3", dir .. "/fail.lua" })
    assert.is_true(wick.perf_counter() - t0 < 10)
    assert.are.equal(1, r.code)
    assert.matches("[2] wick: " .. dir .. "/fail.lua:1: boom on rank 2\n", r.err, 1, true)
    assert.matches("\nwick run: rank 2 failed (exit code 1)\nlast lines of rank 2's stderr:\n  wick: " .. dir ..
      "/fail.lua:1: boom on rank 2\n  stack traceback:\n", r.err, 1, true)
    assert.are.same({}, leftovers(marker))
  end)

  it("reports a rank killed by a signal", function()
    helper.write(dir .. "/kill.lua", string.format([[
      if os.getenv("RANK") == "1" then os.execute("kill -9 $PPID") end
      os.execute("sh -c 'sleep 30; : %s'")
    ]], marker))
    local r = helper.run({ "run", "-n", "2", dir .. "/kill.lua" })
    assert.are.equal(1, r.code)
    assert.matches("wick run: rank 1 failed (killed by signal 9, SIGKILL)\n", r.err, 1, true)
    assert.are.same({}, leftovers(marker))
  end)

  it("passes SIGTERM and SIGINT (Ctrl-C) on to every worker and exits with 128 + N", function()
    helper.write(dir .. "/wait.lua", string.format([[
      print("up") io.stdout:flush()
      os.execute("sh -c 'sleep 30; : %s'")
    ]], marker))
    for sig, code in pairs({ TERM = 143, INT = 130 }) do
      local cmd = string.format("cd %s && rm -f out.txt && (%s run -n 2 wait.lua >out.txt 2>&1 & pid=$!; " ..
        "for i in $(seq 1 100); do [ \"$(grep -c up out.txt)\" = 2 ] && break; sleep 0.1; done; " ..
        "kill -%s $pid; wait $pid; echo rc=$?)", helper.quote(dir), helper.quote(helper.bin()), sig)
      local p = io.popen("timeout 30 sh -c " .. helper.quote(cmd))
      local out = p:read("a")
      p:close()
      assert.are.equal("rc=" .. code .. "\n", out, sig)
      assert.are.same({}, leftovers(marker))
    end
  end)
end)

describe("wick run -n N: faults", function()
  local dir, marker
  before_each(function()
    dir = helper.tmpdir()
    marker = "wick-fault-spec-" .. tostring(math.random(1 << 30))
  end)
  after_each(function() helper.rmdir(dir) end)

  -- the run ended within `limit` seconds, non-zero, and nothing it started is left
  local function ended(r, t0, limit)
    assert.is_true(wick.perf_counter() - t0 < limit, "took " .. (wick.perf_counter() - t0) .. " s")
    assert.are.equal(1, r.code, r.err)
    assert.are.same({}, leftovers(marker))
    assert.are.same({}, leftovers(dir)) -- the workers' command lines name the file in dir
  end

  for _, backend in ipairs({ "shm", "gloo" }) do
  it("ends the run when a rank hangs in a collective (the others time out, " .. backend .. ")", function()
    if backend == "gloo" and not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    helper.write(dir .. "/hang.lua", string.format([[
      local dist = wick.dist
      dist.init_process_group({ timeout = 2 })
      if dist.get_rank() == 1 then os.execute("sh -c 'sleep 30; : %s'") end
      dist.all_reduce(wick.ones(4))
    ]], marker))
    local t0 = wick.perf_counter()
    local r = helper.run({ "run", "-n", "3", dir .. "/hang.lua" }, { env = { WICK_DIST_SHM = backend == "shm" and "1" or "0" } })
    ended(r, t0, 12)
    -- ranks 0 and 2 time out together: the first to fail may be stopped while it exits (the
    -- launcher then says "raised an error", with the error record when no stderr came through);
    -- with Gloo, rank 2 may time out sending, not receiving
    local msg = backend == "shm" and "timed out after 2 s waiting for rank 1" or "Timed out waiting 2000ms for %a+ operation to complete"
    local head = "\nwick run: rank [02] failed %([^)]+%)\n"
    assert.is_truthy(r.err:find(head .. "last lines of rank [02]'s stderr:\n  wick: all_reduce: " .. msg .. "\n")
      or r.err:find(head .. "rank [02]'s error:\n  all_reduce: " .. msg .. "\n"), r.err)
  end)
  end

  it("ends the run when a rank never joins, naming it", function()
    helper.write(dir .. "/late.lua", string.format([[
      if os.getenv("RANK") == "2" then os.execute("sh -c 'sleep 30; : %s'") end
      wick.dist.init_process_group({ timeout = 2 })
    ]], marker))
    local t0 = wick.perf_counter()
    local r = helper.run({ "run", "-n", "4", dir .. "/late.lua" })
    ended(r, t0, 12)
    -- (a rank whose error came first but that was stopped while it exited, because another one
    -- exited before it, "raised an error")
    assert.matches("\nwick run: rank [013] failed %([^)]+%)\nlast lines of rank [013]'s stderr:\n" ..
      "  wick: rendezvous: 3 of 4 ranks joined within 2 s; missing rank 2\n", r.err)
    assert.matches("\nwick run: rank [013] failed %(exit code 1%)\n", r.err:gsub("raised an error", "exit code 1"))
  end)

  it("refuses and logs a rank with a wrong secret, which ends the run", function()
    helper.write(dir .. "/secret.lua", string.format([[
      if os.getenv("RANK") == "1" then require("wick.core")._dist.setenv("WICK_DIST_SECRET", "wrong") end
      if os.getenv("RANK") ~= "1" then os.execute("sh -c 'sleep 30; : %s'") end
      wick.dist.init_process_group({ timeout = 5 })
    ]], marker))
    local t0 = wick.perf_counter()
    local r = helper.run({ "run", "-n", "2", dir .. "/secret.lua" })
    ended(r, t0, 12)
    assert.matches("\nstore: rejected a connection from 127%.0%.0%.1:%d+: wrong secret\n", "\n" .. r.err)
    assert.matches("\nwick run: rank 1 failed (exit code 1)\nlast lines of rank 1's stderr:\n" ..
      "  wick: TCPStore: the store at 127.0.0.1:", r.err, 1, true)
    assert.matches("rejected this client (wrong secret?)\n", r.err, 1, true)
  end)

  it("refuses and logs an outside client with a wrong secret; the run goes on", function()
    helper.write(dir .. "/outside.lua", [[
      local dist = wick.dist
      dist.init_process_group({ timeout = 10 })
      if dist.get_rank() == 0 then
        local ok, e = pcall(dist.TCPStore, os.getenv("MASTER_ADDR"), tonumber(os.getenv("MASTER_PORT")),
          { secret = "not-the-secret", timeout = 2 })
        print(ok, e)
      end
      dist.barrier()
      dist.destroy_process_group()
    ]])
    local r = helper.run({ "run", "-n", "2", dir .. "/outside.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("[0] false\tTCPStore: the store at 127.0.0.1:", r.out, 1, true)
    assert.matches("store: rejected a connection from 127%.0%.0%.1:%d+: wrong secret\n", r.err)
  end)
end)

describe("wick.dist.spawn", function()
  local dir, marker
  before_each(function()
    dir = helper.tmpdir()
    marker = "wick-spawn-spec-" .. tostring(math.random(1 << 30))
  end)
  after_each(function() helper.rmdir(dir) end)

  it("runs fn(rank, ...) in N processes that can form a group", function()
    dist.spawn(function(rank, d, tag)
      dist.init_process_group()
      dist.barrier()
      local f = assert(io.open(string.format("%s/%d.txt", d, rank), "w"))
      f:write(string.format("%s %d %d", tag, dist.get_rank(), dist.get_world_size()))
      f:close()
      dist.destroy_process_group()
    end, { nprocs = 3, args = { dir, "hi" } })
    for rank = 0, 2 do
      local f = assert(io.open(string.format("%s/%d.txt", dir, rank)))
      assert.are.equal(string.format("hi %d 3", rank), f:read("a"))
      f:close()
    end
  end)

  it("raises with the failing process's error and traceback, stopping the others", function()
    local t0 = wick.perf_counter()
    local msg = err(dist.spawn, function(rank)
      if rank == 1 then error("spawn boom", 0) end
      os.execute(string.format("sh -c 'sleep 30; : %s'", marker))
    end, { nprocs = 3 })
    assert.is_true(wick.perf_counter() - t0 < 10)
    assert.matches("^spawn: process 1 terminated with the following error:\nspawn boom\nstack traceback:\n", msg)
    assert.are.same({}, leftovers(marker))
  end)

  it("reports a process killed by a signal, or an exit code", function()
    assert.are.equal("spawn: process 0 terminated with signal SIGKILL", err(dist.spawn, function(rank)
      if rank == 0 then os.execute("kill -9 $PPID") end
      os.execute(string.format("sh -c 'sleep 30; : %s'", marker))
    end, { nprocs = 2 }))
    assert.are.same({}, leftovers(marker))
    assert.are.equal("spawn: process 0 terminated with exit code 3",
      err(dist.spawn, function() os.exit(3) end, { nprocs = 1 }))
    assert.are.equal("spawn: nprocs must be an integer >= 1 (got 0)", err(dist.spawn, function() end, { nprocs = 0 }))
  end)
end)
