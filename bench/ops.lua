-- Per-op overhead of small tensor ops and throughput of large ones, in wick.
-- Prints "name<TAB>microseconds per call"; bench/ops_torch.py prints the same for PyTorch.
local bench = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/timing.lua")

-- Same thread count as the PyTorch side (bench/run.sh sets WICK_BENCH_THREADS for both).
wick.set_num_threads(tonumber(os.getenv("WICK_BENCH_THREADS") or "") or wick.get_num_threads())
wick.manual_seed(0)
local a, b = wick.randn(16, 32), wick.randn(16, 32)
local bt = wick.randn(32, 16)
bench("small_add", function() return a + b end, 20000)
bench("small_mul", function() return a * b end, 20000)
bench("small_matmul", function() return a:matmul(bt) end, 20000)
bench("small_sum", function() return a:sum() end, 20000)

local n = 4 * 1024 * 1024
local x, y = wick.randn(n), wick.randn(n)
bench("large_add", function() return x + y end, 50)
bench("large_mul", function() return x * y end, 50)
bench("large_relu", function() return x:relu() end, 50)
bench("large_sum", function() return x:sum() end, 50)
local m1, m2 = wick.randn(1024, 1024), wick.randn(1024, 1024)
bench("sgemm_1024", function() return m1:matmul(m2) end, 10)
