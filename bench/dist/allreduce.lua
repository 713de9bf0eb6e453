-- All-reduce bus bandwidth of wick's Gloo process group: run under `wick run -n N`. Rank 0
-- prints one line per size: "allreduce BYTES SECONDS_PER_OP BUSBW_GBPS" (f32 sum; bus bandwidth
-- = bytes / time * 2 (N-1) / N, as nccl-tests). Used by bench/dist/run.sh.
-- usage: wick run -n 2 bench/dist/allreduce.lua [max_bytes = 64 MiB] [seconds per size = 0.5]
local dist = wick.dist
dist.init_process_group()
local n, rank = dist.get_world_size(), dist.get_rank()
local max_bytes = tonumber(arg[1]) or 64 * 2 ^ 20
local budget = tonumber(arg[2]) or 0.5

local bytes = 4096
while bytes <= max_bytes do
  local t = wick.ones(bytes // 4)
  dist.all_reduce(t) -- warm-up (and connection set-up for this size's buffers)
  -- iterations: as many as fit the budget, the same on every rank (rank 0's estimate)
  local t0 = wick.perf_counter()
  dist.all_reduce(t)
  local est = wick.tensor({ math.max(3, math.min(1000, math.floor(budget / math.max(wick.perf_counter() - t0, 1e-6)))) }, { dtype = "i64" })
  dist.broadcast(est, 0)
  local iters = est:item()
  dist.barrier()
  t0 = wick.perf_counter()
  for _ = 1, iters do dist.all_reduce(t) end
  local dt = (wick.perf_counter() - t0) / iters
  if rank == 0 then
    print(string.format("allreduce %d %.9f %.4f", bytes, dt, bytes / dt * 2 * (n - 1) / n / 1e9))
  end
  bytes = bytes * 4
end
dist.destroy_process_group()
