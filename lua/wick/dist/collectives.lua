-- wick.dist's collectives: barrier, all_reduce, broadcast, all_gather, gather, scatter,
-- reduce_scatter and their Work handles, on a group's process group (Gloo, shared memory or
-- NCCL) or the identity at world size 1.
local wick = require("wick")
local core_pg = require("wick.core")._pg
local config = require("wick.config")
local G = require("wick.dist.group")

local dist = {}
local resolve, need = G.resolve, G.need

-- Each op runs on the group's communication thread (in submission order, the same on every
-- rank) on contiguous CPU buffers: a non-contiguous tensor goes through a contiguous copy that
-- is copied back when the op is in place. With async_op = true the call returns a Work handle
-- whose :wait() raises the op's error and then does that copy back.

local ops = { sum = true, avg = true, product = true, min = true, max = true }
local dtypes = { f32 = true, f64 = true, f16 = true, bf16 = true, i64 = true, i32 = true, u8 = true }
-- what Gloo lacks: f16/bf16 travel as f32 there (rounded once on the way back)
local half = { f16 = true, bf16 = true }

-- PyTorch's Work: wait() blocks until done (raising the op's error), is_completed().
local Work = {}
Work.__index = Work
function Work:wait()
  if self._work then self._work:wait() end
  if self._finish then local f = self._finish self._finish = nil f() end
  return true
end
function Work:is_completed() return self._work == nil or self._work:is_completed() end

dist._Work = Work
local function work(w, finish) return setmetatable({ _work = w, _finish = finish }, Work) end

-- Splits the trailing options table off: returns the positional args, async_op and the group
-- (nil when this rank is not in it).
local function options(fn, ...)
  local args = table.pack(...)
  local opts
  if args.n > 0 and type(args[args.n]) == "table" and not wick.is_tensor(args[args.n])
    and args[args.n][1] == nil and getmetatable(args[args.n]) == nil then
    opts = args[args.n]
    args[args.n] = nil
    args.n = args.n - 1
  end
  opts = config.check_options(fn, opts, { "async_op", "group" })
  return args, opts.async_op and true or false, resolve(fn, opts.group)
end

-- barrier({async_op, group}): the backend's barrier; without one a store-based one (each rank
-- counts itself in; the last one opens the gate).
function dist.barrier(opts)
  need("barrier")
  local _, async, g = options("barrier", opts)
  if not g then return nil end
  if g.pg or g.nccl_pg then
    local w = (g.pg or g.nccl_pg):submit("barrier")
    if async then return work(w) end
    w:wait()
    return
  end
  if async then
    dist.barrier({ group = g ~= G.state and g or nil })
    return work()
  end
  if g.world_size == 1 then return end
  g.barriers = g.barriers + 1
  local key = g.prefix .. "barrier/" .. g.barriers
  if g.store:add(key, 1) == g.world_size then g.store:set(key .. "/done", "1") end
  g.store:wait({ key .. "/done" })
end

local function check_tensor(fn, t, what)
  if not wick.is_tensor(t) then error(fn .. ": expected " .. (what or "a tensor") .. " (got " .. type(t) .. ")", 0) end
end

-- NCCL runs a group's collectives on CUDA tensors: with backend "nccl" (also at world size 1,
-- so that the communicator is exercised) or, with no backend named, when the group has more
-- than one rank. The communicator is made by the first such collective, on t's device (one
-- device per process, as PyTorch), under the group's store prefix.
local function nccl_pg(fn, g, t)
  local explicit = G.state.backend == "nccl"
  if t.device == "cpu" then
    if explicit then error(fn .. ": the nccl backend needs CUDA tensors (got a tensor on cpu)", 0) end
    return nil
  end
  if not (explicit or (G.state.backend_auto and g.world_size > 1)) then return nil end
  if g.nccl_pg then
    if t.device ~= g.nccl_device then
      error(string.format("%s: the group's NCCL communicator is on %s; got a tensor on %s (one device per process)",
        fn, g.nccl_device, t.device), 0)
    end
    return g.nccl_pg
  end
  if not core_pg.nccl then error(fn .. ": the nccl backend is not available in this build (it needs CUDA and NCCL)", 0) end
  local index = math.tointeger(tonumber(t.device:match("^cuda:(%d+)$"))) or 0
  local ok, pg = pcall(core_pg.new_nccl, g.world_size > 1 and g.store or nil, g.prefix .. "nccl/", g.rank,
    g.world_size, G.state.timeout, index)
  if not ok then error(fn .. ": " .. tostring(pg), 0) end
  g.nccl_pg, g.nccl_device = pg, t.device
  return pg
end

