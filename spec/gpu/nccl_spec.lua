-- The NCCL process group (src/cuda/nccl_pg.c) at world size 1: every collective runs through a
-- real one-rank communicator on cuda:0 (NCCL does not allow two ranks on one GPU), in every
-- dtype it takes, sync and async, on contiguous and strided tensors; ordering against the
-- caller's stream; and the errors: CPU tensors, a build without NCCL, a peer that never joins
-- (a timeout that aborts the communicator instead of hanging).
local dist = wick.dist
local core_pg = require("wick.core")._pg
local helpers = require("helpers")

local function need_cuda() return require("gpu")(_ENV).need_cuda(true) end

local function close(a, b, tol) return (a:cpu():double() - b:cpu():double()):abs():max():item() <= (tol or 0) end

describe("backend = nccl", function()
  after_each(function() if dist.is_initialized() then dist.destroy_process_group() end end)

  it("is a clear error in a build without NCCL, and exists in one with it", function()
    assert.are.equal(core_pg.nccl, dist.is_nccl_available())
    if core_pg.nccl then
      assert.is_string(core_pg.nccl_version)
      assert.matches("^2%.%d+%.%d+$", core_pg.nccl_version)
    else
      assert.are.equal("init_process_group: the nccl backend is not available in this build (it needs CUDA and NCCL; use gloo)",
        helpers.err(dist.init_process_group, { backend = "nccl", world_size = 1, rank = 0 }))
    end
  end)

  it("all_reduce: every op and dtype through a one-rank communicator", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    assert.are.equal("nccl", dist.get_backend())
    for _, dt in ipairs({ "f32", "f64", "f16", "bf16", "i32", "i64", "u8" }) do
      for _, op in ipairs({ "sum", "product", "min", "max", "avg" }) do
        local float = dt:sub(1, 1) == "f" or dt == "bf16"
        if op ~= "avg" or float then
          local ref = (wick.arange(24) % 7):to(dt)
          local t = ref:cuda()
          assert.are.equal(t, dist.all_reduce(t, op))
          assert.is_true(close(t, ref), dt .. " " .. op)
        end
      end
    end
    assert.are.equal("all_reduce: avg needs a floating-point tensor (got i64)",
      helpers.err(dist.all_reduce, wick.ones({ 2 }, { dtype = "i64", device = "cuda" }), "avg"))
  end)

  it("waits for the caller's stream and copies strided tensors back", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    local t = wick.ones({ 1024, 1024 }, { device = "cuda" })
    t:mul_(3) -- queued on the current stream: NCCL's stream must see it
    dist.all_reduce(t)
    assert.are.equal(3 * 1024 * 1024, t:sum():item())
    local base = wick.arange(12):float():view({ 3, 4 }):cuda()
    local view = base:t() -- not contiguous: reduced through a copy, written back
    dist.all_reduce(view, "max")
    assert.is_true(close(base, wick.arange(12):float():view({ 3, 4 })))
  end)

  it("broadcast, all_gather, gather, scatter, reduce_scatter and barrier", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    local x = wick.randn({ 5, 3 }, { device = "cuda" })
    local before = x:cpu()
    dist.broadcast(x, 0)
    assert.is_true(close(x, before))
    local out = { wick.zeros({ 5, 3 }, { device = "cuda" }) }
    dist.all_gather(out, x)
    assert.is_true(close(out[1], before))
    local g = { wick.zeros({ 15 }, { device = "cuda" }) }
    dist.gather(x, g, 0)
    assert.is_true(close(g[1], before:view({ 15 })))
    local s = wick.zeros({ 5, 3 }, { device = "cuda" })
    dist.scatter(s, { x }, 0)
    assert.is_true(close(s, before))
    local r = wick.zeros({ 5, 3 }, { device = "cuda" })
    dist.reduce_scatter(r, { x }, "sum")
    assert.is_true(close(r, before))
    dist.barrier()
    assert.is_true(dist.barrier({ async_op = true }):wait())
  end)

  it("async_op returns a work handle whose wait() finishes the op", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    local t = wick.full({ 4 * 1024 * 1024 }, 2.0, { device = "cuda" })
    local w = dist.all_reduce(t, "sum", { async_op = true })
    assert.is_true(w:wait())
    assert.is_true(w:is_completed())
    assert.are.equal(2 * 4 * 1024 * 1024, t:sum():item())
    local list = { wick.zeros({ 3 }, { device = "cuda" }) }
    local w2 = dist.all_gather(list, wick.ones({ 3 }, { device = "cuda" }), { async_op = true })
    w2:wait()
    assert.are.same({ 1, 1, 1 }, list[1]:cpu():tolist())
  end)

  it("rejects CPU tensors, tensors on another device and unsupported dtypes", function()
    if not need_cuda() then return end
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    assert.are.equal("all_reduce: the nccl backend needs CUDA tensors (got a tensor on cpu)",
      helpers.err(dist.all_reduce, wick.ones({ 2 })))
    assert.are.equal("broadcast: the nccl backend needs CUDA tensors (got a tensor on cpu)",
      helpers.err(dist.broadcast, wick.ones({ 2 }), 0))
    assert.are.equal("all_reduce: unsupported dtype bool (f32, f64, f16, bf16, i64, i32 or u8)",
      helpers.err(dist.all_reduce, wick.ones({ 2 }, { device = "cuda" }):gt(0)))
    if wick.cuda.device_count() > 1 then
      dist.all_reduce(wick.ones({ 2 }, { device = "cuda:0" }))
      assert.are.equal("all_reduce: the group's NCCL communicator is on cuda:0; got a tensor on cuda:1 (one device per process)",
        helpers.err(dist.all_reduce, wick.ones({ 2 }, { device = "cuda:1" })))
    end
  end)

  it("checks the communicator's arguments (an NCCL build, with or without a GPU)", function()
    if not core_pg.nccl then
      pending("wick was built without NCCL")
      return
    end
    assert.are.equal("init_process_group: the nccl backend needs a store for world size 2",
      helpers.err(core_pg.new_nccl, nil, "x/", 0, 2, 5, 0))
    assert.are.equal("init_process_group: rank 2 is out of range for world size 2",
      helpers.err(core_pg.new_nccl, nil, "x/", 2, 2, 5, 0))
    assert.are.equal("init_process_group: timeout must be > 0 (got 0)",
      helpers.err(core_pg.new_nccl, nil, "x/", 0, 1, 0, 0))
    local n = wick.cuda.is_available() and wick.cuda.device_count() or 0
    local msg = helpers.err(core_pg.new_nccl, nil, "x/", 0, 1, 5, n)
    assert.matches("^cuda", msg)
    -- the group is made lazily: init works, a CPU tensor is refused before any CUDA call
    dist.init_process_group({ backend = "nccl", world_size = 1, rank = 0 })
    assert.are.equal("all_reduce: the nccl backend needs CUDA tensors (got a tensor on cpu)",
      helpers.err(dist.all_reduce, wick.ones({ 2 })))
  end)

  it("two ranks (wick run -n 2) reduce correctly, or fail with NCCL's error, never hang", function()
    if not need_cuda() then return end
    -- with one GPU both ranks share cuda:0, which NCCL refuses ("Duplicate GPU detected")
    local run = require("spec.support.wick_run")
    local dir = run.tmpdir()
    run.write(dir .. "/two.lua", [[
local wick = require("wick")
local dist = wick.dist
dist.init_process_group({ backend = "nccl", timeout = 20 })
local r = dist.get_rank()
local dev = "cuda:" .. (wick.cuda.device_count() >= 2 and r or 0)
local t = wick.full({ 1000 }, r + 1, { device = dev })
local t0 = wick.perf_counter()
local ok, msg = pcall(dist.all_reduce, t)
print(string.format("%s|%s|%.2f", tostring(ok), ok and tostring(t:sum():item()) or msg, wick.perf_counter() - t0))
if ok and wick.cuda.device_count() >= 2 then -- every collective with a real peer
  local bad = {}
  local function check(name, cond) if not cond then bad[#bad + 1] = name end end
  local function full(n, v) return wick.full({ n }, v, { device = dev }) end
  local b = full(4, r == 1 and 7 or 0)
  dist.broadcast(b, 1)
  check("broadcast", b:sum():item() == 28)
  local list = { full(3, -1), full(3, -1) }
  dist.all_gather(list, full(3, r))
  check("all_gather", list[1]:sum():item() == 0 and list[2]:sum():item() == 3)
  local g = r == 0 and { full(2, 0), full(2, 0) } or nil
  dist.gather(full(2, r + 1), g, 0)
  if r == 0 then check("gather", g[1]:sum():item() == 2 and g[2]:sum():item() == 4) end
  local sc = full(2, 0)
  dist.scatter(sc, r == 1 and { full(2, 5), full(2, 6) } or nil, 1)
  check("scatter", sc:sum():item() == (r == 0 and 10 or 12))
  local o = full(2, 0)
  dist.reduce_scatter(o, { full(2, 1), full(2, 2) })
  check("reduce_scatter", o:sum():item() == (r == 0 and 4 or 8))
  local a = full(2, r + 1.0)
  dist.all_reduce(a, "avg")
  check("avg", a:sum():item() == 3)
  dist.barrier()
  print("collectives " .. (#bad == 0 and "ok" or table.concat(bad, ",")))
end
dist.destroy_process_group()
]])
    local r = run.run({ "run", "-n", "2", dir .. "/two.lua" })
    run.rmdir(dir)
    for rank = 0, 1 do
      local ok, what, dt = r.out:match("%[" .. rank .. "%] (%a+)|(.-)|([%d.]+)\n")
      assert.is_not_nil(ok, r.out .. r.err)
      if ok == "true" then
        assert.are.equal(3000, tonumber(what))
      else -- NCCL's refusal, or (if only the peer noticed it) the 20 s timeout
        assert.is_truthy(what:find("^all_reduce: init_process_group: NCCL error: ")
          or what:find("^all_reduce: init_process_group: creating the NCCL communicator timed out after 20%.0 s"), what)
      end
      assert.is_true(tonumber(dt) < 25, dt)
      if wick.cuda.device_count() >= 2 then assert.matches("[" .. rank .. "] collectives ok\n", r.out, 1, true) end
    end
  end)

  it("times out (and aborts the communicator) when a peer never joins, instead of hanging", function()
    if not need_cuda() then return end
    local store = dist.TCPStore("127.0.0.1", 0, { is_master = true, timeout = 30 })
    local t0 = wick.perf_counter()
    local msg = helpers.err(core_pg.new_nccl, store, "lonely/", 0, 2, 3, 0)
    local dt = wick.perf_counter() - t0
    assert.matches("^init_process_group: creating the NCCL communicator timed out after 3%.0 s on rank 0 of 2", msg)
    assert.is_true(dt >= 2.9 and dt < 20, tostring(dt))
    store:close()
  end)
end)
