-- wick.recipe.prepare{model, optimizer, scheduler, train, eval, device, checkpoint}: one call in
-- the spirit of Hugging Face Accelerate's prepare. Under `wick run -n N` it initialises the
-- process group, wraps the model in DDP and gives the training loader a DistributedSampler
-- and the evaluation loader its shard; it resumes from the run's checkpoint (`--resume`),
-- checkpoints after each epoch and logs to TensorBoard and metrics.jsonl in the run directory.
-- It only composes the PyTorch-style calls, which keep working on their own (docs/reference.md).
local wick = require("wick")
local log = require("wick.recipe.log")

local Prepared = { __name = "wick.recipe.Prepared" }
Prepared.__index = Prepared

local OPTIONS = { "model", "optimizer", "scheduler", "train", "eval", "device", "checkpoint" }

local function loader_like(op, name, v)
  if v ~= nil and not (type(v) == "table" and v.dataset and v.batch_size and v._options) then
    error(("%s: %s must be a wick.data.DataLoader (got %s)"):format(op, name, type(v)), 0)
  end
  return v
end

-- The same loader over `ds`, with `sampler` instead of the loader's own shuffling or order.
local function remake(loader, ds, sampler)
  local opts = {}
  for k, v in pairs(loader._options) do if k ~= "shuffle" and k ~= "sampler" then opts[k] = v end end
  opts.sampler = sampler
  return wick.data.DataLoader(ds, opts)
end

-- Moves the batches a loader yields to `device` (a CUDA device); the rest is the loader's.
local function on_device(loader, device)
  local function move(step, ...)
    if step == nil then return nil end
    local out = table.pack(...)
    for i = 1, out.n do if wick.is_tensor(out[i]) then out[i] = out[i]:to(device) end end
    return step, table.unpack(out, 1, out.n)
  end
  local wrapped = {}
  function wrapped.iter()
    local next_batch, s, c, closer = loader:iter()
    return function() return move(next_batch()) end, s, c, closer
  end
  return setmetatable(wrapped, { __index = loader, __len = function() return #loader end,
    __call = function(_, ...)
      if select("#", ...) > 0 then return loader(...) end -- `for x in loader do`: the loader's error
      local next_batch, _, _, closer = wrapped.iter()
      return function() return select(2, next_batch()) end, nil, nil, closer
    end })
end

