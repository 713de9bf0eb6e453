# Start-up probe for bench/dist/startup.py under torchrun: joins the group, completes one
# all_reduce and prints the monotonic clock then ("first N.NNN").
import time

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
t = torch.ones(1)
dist.all_reduce(t)
assert t.item() == dist.get_world_size()
print(f"first {time.monotonic():.6f}", flush=True)
dist.destroy_process_group()
