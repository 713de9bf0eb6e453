-- The ranks' program of spec/dist/ddp_spec.lua (run under `wick run -n N`): each scenario trains
-- nn.DistributedDataParallel on this rank's slice of a batch and compares the parameters with
-- one process training the same model (rank 0's seed) on the whole batch; prints
-- "<scenario> ok" or "<scenario> FAIL <why>" (the launcher prefixes "[rank] ").
local wick = require("wick")
local nn = wick.nn
local dist = wick.dist

dist.init_process_group()
local rank, world = dist.get_rank(), dist.get_world_size()
-- the back-end the spec expects (shm or gloo), as in grid_worker.lua
local want_transport = os.getenv("WICK_SPEC_TRANSPORT")
if want_transport and dist._transport() ~= want_transport then
  error("the world runs on " .. tostring(dist._transport()) .. ", expected " .. want_transport, 0)
end
local B, D, STEPS = 4, 6, 3 -- per-rank batch, features, SGD steps

-- A module with a layer that forward never uses (for find_unused_parameters).
local Net = wick.class("Net", nn.Module)
function Net:__init(unused)
  nn.Module.__init(self)
  self.a = nn.Linear(D, 16)
  self.b = nn.Linear(16, 16)
  self.c = nn.Linear(16, 3)
  if unused then self.spare = nn.Linear(16, 16) end
end
local use_spare = false -- set by train(): the spare layer runs in no_sync micro-batches only
function Net:forward(x)
  local h = self.b(self.a(x):tanh()):tanh()
  if use_spare then h = self.spare(h) end
  return self.c(h)
end

local function make(seed, unused)
  wick.manual_seed(seed)
  return Net(unused)
end

-- The same data on every rank: STEPS x micro batches of world * B rows.
local function data(micro)
  wick.manual_seed(1234)
  local xs, ys = {}, {}
  for i = 1, STEPS * micro do
    xs[i] = wick.randn({ world * B, D })
    ys[i] = wick.randn({ world * B, 3 })
  end
  return xs, ys
end

-- Trains model (DDP or not) for STEPS; `part` picks the rows one process sees.
local function train(model, micro, part, ddp, spare_in_no_sync)
  local xs, ys = data(micro)
  local opt = wick.optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
  for s = 1, STEPS do
    opt:zero_grad()
    for m = 1, micro do
      local i = (s - 1) * micro + m
      use_spare = spare_in_no_sync and m < micro or false
      local function step()
        local loss = nn.functional.mse_loss(model(part(xs[i])), part(ys[i]))
        loss:backward()
      end
      if ddp and m < micro then ddp:no_sync(step) else step() end
    end
    opt:step()
  end
end

local function mine(t) return t:narrow(0, rank * B, B) end
local function all(t) return t end

local function flat(model)
  local ps = {}
  for p in model:parameters() do ps[#ps + 1] = p:detach():reshape({ -1 }) end
  return wick.cat(ps, 0)
end

-- Every rank holds the same parameters, bit for bit.
local function same_on_all_ranks(v)
  local lo, hi = v:clone(), v:clone()
  dist.all_reduce(lo, "min")
  dist.all_reduce(hi, "max")
  return (hi - lo):abs():max():item() == 0
end

local function report(name, ok, why)
  print(name .. (ok and " ok" or (" FAIL " .. tostring(why))))
end

local function check(name, fn)
  local ok, err = pcall(fn)
  if not ok then report(name, false, err) end
end

-- N ranks x batch B == 1 process x batch N*B, with micro-batches accumulated under no_sync.
local function equivalence(name, micro, opts)
  check(name, function()
    opts = opts or {}
    local model = make(100 + rank, opts.unused)
    if opts.freeze then model.a:requires_grad_(false) end
    local ddp = nn.DDP(model, { find_unused_parameters = opts.unused })
    local before = opts.freeze and model.a.weight:clone()
    train(ddp, micro, mine, ddp, opts.spare_in_no_sync)
    local ref = make(100, opts.unused)
    if opts.freeze then ref.a:requires_grad_(false) end
    train(ref, micro, all, nil, opts.spare_in_no_sync)
    local diff = (flat(model) - flat(ref)):abs():max():item()
    local ok, why = diff < 1e-5, "max diff " .. diff
    if ok and not same_on_all_ranks(flat(model)) then ok, why = false, "ranks differ" end
    local st = ddp:comm_stats()
    if ok and st.iterations ~= STEPS then ok, why = false, "iterations " .. st.iterations end
    if ok and opts.freeze then
      -- frozen weights: rank 0's initial values bit for bit, and never sent
      if not wick.equal(model.a.weight, before) or not wick.equal(model.a.weight, ref.a.weight) then
        ok, why = false, "frozen weight changed"
      end
      local trainable = 0
      for p in model:parameters() do if p.requires_grad then trainable = trainable + p:numel() * 4 end end
      if st.bytes_sent ~= STEPS * trainable then ok, why = false, "bytes_sent " .. st.bytes_sent end
      if model.a.weight.grad ~= nil then ok, why = false, "frozen weight got a grad" end
    elseif ok and world > 1 then
      local total = 0
      for p in model:parameters() do total = total + p:numel() * 4 end
      if st.bytes_sent ~= STEPS * total then ok, why = false, "bytes_sent " .. st.bytes_sent end
    end
    if ok and opts.unused and not opts.spare_in_no_sync and model.spare.weight.grad ~= nil then ok, why = false, "unused param got a grad" end
    report(name, ok, why)
  end)
end

equivalence("equivalence", 1)
equivalence("no_sync", 2)
equivalence("frozen", 1, { freeze = true })
equivalence("unused", 2, { unused = true })
-- used in the no_sync micro-batch only: its accumulated gradient is still averaged
equivalence("unused_in_sync", 2, { unused = true, spare_in_no_sync = true })

-- Different seeds and a BatchNorm buffer: identical after construction.
check("seeded", function()
  wick.manual_seed(7 + rank)
  local m = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4))
  m[1].running_mean:copy_(wick.randn({ 4 }))
  local _ = nn.DDP(m)
  local v = wick.cat({ flat(m), m[1].running_mean }, 0)
  report("seeded", same_on_all_ranks(v), "ranks differ")
end)

