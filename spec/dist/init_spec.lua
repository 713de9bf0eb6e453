-- wick.dist process groups: the world of 1 with no launcher (collectives are the identity),
-- errors before init, and a world of 2 whose tcp:// store is hosted by rank 0.
local helper = require("spec.support.wick_run")
local dist = wick.dist

local err = require("helpers").err

local launched = os.getenv("WORLD_SIZE") ~= nil

describe("wick.dist at world size 1", function()
  after_each(function() if dist.is_initialized() then dist.destroy_process_group() end end)

  it("raises before init_process_group, as PyTorch", function()
    if launched then pending("run inside a launcher") return end
    assert.is_false(dist.is_initialized())
    assert.are.equal("get_rank: Default process group has not been initialized, please make sure to call init_process_group.",
      err(dist.get_rank))
    assert.are.equal("all_reduce: Default process group has not been initialized, please make sure to call init_process_group.",
      err(dist.all_reduce, wick.ones(2)))
    assert.are.equal(0, dist.get_local_rank())
  end)

  it("is a no-op world of 1 without a launcher", function()
    if launched then pending("run inside a launcher") return end
    dist.init_process_group()
    assert.is_true(dist.is_initialized())
    assert.are.equal(0, dist.get_rank())
    assert.are.equal(1, dist.get_world_size())
    assert.are.equal(0, dist.get_local_rank())
    dist.barrier()
    local t = wick.tensor({ 1, 2, 3 })
    assert.are.equal(t, dist.all_reduce(t, dist.ReduceOp.SUM))
    assert.are.same({ 1, 2, 3 }, t:tolist())
    assert.are.same({ 1, 2, 3 }, dist.broadcast(t, 0):tolist())
    local out = { wick.zeros(3) }
    dist.all_gather(out, t)
    assert.are.same({ 1, 2, 3 }, out[1]:tolist())
    assert.are.equal("all_reduce: unknown op 'mean'", err(dist.all_reduce, t, "mean"))
    assert.are.equal("broadcast: src 1 is out of range for world size 1", err(dist.broadcast, t, 1))
    assert.are.equal("init_process_group: trying to initialize the default process group twice!", err(dist.init_process_group))
    dist.destroy_process_group()
    assert.is_false(dist.is_initialized())
  end)

  it("checks its options", function()
    assert.matches("unknown option 'word_size'", err(dist.init_process_group, { word_size = 2 }), 1, true)
    assert.are.equal("init_process_group: rank 2 is out of range for world size 2",
      err(dist.init_process_group, { world_size = 2, rank = 2 }))
    assert.are.equal("init_process_group: unknown backend 'mpi' (gloo or nccl)",
      err(dist.init_process_group, { world_size = 1, rank = 0, backend = "mpi" }))
    assert.are.equal("init_process_group: unsupported init_method 'udp://x:1' (env://, tcp://host:port or file://path)",
      err(dist.init_process_group, { world_size = 2, rank = 1, init_method = "udp://x:1" }))
    assert.are.equal("init_process_group: file:// needs a path, as in file:///shared/dir/rendezvous",
      err(dist.init_process_group, { world_size = 2, rank = 1, init_method = "file://" }))
  end)
end)

describe("wick.dist at world size 2", function()
  it("meets at a tcp:// store hosted by rank 0; collectives run (shared memory on one host)", function()
    local dir = helper.tmpdir()
    local probe = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = "probe" })
    local port = probe:port() -- a free port for rank 0 to listen on
    probe:close()
    dist.spawn(function(rank)
      dist.init_process_group({ init_method = "tcp://127.0.0.1:" .. port, rank = rank, world_size = 2, timeout = 10 })
      dist.get_store():set("from" .. rank, tostring(rank))
      dist.barrier()
      local other = dist.get_store():get("from" .. (1 - rank))
      local ok, msg = pcall(dist.all_reduce, wick.ones(1))
      local f = assert(io.open(dir .. "/" .. rank, "w"))
      f:write(other, " ", tostring(ok), " ", ok and tostring(msg:item()) or msg)
      f:close()
      dist.destroy_process_group() -- rank 0 hosts the store: it leaves last
    end, { nprocs = 2 })
    for rank = 0, 1 do
      local f = assert(io.open(dir .. "/" .. rank))
      assert.are.equal(tostring(1 - rank) .. " true 2.0", f:read("a"))
      f:close()
    end
    helper.rmdir(dir)
  end)

  it("meets through a file:// rendezvous file (a stale one from an earlier run is replaced), which rank 0 removes", function()
    local dir = helper.tmpdir()
    local path = dir .. "/rdzv"
    local f = assert(io.open(path, "w"))
    f:write("127.0.0.1 1 stale-secret\n") -- an earlier run's: nothing listens there
    f:close()
    dist.spawn(function(rank)
      dist.init_process_group({ init_method = "file://" .. path, rank = rank, world_size = 3, timeout = 10 })
      local t = dist.all_reduce(wick.tensor({ rank + 1.0 }))
      local out = assert(io.open(dir .. "/" .. rank, "w"))
      out:write(tostring(t:item()), " ", tostring(dist.get_world_size()))
      out:close()
      dist.destroy_process_group()
    end, { nprocs = 3 })
    for rank = 0, 2 do
      local r = assert(io.open(dir .. "/" .. rank))
      assert.are.equal("6.0 3", r:read("a"))
      r:close()
    end
    assert.is_nil(io.open(path), "the rendezvous file is removed")
    -- nobody publishes: the others say rank 0 is missing
    local msg = err(dist.spawn, function(rank)
      if rank == 0 then return end
      dist.init_process_group({ init_method = "file://" .. dir .. "/none", rank = rank, world_size = 2, timeout = 1 })
    end, { nprocs = 2 })
    assert.matches("rendezvous: rank 0 did not publish a store in " .. dir .. "/none within 1 s; missing rank 0", msg, 1, true)
    helper.rmdir(dir)
  end)

  it("says who was waited for when a rank never joins (tcp://)", function()
    local probe = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = "probe" })
    local port = probe:port()
    probe:close()
    local url = "tcp://127.0.0.1:" .. port
    -- rank 1 never comes: rank 0, hosting the store, times out naming it
    local msg = err(dist.spawn, function(rank)
      if rank == 1 then return end
      dist.init_process_group({ init_method = url, rank = rank, world_size = 3, timeout = 1 })
    end, { nprocs = 3 })
    assert.matches("rendezvous: 2 of 3 ranks joined within 1 s; missing rank 1\n", msg, 1, true)
    -- rank 0 never opens the store: the others say so
    msg = err(dist.spawn, function(rank)
      if rank == 0 then return end
      dist.init_process_group({ init_method = url, rank = rank, world_size = 2, timeout = 1 })
    end, { nprocs = 2 })
    assert.matches("^spawn: process 1 terminated with the following error:\nrendezvous: rank 0 did not open the store at 127.0.0.1:" ..
      port .. " within 1 s; missing rank 0\n", msg)
  end)
end)
