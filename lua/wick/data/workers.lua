-- The DataLoader's worker processes (num_workers > 0): forked at the start of each epoch,
-- they run the same fetch (ds:get_batch, or ds:get + collate) in their copy of the Lua state
-- and hand batches back through shared memory; batch b goes to worker b % num_workers and
-- batches come out in order, so the epoch is the same as with num_workers = 0.
local wick = require("wick")
local core = require("wick.core")._data

local M = {}

-- In a worker: {id, num_workers, seed, dataset}; nil in the main process.
M.info = nil

-- Starts the workers for one epoch. batch(b) gives batch b's indices. Returns source(b) ->
-- batch b's values, and the pool (closed by the caller when the epoch ends or is abandoned).
function M.start(loader, fetch, batch, nb, base_seed)
  local nw, prefetch, timeout = loader.num_workers, loader.prefetch_factor, loader.timeout
  local init_fn = loader.worker_init_fn
  local function init(id)
    -- one thread per worker (PyTorch's choice too): the workers already run in parallel
    wick.set_num_threads(1)
    -- as PyTorch: worker `id` is seeded with base_seed + id, so random augmentations differ
    -- between workers and repeat from run to run
    local seed = base_seed + id
    wick.manual_seed(seed)
    math.randomseed(seed)
    M.info = { id = id, num_workers = nw, seed = seed, dataset = loader.dataset }
    if init_fn then init_fn(id) end
  end
  local pool = core.WorkerPool(nw, prefetch, function(idx) return fetch(idx) end, init)
  local sent = 0
  local function fill()
    while sent < nb and pool:can_submit(sent) do
      pool:submit(sent, batch(sent))
      sent = sent + 1
    end
  end
  local function refill(...)
    fill()
    return ...
  end
  local function source(b)
    fill()
    local t0 = wick.perf_counter()
    -- short waits return to Lua, where Ctrl-C ("interrupted!") can be raised
    while not pool:wait(b, 0.25) do
      if timeout > 0 and wick.perf_counter() - t0 >= timeout then
        error(string.format("DataLoader timed out after %g seconds waiting for batch %d from worker %d",
          timeout, b, b % nw), 0)
      end
    end
    return refill(pool:take(b))
  end
  return source, pool
end

return M