-- For nn.DistributedDataParallel's reducer: the backend handle of a group (nil at size 1)
-- with this process's rank in it and its size; nothing when this rank is not in the group.
-- t (a parameter, optional): CUDA tensors reduce over the group's NCCL communicator.
function dist._group_pg(fn, group, t)
  local g = resolve(fn, group)
  if not g then return nil end
  local pg = t and t.device ~= "cpu" and nccl_pg(fn, g, t) or nil
  return pg or g.pg, g.rank, g.world_size
end

-- Checks t and returns the process group that runs the op on it (nil: the identity of a
-- group of one) and whether it is NCCL.
local function collective(fn, t, g)
  check_tensor(fn, t)
  -- the same message at every size: the identity of size 1 would accept anything
  if t.device == "cpu" and not dtypes[t.dtype] then
    error(string.format("%s: unsupported dtype %s (f32, f64, f16, bf16, i64, i32 or u8)", fn, t.dtype), 0)
  end
  local nccl = nccl_pg(fn, g, t)
  if nccl then return nccl, true end
  if g.world_size > 1 and not g.pg then
    if not core_pg.gloo then
      error(fn .. ": needs a process group backend (gloo), which this build does not have yet", 0)
    end
    error(fn .. ": the " .. G.state.backend .. " backend is not available in this build", 0)
  end
  return g.world_size > 1 and g.pg or nil, false
end

-- src/dst are global ranks (as PyTorch); returns the rank in g.
local function check_root(fn, name, r, g)
  r = r or 0
  if math.type(r) ~= "integer" or r < 0 or r >= G.state.world_size then
    error(string.format("%s: %s %s is out of range for world size %d", fn, name, tostring(r), G.state.world_size), 0)
  end
  if g == G.state then return r end
  local gr = g.index[r]
  if not gr then error(string.format("%s: %s %d is not in the group", fn, name, r), 0) end
  return gr
end

-- The list argument of all_gather/gather/scatter/reduce_scatter: one tensor per rank of the
-- group with t's number of elements (values are converted to and from t's dtype, as copy_ does).
local function check_list(fn, name, list, t, g)
  if type(list) ~= "table" or #list ~= g.world_size then
    error(string.format("%s: %s must be a list of %d tensor(s)", fn, name, g.world_size), 0)
  end
  for i, x in ipairs(list) do
    check_tensor(fn, x, "a tensor in " .. name)
    if x:numel() ~= t:numel() then
      error(string.format("%s: %s[%d] has %d elements, expected %d like the tensor", fn, name, i, x:numel(), t:numel()), 0)
    end
  end
end

local function contiguous(t) return t:is_contiguous() and t or t:contiguous() end
-- Whether pg has reduce_scatter, avg, f16 and bf16 of its own (Gloo, and the hierarchical
-- group over it, have none of them).
local function native(pg) local n = pg:name() return n == "shm" or n == "nccl" end
-- The contiguous buffer pg moves for t: t itself when it can, a copy otherwise.
local function wire(t, pg)
  if half[t.dtype] and not native(pg) then return t:float() end
  return contiguous(t)
end

-- Runs kind on the group's thread; finish (copy-backs) runs after completion.
local function run(pg, async, kind, buf, aux, root, reduce, finish)
  local w = pg:submit(kind, buf, aux, root, reduce)
  if async then return work(w, finish) end
  w:wait()
  if finish then finish() end
end

-- A flat buffer of world_size copies of t's elements, rank-major.
local function flat_for(t, g) return wick.empty({ g.world_size * t:numel() }, { dtype = t.dtype, device = t.device }) end
local function part(flat, i, like) local n = like:numel() return flat:narrow(0, i * n, n):view(like:size()) end

-- all_reduce(t, op = "sum", {async_op, group}): in place. "avg" is sum then division by the
-- group's size (floating-point tensors only), as gloo has no average.
function dist.all_reduce(t, ...)
  local args, async, g = options("all_reduce", ...)
  local op = args[1] or "sum"
  if not g then return nil end
  local pg = collective("all_reduce", t, g)
  if not ops[op] then error("all_reduce: unknown op '" .. tostring(op) .. "'", 0) end
  if op == "avg" and not t:is_floating_point() then
    error("all_reduce: avg needs a floating-point tensor (got " .. t.dtype .. ")", 0)
  end
  if not pg then return async and work() or t end
  local buf = wire(t, pg)
  local divide = op == "avg" and not native(pg) -- NCCL (ncclAvg) and shm average themselves
  local r = run(pg, async, "all_reduce", buf, nil, 0, divide and "sum" or op, function()
    if divide then buf:div_(g.world_size) end
    if buf ~= t then t:copy_(buf) end
  end)
  return r or t
end

