-- SummaryWriter speed in wick: add_scalar events/s (call time, and with the final close) and
-- add_histogram of 1M values. Prints "name<TAB>value"; bench/tb_peers.py prints the same.
local dir = arg[1] or os.tmpname() .. ".tb"
local n = tonumber(arg[2] or "") or 100000
local w = wick.tb.SummaryWriter(dir)
local t0 = wick.perf_counter()
for i = 1, n do w:add_scalar("train/loss", 1 / i, i) end
local t1 = wick.perf_counter()
w:close()
local t2 = wick.perf_counter()
print(("add_scalar_calls_per_s\t%.0f"):format(n / (t1 - t0)))
print(("add_scalar_written_per_s\t%.0f"):format(n / (t2 - t0)))
wick.manual_seed(0)
local v = wick.randn(1000000)
local h = wick.tb.SummaryWriter(dir .. "-hist")
local best = math.huge
for step = 1, 5 do
  local s = wick.perf_counter()
  h:add_histogram("weights", v, step)
  best = math.min(best, wick.perf_counter() - s)
end
h:close()
print(("add_histogram_1M_ms\t%.2f"):format(best * 1e3))
