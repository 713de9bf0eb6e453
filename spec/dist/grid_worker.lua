-- Runs inside every rank of `wick run -n N` for collectives_spec.lua: every op and dtype on the
-- world, then (arg[1] == "groups") on subgroups, checked against values computed from the
-- ranks, on the back-end named by WICK_SPEC_TRANSPORT (shm or gloo) when it is set. Raises (failing the rank, hence `wick run`) on any wrong value; prints "ok <rank>".
local wick = require("wick")
local dist = wick.dist
dist.init_process_group({ timeout = 20 })

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

-- Every collective on group g (nil: the world) for each dtype; `tag` names the group in errors.
-- Values depend on the rank in the group; src/dst are global ranks (the group's last / second).
local function grid(g, tag, dtypes)
  local r, n = dist.get_rank(g), dist.get_world_size(g)
  local last = dist.get_global_rank(g, n - 1)
  local second = dist.get_global_rank(g, math.min(1, n - 1))
  local G = { group = g }
  for _, dt in ipairs(dtypes) do
    local function T(v) return wick.tensor(v, { dtype = dt }) end
    local what = tag .. " " .. dt
    -- all_reduce: group rank k holds {k+1, 2(k+1), 7-k}
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
      if not (dt == "u8" and op == "product") then
        local t = T({ r + 1, 2 * (r + 1), 7 - r })
        assert(dist.all_reduce(t, op, G) == t)
        check(what .. " all_reduce " .. op, t:tolist(), want[op])
      end
    end
    if dt == "f32" or dt == "f64" or dt == "f16" or dt == "bf16" then
      local t = T({ r + 1, 2 * (r + 1), 7 - r })
      dist.all_reduce(t, "avg", G)
      check(what .. " all_reduce avg", t:tolist(), { want.sum[1] / n, want.sum[2] / n, want.sum[3] / n })
    else
      assert(err(dist.all_reduce, T({ 1 }), "avg", G) == "all_reduce: avg needs a floating-point tensor (got " .. dt .. ")")
    end
    -- broadcast from the group's last rank
    local b = T({ r * 10, r * 10 + 1 })
    dist.broadcast(b, last, G)
    check(what .. " broadcast", b:tolist(), { (n - 1) * 10, (n - 1) * 10 + 1 })
    -- all_gather into a list of 2x1 tensors
    local list = {}
    for i = 1, n do list[i] = T({ { 0 }, { 0 } }) end
    dist.all_gather(list, T({ r, 20 + r }), G)
    for i = 1, n do check(what .. " all_gather " .. i, list[i]:flatten():tolist(), { i - 1, 20 + i - 1 }) end
    -- gather to the group's second rank
    local gl
    local dst = dist.get_group_rank(g, second)
    if r == dst then gl = {} for i = 1, n do gl[i] = T({ 0, 0 }) end end
    dist.gather(T({ 3 * r, 3 * r + 1 }), gl, second, G)
    if r == dst then for i = 1, n do check(what .. " gather " .. i, gl[i]:tolist(), { 3 * (i - 1), 3 * (i - 1) + 1 }) end end
    -- scatter from the group's last rank: group rank k gets {k, 40 + k}
    local sl
    if r == n - 1 then sl = {} for i = 1, n do sl[i] = T({ i - 1, 40 + i - 1 }) end end
    local s = T({ 0, 0 })
    dist.scatter(s, sl, last, G)
    check(what .. " scatter", s:tolist(), { r, 40 + r })
    -- reduce_scatter: group rank k's input_list[i] = {k + i}; rank r gets sum_k (k + r + 1)
    local inputs = {}
    for i = 1, n do inputs[i] = T({ r + i }) end
    local out = T({ 0 })
    dist.reduce_scatter(out, inputs, "sum", G)
    check(what .. " reduce_scatter", out:tolist(), { n * (n - 1) // 2 + n * (r + 1) })
    inputs = {}
    for i = 1, n do inputs[i] = T({ r + i, 9 - r }) end
    local out2 = T({ 0, 0 })
    dist.reduce_scatter(out2, inputs, "max", G)
    check(what .. " reduce_scatter max", out2:tolist(), { n - 1 + r + 1, 9 })
    dist.barrier(G)
  end
  -- async handles: several in flight, completed in order
  local a, b = wick.full({ 1000 }, r + 1.0), wick.full({ 3 }, r, { dtype = "i64" })
  local ha = dist.all_reduce(a, "sum", { async_op = true, group = g })
  local hb = dist.broadcast(b, second, { async_op = true, group = g })
  local l = {}
  for i = 1, n do l[i] = wick.zeros(2, { dtype = "f64" }) end
  local hc = dist.all_gather(l, wick.full({ 2 }, r * 2.0, { dtype = "f64" }), { async_op = true, group = g })
  local hd = dist.barrier({ async_op = true, group = g })
  assert(ha:wait() and hb:wait() and hc:wait() and hd:wait())
  assert(ha:is_completed() and hd:is_completed())
  check(tag .. " async all_reduce", { a:tolist()[1], a:tolist()[1000] }, { n * (n + 1) / 2, n * (n + 1) / 2 })
  local sr = dist.get_group_rank(g, second)
  check(tag .. " async broadcast", b:tolist(), { sr, sr, sr })
  for i = 1, n do check(tag .. " async all_gather " .. i, l[i]:tolist(), { 2 * (i - 1), 2 * (i - 1) }) end
end

local ALL = { "f32", "f64", "f16", "bf16", "i64", "i32", "u8" }
local rank, world = dist.get_rank(), dist.get_world_size()
-- the back-end the spec expects the world to run on (shm or gloo; none at world size 1)
local want_transport = os.getenv("WICK_SPEC_TRANSPORT")
if want_transport and world > 1 and dist._transport() ~= want_transport then
  error("the world runs on " .. tostring(dist._transport()) .. ", expected " .. want_transport, 0)
end
grid(nil, "world", ALL)

-- sizes on both sides of the shm group's paths (reduced whole up to 128 KiB, split across the
-- ranks in 1 MiB chunks above) and of its slots (WICK_DIST_SHM_SLOT_BYTES makes every op chunk)
for _, case in ipairs({ { 1, "f32" }, { 4099, "bf16" }, { 40000, "i64" }, { 300001, "f32" } }) do
  do
    local len, dt = case[1], case[2]
    local what = "length " .. len .. " " .. dt
    local idx = wick.arange(len, { dtype = "f64" })
    local t = (idx % 7 + rank):to(dt)
    dist.all_reduce(t)
    assert(t:eq(((idx % 7) * world + world * (world - 1) / 2):to(dt)):all():item(), what .. " all_reduce sum")
    t = (idx % 5 + rank):to(dt)
    dist.all_reduce(t, "max")
    assert(t:eq((idx % 5 + world - 1):to(dt)):all():item(), what .. " all_reduce max")
    t = (idx % 3 + rank):to(dt)
    dist.broadcast(t, world - 1)
    assert(t:eq((idx % 3 + world - 1):to(dt)):all():item(), what .. " broadcast")
    local list = {}
    for i = 1, world do list[i] = wick.zeros(len, { dtype = dt }) end
    dist.all_gather(list, (idx % 3 + rank):to(dt))
    for i = 1, world do assert(list[i]:eq((idx % 3 + i - 1):to(dt)):all():item(), what .. " all_gather " .. i) end
    local inputs = {}
    for i = 1, world do inputs[i] = (idx % 3 + rank + i):to(dt) end
    local out = wick.zeros(len, { dtype = dt })
    dist.reduce_scatter(out, inputs)
    assert(out:eq(((idx % 3) * world + world * (world - 1) / 2 + world * (rank + 1)):to(dt)):all():item(),
      what .. " reduce_scatter")
    local sl
    if rank == 0 then sl = {} for i = 1, world do sl[i] = (idx % 3 + i):to(dt) end end
    out = wick.zeros(len, { dtype = dt })
    dist.scatter(out, sl, 0)
    assert(out:eq((idx % 3 + rank + 1):to(dt)):all():item(), what .. " scatter")
  end
end

-- non-contiguous tensors are reduced in place through a contiguous copy
local m = wick.tensor({ { 1, 2 }, { 3, 4 } }, { dtype = "f64" }):t()
dist.all_reduce(m, "max")
check("transposed all_reduce", m:flatten():tolist(), { 1, 3, 2, 4 })
local m2 = wick.tensor({ { 1, 2 }, { 3, 4 } }, { dtype = "f64" }) * (rank + 1)
dist.all_reduce(m2:t(), "sum")
local s = world * (world + 1) / 2
check("all_reduce of a view", m2:flatten():tolist(), { s, 2 * s, 3 * s, 4 * s })

-- argument errors, the same at every world size
assert(err(dist.broadcast, wick.ones(1), world) == "broadcast: src " .. world .. " is out of range for world size " .. world)
assert(err(dist.all_gather, {}, wick.ones(1)) == "all_gather: tensor_list must be a list of " .. world .. " tensor(s)")
assert(err(dist.all_reduce, wick.ones(1), "mean") == "all_reduce: unknown op 'mean'")
assert(err(dist.all_reduce, wick.ones(1, { dtype = "bool" })) == "all_reduce: unsupported dtype bool (f32, f64, f16, bf16, i64, i32 or u8)")
assert(err(dist.all_reduce, wick.ones(1), { asyncop = true }):match("unknown option 'asyncop'"))
assert(err(dist.all_reduce, wick.ones(1), { group = {} }) == "all_reduce: group must be a group made by new_group (got table)")

if arg[1] == "groups" then
  -- made in the same order on every rank, members or not
  local odd = dist.new_group({ 3, 1, 2 })          -- 3 ranks, without rank 0
  local all = dist.new_group({ 2, 0, 3, 1 })       -- 4 ranks, given unsorted
  local low, high = dist.new_group({ 0, 1 }), dist.new_group({ 2, 3 })
  local solo -- each rank in a group of its own (every rank makes all of them, in the same order)
  for k = 0, world - 1 do
    local g = dist.new_group({ k })
    if k == rank then solo = g end
  end
  assert(tostring(odd) == "ProcessGroup(ranks {1, 2, 3})", tostring(odd))
  check("odd ranks", { dist.get_rank(odd), dist.get_world_size(odd) },
    rank == 0 and { -1, -1 } or { rank - 1, 3 })
  check("all ranks", { dist.get_rank(all), dist.get_world_size(all) }, { rank, 4 })
  -- a non-member's collectives do nothing and return nil
  if rank == 0 then
    local t = wick.ones(2)
    assert(dist.all_reduce(t, "sum", { group = odd }) == nil and t:tolist()[1] == 1)
    assert(dist.barrier({ group = odd }) == nil)
  else
    grid(odd, "group {1,2,3}", { "f32", "f64", "i64" })
    assert(err(dist.broadcast, wick.ones(1), 0, { group = odd }) == "broadcast: src 0 is not in the group")
    assert(err(dist.all_gather, { wick.ones(1) }, wick.ones(1), { group = odd }) == "all_gather: tensor_list must be a list of 3 tensor(s)")
  end
  grid(all, "group {0,1,2,3}", { "f32", "f64", "i64" })
  -- two disjoint groups at once, then the world again: each has its own connections
  local pair = rank < 2 and low or high
  grid(pair, "pair", { "f64" })
  grid(solo, "solo", { "i64" })
  grid(nil, "world after groups", { "f32" })
  assert(err(dist.new_group, { 0, 4 }) == "new_group: rank 4 is out of range for world size 4")
  assert(err(dist.new_group, { 1, 1 }) == "new_group: rank 1 is listed twice")
  assert(err(dist.new_group, {}) == "new_group: ranks must not be empty")
  dist.destroy_process_group(odd)
  if rank ~= 0 then assert(err(dist.all_reduce, wick.ones(1), { group = odd }) == "all_reduce: the group was destroyed") end
end

dist.barrier()
print("ok " .. rank)
dist.destroy_process_group()
