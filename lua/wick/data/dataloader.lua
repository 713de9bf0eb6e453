-- DataLoader(ds, {batch_size = 1, shuffle = false, sampler, drop_last = false, collate,
-- num_workers = 0, seed, generator, prefetch_factor = 2, timeout = 0, worker_init_fn,
-- pin_memory, progress, desc}), iterated as
--   for x, y in loader() do ... end                 -- PyTorch's `for x, y in loader:`
--   for step, x, y in loader:iter() do ... end      -- enumerate(loader): step is 0-based
-- #loader is the number of batches.
-- Batches come from ds:get_batch(indices) when the dataset has it (and no collate is given),
-- else from ds:get(i) per sample and collate (default_collate). shuffle draws like PyTorch's
-- DataLoader: `seed = s` matches generator=torch.Generator().manual_seed(s), no seed matches
-- the global generator after torch.manual_seed. pin_memory = true returns batches in pinned
-- (page-locked) memory, for x:to("cuda", {non_blocking = true}); without a CUDA device it does
-- nothing, as PyTorch only warns then.
local wick = require("wick")
local util = require("wick.data.util")
local samplers = require("wick.data.sampler")
local collate_mod = require("wick.data.collate")
local progress = require("wick.data.progress")
local workers = require("wick.data.workers")

local M = {}

local DataLoader = util.class("DataLoader")
M.DataLoader = DataLoader

local OPTIONS = { "batch_size", "shuffle", "sampler", "drop_last", "collate", "collate_fn", "num_workers",
  "seed", "generator", "prefetch_factor", "timeout", "worker_init_fn", "pin_memory", "progress", "desc" }

local function check_type(name, v, want, default)
  if v == nil then return default end
  local ok = want == "integer" and math.type(v) == "integer" or type(v) == want
  if not ok then
    error(string.format("DataLoader: %s must be %s (got %s)", name,
      want == "integer" and "an integer" or "a " .. want, math.type(v) or type(v)), 0)
  end
  return v
end

function DataLoader.new(ds, opts)
  opts = util.check_options("DataLoader", opts, OPTIONS)
  if type(ds) ~= "table" and type(ds) ~= "userdata" then
    error("DataLoader: expected a dataset (got " .. type(ds) .. ")", 0)
  end
  local n = util.length("DataLoader", ds)
  -- the options as given, for wick.recipe.prepare to make the same loader with another sampler
  local given = {}
  for k, v in pairs(opts) do given[k] = v end
  local self = setmetatable({ dataset = ds, _options = given }, DataLoader)
  self.batch_size = check_type("batch_size", opts.batch_size, "integer", 1)
  if self.batch_size < 1 then error(string.format("DataLoader: batch_size must be positive (got %d)", self.batch_size), 0) end
  self.drop_last = check_type("drop_last", opts.drop_last, "boolean", false)
  local shuffle = check_type("shuffle", opts.shuffle, "boolean", false)
  self.num_workers = check_type("num_workers", opts.num_workers, "integer", 0)
  if self.num_workers < 0 then error(string.format("DataLoader: num_workers must be >= 0 (got %d)", self.num_workers), 0) end
  self.prefetch_factor = check_type("prefetch_factor", opts.prefetch_factor, "integer", 2)
  self.timeout = check_type("timeout", opts.timeout, "number", 0)
  self.worker_init_fn = check_type("worker_init_fn", opts.worker_init_fn, "function", nil)
  self.pin_memory = check_type("pin_memory", opts.pin_memory, "boolean", false)
  self.progress = check_type("progress", opts.progress, "boolean", nil)
  self.desc = check_type("desc", opts.desc, "string", nil)
  if opts.collate and opts.collate_fn then error("DataLoader: give collate or collate_fn, not both", 0) end
  self.collate = check_type("collate", opts.collate or opts.collate_fn, "function", nil)
  if opts.seed ~= nil and opts.generator ~= nil then error("DataLoader: give seed or generator, not both", 0) end
  if opts.seed ~= nil then
    self.generator = wick.Generator():manual_seed(check_type("seed", opts.seed, "integer"))
  else
    self.generator = opts.generator
  end
  if opts.sampler ~= nil then
    if shuffle then error("DataLoader: sampler option is mutually exclusive with shuffle", 0) end
    local s = opts.sampler
    if (type(s) ~= "table" and type(s) ~= "userdata") or not s.indices then
      error("DataLoader: sampler must have #sampler and sampler:indices() (got " .. type(s) .. ")", 0)
    end
    self.sampler = s
  elseif shuffle then
    self.sampler = samplers.RandomSampler(n, { generator = self.generator })
  else
    self.sampler = samplers.SequentialSampler(n)
  end
  return self
end

function DataLoader:__len()
  local n, bs = #self.sampler, self.batch_size
  if self.drop_last then return n // bs end
  return (n + bs - 1) // bs
