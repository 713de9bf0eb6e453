# Prints, as a Lua chunk returning a list, PyTorch's DistributedSampler indices for many
# (N, R, rank, seed, epoch, shuffle, drop_last) combinations; spec/data/distributed_sampler_spec.lua
# runs it live with Debian's /usr/bin/python3 (torch 1.13) and compares rank by rank.
import sys
from torch.utils.data import DistributedSampler

def lua(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "{" + ",".join(lua(x) for x in v) + "}"
    return str(v)

out = []
for n in (0, 1, 2, 3, 7, 10, 16, 33, 100, 1001):
    for r in (1, 2, 3, 4, 5, 8):
        for shuffle in (True, False):
            for drop_last in (False, True):
                for seed, epoch in ((0, 0), (42, 3), (12345, 1), (-7, 2)):
                    if not shuffle and (seed, epoch) != (0, 0):
                        continue
                    ranks = []
                    for rank in range(r):
                        s = DistributedSampler(range(n), num_replicas=r, rank=rank, shuffle=shuffle,
                                               seed=seed, drop_last=drop_last)
                        s.set_epoch(epoch)
                        ranks.append(list(s))
                    out.append("{n=%d,r=%d,shuffle=%s,drop_last=%s,seed=%d,epoch=%d,ranks=%s}" % (
                        n, r, lua(shuffle), lua(drop_last), seed, epoch, lua(ranks)))
sys.stdout.write("return {\n" + ",\n".join(out) + "\n}\n")