-- broadcast(t, src = 0, {async_op, group}): in place; src is a global rank.
function dist.broadcast(t, ...)
  local args, async, g = options("broadcast", ...)
  if not g then return nil end
  local pg = collective("broadcast", t, g)
  local src = check_root("broadcast", "src", args[1], g)
  if not pg then return async and work() or t end
  local buf = wire(t, pg)
  local r = run(pg, async, "broadcast", buf, nil, src, nil, function() if buf ~= t then t:copy_(buf) end end)
  return r or t
end

-- all_gather(tensor_list, t, {async_op, group}): tensor_list[i] gets group rank i-1's t.
function dist.all_gather(list, t, ...)
  local _, async, g = options("all_gather", ...)
  if not g then return nil end
  local pg = collective("all_gather", t, g)
  check_list("all_gather", "tensor_list", list, t, g)
  if not pg then list[1]:copy_(t:reshape(list[1]:size())) return async and work() or list end
  local buf = wire(t, pg)
  local flat = flat_for(buf, g)
  local r = run(pg, async, "all_gather", buf, flat, 0, nil, function()
    for i, x in ipairs(list) do x:copy_(part(flat, i - 1, x)) end
  end)
  return r or list
end

-- gather(t, gather_list, dst = 0, {async_op, group}): gather_list (on dst only) gets every
-- rank's t.
function dist.gather(t, list, ...)
  local args, async, g = options("gather", ...)
  if not g then return nil end
  local pg = collective("gather", t, g)
  local dst = check_root("gather", "dst", args[1], g)
  local root = g.rank == dst
  if root then check_list("gather", "gather_list", list, t, g)
  elseif list ~= nil then error("gather: gather_list must be nil on a rank other than dst", 0) end
  if not pg then list[1]:copy_(t:reshape(list[1]:size())) return async and work() or list end
  local buf = wire(t, pg)
  local flat = root and flat_for(buf, g) or nil
  local r = run(pg, async, "gather", buf, flat, dst, nil, function()
    if root then for i, x in ipairs(list) do x:copy_(part(flat, i - 1, x)) end end
  end)
  return r or list
end

-- scatter(t, scatter_list, src = 0, {async_op, group}): t gets scatter_list[rank+1] of src.
function dist.scatter(t, list, ...)
  local args, async, g = options("scatter", ...)
  if not g then return nil end
  local pg = collective("scatter", t, g)
  local src = check_root("scatter", "src", args[1], g)
  local root = g.rank == src
  if root then check_list("scatter", "scatter_list", list, t, g)
  elseif list ~= nil then error("scatter: scatter_list must be nil on a rank other than src", 0) end
  if not pg then t:copy_(list[1]:reshape(t:size())) return async and work() or t end
  local buf = wire(t, pg)
  local flat
  if root then
    flat = flat_for(buf, g)
    for i, x in ipairs(list) do part(flat, i - 1, t):copy_(x:view(t:size())) end
  end
  local r = run(pg, async, "scatter", buf, flat, src, nil, function() if buf ~= t then t:copy_(buf) end end)
  return r or t
end

-- reduce_scatter(output, input_list, op = "sum", {async_op, group}): output gets the reduction
-- of input_list[rank+1] over the ranks. Gloo has no reduce_scatter on plain buffers: there it
-- is an all_reduce of the whole list (world_size times the traffic of a real reduce_scatter).
function dist.reduce_scatter(out, list, ...)
  local args, async, g = options("reduce_scatter", ...)
  local op = args[1] or "sum"
  if not g then return nil end
  local pg = collective("reduce_scatter", out, g)
  if not ops[op] then error("reduce_scatter: unknown op '" .. tostring(op) .. "'", 0) end
  check_list("reduce_scatter", "input_list", list, out, g)
  if op == "avg" and not out:is_floating_point() then
    error("reduce_scatter: avg needs a floating-point tensor (got " .. out.dtype .. ")", 0)
  end
  if not pg then out:copy_(list[1]:reshape(out:size())) return async and work() or out end
  local buf = wire(out, pg)
  local flat = flat_for(buf, g)
  for i, x in ipairs(list) do part(flat, i - 1, out):copy_(x:view(out:size())) end
  if native(pg) then -- a real reduce_scatter (ncclReduceScatter, shm)
    local r = run(pg, async, "reduce_scatter", buf, flat, 0, op, function() if buf ~= out then out:copy_(buf) end end)
    return r or out
  end
  local r = run(pg, async, "all_reduce", flat, nil, 0, op == "avg" and "sum" or op, function()
    local mine = part(flat, g.rank, out)
    if op == "avg" then mine:div_(g.world_size) end
    out:copy_(mine)
  end)
  return r or out
end

return dist