-- Overlap: with one bucket per layer, the first bucket's all-reduce is launched while backward
-- still has gradients to compute. (Whether it has also finished when backward ends,
-- done_at_backward_end, depends on the other ranks' progress and the machine's load: printed,
-- not asserted.)
check("overlap", function()
  wick.manual_seed(3)
  local layers = {}
  for _ = 1, 8 do layers[#layers + 1] = nn.Linear(512, 512) layers[#layers + 1] = nn.Tanh() end
  local m = nn.Sequential(table.unpack(layers))
  local ddp = nn.DDP(m, { bucket_cap_mb = 1 })
  local ok, why = true, ""
  for it = 1, 3 do
    ddp(wick.randn({ 64, 512 })):sum():backward()
    local st, nb = ddp:comm_stats(), #ddp:buckets()
    ok = ok and nb == 8 and st.buckets_sent == (world > 1 and it * nb or 0)
      and st.first_launch > 0 and st.first_launch < st.last_hook and st.last_hook <= st.backward_end
    why = string.format("buckets %d sent %d first_launch %.6f last_hook %.6f end %.6f done %d",
      nb, st.buckets_sent, st.first_launch, st.last_hook, st.backward_end, st.done_at_backward_end)
  end
  report("overlap", ok, why)
  if rank == 0 then print("overlap info: " .. why) end
end)

-- broadcast_buffers: rank 0's buffers before each forward (eval mode: BatchNorm leaves them).
check("buffers", function()
  local function run(opts)
    wick.manual_seed(9)
    local m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    local ddp = nn.DDP(m, opts)
    m[1].running_mean:fill_(rank + 1)
    ddp:eval()
    ddp(wick.randn({ 2, 3 })):sum():backward()
    return m[1].running_mean[0]:item()
  end
  local on, off = run(), run({ broadcast_buffers = false })
  report("buffers", on == 1 and off == rank + 1, string.format("on %g off %g", on, off))
end)

-- process_group: DDP over ranks 0 and 1 only; another rank is not in the group.
check("subgroup", function()
  local g = dist.new_group({ 0, 1 })
  local model = make(100 + rank)
  if rank > 1 then
    local ok, err = pcall(nn.DDP, model, { process_group = g })
    report("subgroup", not ok and err == "DistributedDataParallel: this rank is not in the process_group", err)
    return
  end
  local ddp = nn.DDP(model, { process_group = g })
  wick.manual_seed(77)
  local x, y = wick.randn({ 2 * B, D }), wick.randn({ 2 * B, 3 })
  nn.functional.mse_loss(ddp(x:narrow(0, rank * B, B)), y:narrow(0, rank * B, B)):backward()
  local ref = make(100)
  nn.functional.mse_loss(ref(x), y):backward()
  local diff = 0
  for i, p in ipairs(model:parameters()) do
    diff = math.max(diff, (p.grad - ref:parameters()[i].grad):abs():max():item())
  end
  report("subgroup", diff < 1e-6, "max grad diff " .. diff)
end)

-- A parameter that gets no gradient without find_unused_parameters: the next forward raises.
check("unused_error", function()
  local m = make(5, true)
  local ddp = nn.DDP(m)
  local x = wick.randn({ 2, D })
  ddp(x):sum():backward()
  local ok, err = pcall(ddp, x)
  report("unused_error", not ok and err:find("Expected to have finished reduction in the prior iteration", 1, true)
    and err:find("Parameters which did not receive grad for rank " .. rank .. ": spare.weight, spare.bias", 1, true),
    err)
end)

-- Ranks that disagree on the parameters: every rank raises at construction.
check("mismatch", function()
  local m = rank == world - 1 and nn.Sequential(nn.Linear(3, 5)) or nn.Sequential(nn.Linear(3, 4))
  local ok, err = pcall(nn.DDP, m)
  print("mismatch " .. tostring(ok) .. " " .. tostring(err))
  m = rank == world - 1 and nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 4)) or nn.Sequential(nn.Linear(3, 4))
  ok, err = pcall(nn.DDP, m)
  print("mismatch_count " .. tostring(ok) .. " " .. tostring(err))
end)

dist.destroy_process_group()