function Prepared.new(spec)
  local op = "wick.recipe.prepare"
  spec = require("wick.config").check_options(op, spec, OPTIONS)
  local model, opt = spec.model, spec.optimizer
  if not wick.nn.Module.is_module(model) then error(op .. ": model must be an nn.Module (got " .. type(model) .. ")", 0) end
  local train, eval = loader_like(op, "train", spec.train), loader_like(op, "eval", spec.eval)
  local self = setmetatable({ module = model, optimizer = opt, scheduler = spec.scheduler }, Prepared)
  local dist = wick.dist
  local world = math.tointeger(tonumber(os.getenv("WORLD_SIZE") or "")) or 1
  if world > 1 and not dist.is_initialized() then dist.init_process_group() end
  self.world_size = world > 1 and dist.get_world_size() or 1
  self.rank = world > 1 and dist.get_rank() or 0
  self.is_main = self.rank == 0
  local device = spec.device
  if device == "auto" then
    device = wick.cuda.is_available() and ("cuda:" .. (world > 1 and dist.get_local_rank() or 0)) or "cpu"
  end
  if device ~= nil then model:to(device) end
  self.device = device or "cpu"
  if train and self.world_size > 1 then
    local shuffle = getmetatable(train.sampler) == wick.data.RandomSampler
    local sampler = wick.data.DistributedSampler(train.dataset, { shuffle = shuffle, seed = train._options.seed or 0 })
    train = remake(train, train.dataset, sampler)
    self.sampler = sampler
  end
  if eval and self.world_size > 1 then -- every world_size-th sample: each counted once
    local n = #eval.dataset
    eval = remake(eval, wick.data.Subset(eval.dataset, wick.arange(self.rank, n, self.world_size)), nil)
  end
  self.train, self.eval = train, eval
  -- a scheduler that needs the number of batches of the (sharded) loader is built here
  if type(self.scheduler) == "function" then self.scheduler = self.scheduler(opt, train and #train or 0) end
  -- `wick run --resume`: weights, optimizer, schedule and shuffling come back before DDP
  -- broadcasts rank 0's weights
  self.state = { model = model, optimizer = opt, scheduler = self.scheduler, loader = train }
  self.resumed = require("wick.recipe").resume(self.state)
  self.start_epoch = self.resumed and self.resumed.epoch or 0
  self.checkpoints = spec.checkpoint ~= false
  self.tb = log.writer()
  self.model = self.world_size > 1 and wick.nn.DDP(model) or model
  if self.device ~= "cpu" then
    if self.train then self.train = on_device(self.train, self.device) end
    if self.eval then self.eval = on_device(self.eval, self.device) end
  end
  return self
end

-- for epoch in run:epochs(n): the epochs still to run (0-based; from the checkpoint's epoch when
-- resumed). Each starts with the sampler's set_epoch; each that ends is checkpointed (rank 0,
-- counters epoch and step) and its logs flushed; after the last one the logs are closed.
function Prepared:epochs(n)
  local epoch = self.start_epoch - 1
  return function()
    if epoch >= self.start_epoch then
      local done = epoch + 1
      if self.tb then self.tb:flush() end
      if self.checkpoints then
        local step = self.train and done * #self.train or nil
        local path = require("wick.recipe").checkpoint(self.state, { epoch = done, step = step })
        if path then print(("saved checkpoint %s (epoch %d)"):format(path, done)) end
      end
    end
    epoch = epoch + 1
    if epoch >= n then
      log.close()
      self.tb = nil
      return nil
    end
    if self.sampler then self.sampler:set_epoch(epoch) end
    return epoch
  end
end

-- run:sum{a, b, ...}: the numbers summed over the ranks (in f64), as a table.
function Prepared:sum(values)
  if self.world_size == 1 then return values end
  return wick.dist.all_reduce(wick.tensor(values, { dtype = "f64" })):tolist()
end

-- run:evaluate(fn): fn(x, y, ...) for every batch of the evaluation loader (eval mode, no grad)
-- returns a table of numbers; their sums over batches and ranks are returned, by name.
function Prepared:evaluate(fn)
  if not self.eval then error("wick.recipe.prepare: evaluate needs an eval loader (prepare{eval = ...})", 0) end
  local m = self.module
  local was = m.training
  m:eval()
  local totals, names = {}, {}
  wick.no_grad(function()
    for _, x, y in self.eval:iter() do
      for k, v in pairs(fn(x, y)) do
        if totals[k] == nil then names[#names + 1], totals[k] = k, 0 end
        totals[k] = totals[k] + v
      end
    end
  end)
  m:train(was)
  table.sort(names)
  local list = {}
  for i, k in ipairs(names) do list[i] = totals[k] end
  list = self:sum(list)
  for i, k in ipairs(names) do totals[k] = list[i] end
  return totals
end

-- run:log(metrics, step): wick.recipe.log from rank 0 (TensorBoard and metrics.jsonl).
function Prepared:log(metrics, step)
  if self.is_main then return log.log(metrics, step) end
end

-- run:print(...): print on rank 0 only (flushed, so that the launcher's prefixes interleave well).
function Prepared:print(...)
  if self.is_main then
    print(...)
    io.stdout:flush()
  end
end

-- run:histograms(step): the module's weights and gradients as TensorBoard histograms.
function Prepared:histograms(step)
  if not self.tb then return end
  for name, p in self.module:named_parameters() do
    self.tb:add_histogram("weights/" .. name, p, step)
    if p.grad then self.tb:add_histogram("grads/" .. name, p.grad, step) end
  end
end

-- run:save(path): the module's state dict as safetensors, from rank 0 (directories created).
function Prepared:save(path)
  if not self.is_main or not path then return nil end
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then require("wick.core")._tb.mkdirs(dir) end
  wick.save(path, self.module:state_dict())
  print("saved " .. path)
  return path
end

return Prepared
