-- wick.dist.TCPStore: PyTorch's semantics in one process, then across real processes (another
-- wick started with io.popen), a wrong secret refused and logged by the serving process.
local helper = require("spec.support.wick_run")
local dist = wick.dist

local err = require("helpers").err

local SECRET = "spec-secret-0123"

describe("TCPStore in one process", function()
  local store
  before_each(function() store = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = SECRET, timeout = 5 }) end)
  after_each(function() store:close() end)

  it("sets, gets, adds, compare_sets, checks, deletes and counts", function()
    assert.is_true(store:port() > 0)
    store:set("a", "x\0y")
    assert.are.equal("x\0y", store:get("a"))
    store:set("a", "2")
    assert.are.equal("2", store:get("a"))
    assert.are.equal(3, store:add("c", 3))
    assert.are.equal(5, store:add("c", 2))
    assert.are.equal("5", store:get("c"))
    store:set("ten", "10")
    assert.are.equal(11, store:add("ten", 1))
    assert.are.equal(3, store:add("a", 1))
    store:set("a", "x")
    assert.are.equal("TCPStore.add: the value of key 'a' is not an integer", err(store.add, store, "a", 1))
    assert.are.equal("z", store:compare_set("k", "", "z"))     -- missing, expected empty: set
    assert.are.equal("w", store:compare_set("k", "z", "w"))    -- equal: set
    assert.are.equal("w", store:compare_set("k", "q", "v"))    -- differs: current value
    assert.are.equal("e", store:compare_set("none", "e", "d")) -- missing, expected given: expected
    assert.is_true(store:check({ "a", "k" }))
    assert.is_false(store:check({ "a", "none" }))
    assert.are.equal(4, store:num_keys())
    assert.is_true(store:delete_key("ten"))
    assert.is_false(store:delete_key("ten"))
    assert.are.equal(3, store:num_keys())
    store:wait({ "a", "k" })
  end)

  it("times out naming the keys it waited for", function()
    assert.are.equal("TCPStore.wait: timed out after 0.2 s waiting for keys 'x', 'y'", err(store.wait, store, { "x", "y" }, 0.2))
    store:set_timeout(0.1)
    assert.are.equal("TCPStore.get: timed out after 0.1 s waiting for key 'nope'", err(store.get, store, "nope"))
    store:set_timeout(5)
    store:set("still", "ok")
    assert.are.equal("ok", store:get("still"))
  end)

  it("checks its arguments", function()
    assert.matches("unknown option 'is_mastr'", err(dist.TCPStore, "127.0.0.1", 0, { is_mastr = true, secret = "s" }), 1, true)
    assert.are.equal("TCPStore: invalid port 0", err(dist.TCPStore, "127.0.0.1", 0, { secret = "s" }))
    if not os.getenv("WICK_DIST_SECRET") then
      assert.are.equal("TCPStore: needs the run's shared secret (the secret option, or WICK_DIST_SECRET as set by wick run -n N)",
        err(dist.TCPStore, "127.0.0.1", 0, { is_master = true }))
    end
    assert.are.equal("TCPStore.set: a key must have 1 to 4096 bytes (got 0)", err(store.set, store, "", "v"))
    assert.are.equal("TCPStore: keys must be strings (key 2 is a number)", err(store.wait, store, { "a", 1 }))
    store:close()
    assert.are.equal("attempt to use a closed TCPStore", err(store.get, store, "a"))
    store = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = SECRET })
  end)
end)

describe("TCPStore across processes", function()
  local dir
  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmdir(dir) end)

  it("serves another wick process: blocking get, add, wait", function()
    local store = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = SECRET, timeout = 10 })
    helper.write(dir .. "/client.lua", [[
      local wick = require("wick")
      local s = wick.dist.TCPStore("127.0.0.1", tonumber(arg[1]), { secret = arg[2], timeout = 10 })
      local go = s:get("go")            -- blocks until the parent sets it
      s:add("count", 5)
      s:set("reply", "got " .. go)
      s:wait({ "bye" })
      print("client done")
    ]])
    local p = io.popen(string.format("timeout 20 %s %s/client.lua %d %s 2>&1", helper.quote(helper.bin()), dir, store:port(), SECRET))
    store:set("go", "hello")
    assert.are.equal("got hello", store:get("reply"))
    assert.are.equal(5, store:add("count", 0))
    store:set("bye", "1")
    local out = p:read("a")
    local ok = p:close()
    assert.are.equal("client done\n", out)
    assert.is_true(ok)
    store:close()
  end)

  it("refuses a wrong secret, and the serving process logs it", function()
    helper.write(dir .. "/server.lua", [[
      local wick = require("wick")
      local s = wick.dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = arg[1], timeout = 20 })
      print(s:port())
      io.stdout:flush()
      s:wait({ "stop" }, 20)
    ]])
    local p = io.popen(string.format("timeout 30 %s %s/server.lua %s 2>%s/err.txt", helper.quote(helper.bin()), dir, SECRET, dir))
    local port = math.tointeger(tonumber(p:read("l")))
    assert.is_not_nil(port)
    assert.are.equal(string.format("TCPStore: the store at 127.0.0.1:%d rejected this client (wrong secret?)", port),
      err(dist.TCPStore, "127.0.0.1", port, { secret = "not-the-secret", timeout = 5 }))
    local good = dist.TCPStore("127.0.0.1", port, { secret = SECRET, timeout = 5 })
    good:set("stop", "1")
    good:close()
    p:close()
    local f = assert(io.open(dir .. "/err.txt"))
    local log = f:read("a")
    f:close()
    assert.matches("^store: rejected a connection from 127%.0%.0%.1:%d+: wrong secret\n$", log)
  end)

  it("fails to connect within its timeout when nobody listens", function()
    local s = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = SECRET })
    local port = s:port()
    s:close()
    local t0 = wick.perf_counter()
    assert.matches("^TCPStore: cannot connect to 127%.0%.0%.1:%d+ within 0%.3 s: ",
      err(dist.TCPStore, "127.0.0.1", port, { secret = SECRET, timeout = 0.3 }))
    assert.is_true(wick.perf_counter() - t0 < 3)
  end)
end)