end

function DataLoader:__tostring()
  return string.format("DataLoader(%d batches of %d, %d workers)", #self, self.batch_size, self.num_workers)
end

-- fetch(indices) -> the batch's values
function DataLoader:_fetcher()
  local ds, collate = self.dataset, self.collate
  if ds.get_batch and not collate then
    return function(idx) return ds:get_batch(idx) end
  end
  collate = collate or collate_mod.default_collate
  return function(idx)
    local samples = {}
    for k, i in ipairs(idx:tolist()) do samples[k] = table.pack(ds:get(i)) end
    return collate(samples)
  end
end

-- The epoch's indices as a contiguous 1-d i64 tensor.
local function epoch_indices(sampler)
  local idx = sampler:indices()
  if not wick.is_tensor(idx) then
    if type(idx) ~= "table" then error("DataLoader: sampler:indices() must return a tensor or a table", 0) end
    idx = wick.tensor(idx, { dtype = "i64" })
  end
  if idx.dtype ~= "i64" then idx = idx:long() end
  return idx:flatten():contiguous()
end

-- for step, ... in loader:iter(): one epoch. The fourth value closes the epoch's workers and
-- progress bar when the loop ends, breaks or raises.
-- The tensors of a batch (also inside tables) in pinned memory, pinned in the main process.
local function pin_all(v)
  if wick.is_tensor(v) then return v:pin_memory() end
  if type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = pin_all(x) end
    return setmetatable(out, getmetatable(v))
  end
  return v
end

local function pin_batch(...)
  local n = select("#", ...)
  local vals = { ... }
  for i = 1, n do vals[i] = pin_all(vals[i]) end
  return table.unpack(vals, 1, n)
end

function DataLoader:iter()
  -- PyTorch draws a base seed (the workers' seeds) at the start of every epoch
  local base_seed = samplers.draw_seed(self.generator)
  local idx = epoch_indices(self.sampler)
  local n, bs = idx:numel(), self.batch_size
  local nb = self.drop_last and n // bs or (n + bs - 1) // bs
  local function batch(b)
    local start = b * bs
    return idx:narrow(0, start, math.min(bs, n - start))
  end
  local fetch = self:_fetcher()
  local source, pool
  if self.num_workers == 0 or nb == 0 then
    source = function(b) return fetch(batch(b)) end
  else
    source, pool = workers.start(self, fetch, batch, nb, base_seed)
  end
  if self.pin_memory and wick.cuda.is_available() then
    local unpinned = source
    source = function(b) return pin_batch(unpinned(b)) end
  end
  local bar = progress.enabled(self.progress) and progress.new(nb, { desc = self.desc }) or nil
  self._bar = bar
  local function close()
    if pool then pool:close() end
    if bar then bar:close() end
    if self._bar == bar then self._bar = nil end
  end
  self._close_epoch = close
  local closer = setmetatable({}, { __close = close })
  local step, samples = -1, 0
  local function next_batch()
    if bar and step >= 0 then
      samples = samples + math.min(bs, n - step * bs)
      bar:update(step + 1, samples)
    end
    step = step + 1
    if step >= nb then return nil end
    return step, source(step)
  end
  return next_batch, nil, nil, closer
end

-- `for x, y in loader() do`: one epoch of batches, without the step. The forms a Python habit
-- suggests raise with that spelling: `for x, y in loader do` (Lua calls the loader with the
-- loop's state and control) and ipairs(loader) (which would silently run no loop).
local LOOP = "write 'for x, y in loader() do' (or 'for step, x, y in loader:iter() do' for a 0-based step too)"

function DataLoader:__call(...)
  if select("#", ...) > 0 then
    error("DataLoader: a loader is not an iterator: " .. LOOP, 0)
  end
  local next_batch, _, _, closer = self:iter()
  return function() return select(2, next_batch()) end, nil, nil, closer
end

function DataLoader:__index(k)
  local v = DataLoader[k]
  if v ~= nil or math.type(k) ~= "integer" then return v end
  error(string.format("DataLoader: loader[%d] is not a batch (ipairs(loader) runs no loop): %s", k, LOOP), 0)
end

-- Stops the workers of an epoch still open (an iterator dropped without ending its loop);
-- also __close, for `local loader <close> = DataLoader(...)`.
function DataLoader:close()
  if self._close_epoch then self._close_epoch() end
  self._close_epoch = nil
end
DataLoader.__close = DataLoader.close

-- Shown on the progress bar from the next redraw: loader:set_postfix{loss = loss} (numbers
-- or one-element tensors, read only when drawn).
function DataLoader:set_postfix(tbl)
  if self._bar then self._bar:set_postfix(tbl) end
end

function DataLoader:set_description(desc)
  self.desc = desc
  if self._bar then self._bar:set_description(desc) end
end

return M
