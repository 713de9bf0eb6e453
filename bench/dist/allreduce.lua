-- All-reduce latency and bus bandwidth of wick's process group (shared memory on one host, or
-- Gloo with WICK_DIST_SHM=0): run under `wick run -n N`. Rank 0 prints "transport NAME", then
-- one line per size: "allreduce BYTES SECONDS_PER_OP BUSBW_GBPS", the median over the timed ops
-- (f32 sum; bus bandwidth = bytes / time * 2 (N-1) / N, as nccl-tests). Used by run.sh.
-- usage: wick run -n 2 bench/dist/allreduce.lua [max_bytes = 64 MiB] [seconds per size = 0.5]
local dist = wick.dist
dist.init_process_group()
local n, rank = dist.get_world_size(), dist.get_rank()
local max_bytes = tonumber(arg[1]) or 64 * 2 ^ 20
local budget = tonumber(arg[2]) or 0.5
if rank == 0 then print("transport " .. tostring(dist._transport())) end

local bytes = 4096
while bytes <= max_bytes do
  local t = wick.ones(bytes // 4)
  dist.all_reduce(t) -- warm-up
  -- iterations: as many as fit the budget (5..1000), the same on every rank (rank 0's estimate)
  local t0 = wick.perf_counter()
  dist.all_reduce(t)
  local est = wick.tensor({ math.max(5, math.min(1000, math.floor(budget / math.max(wick.perf_counter() - t0, 1e-6)))) }, { dtype = "i64" })
  dist.broadcast(est, 0)
  local iters = est:item()
  dist.barrier()
  local times = {}
  for i = 1, iters do
    t0 = wick.perf_counter()
    dist.all_reduce(t)
    times[i] = wick.perf_counter() - t0
  end
  table.sort(times)
  local dt = times[iters // 2 + 1]
  if rank == 0 then
    print(string.format("allreduce %d %.9f %.4f", bytes, dt, bytes / dt * 2 * (n - 1) / n / 1e9))
  end
  bytes = bytes * 4
end
dist.destroy_process_group()
