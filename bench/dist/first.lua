-- Start-up probe for bench/dist/startup.py: joins the group, completes one all_reduce and
-- prints the monotonic clock then ("first N.NNN").
local dist = wick.dist
dist.init_process_group()
local t = wick.ones(1)
dist.all_reduce(t)
assert(t:item() == dist.get_world_size())
print(string.format("first %.6f", wick.perf_counter()))
dist.destroy_process_group()
