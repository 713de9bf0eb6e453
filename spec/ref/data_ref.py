# Reference index orders for spec/data/sampler_spec.lua and dataloader_spec.lua, from PyTorch's
# torch.utils.data (Debian's python3-torch). Run: /usr/bin/python3 spec/ref/data_ref.py
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset, random_split

ds = TensorDataset(torch.arange(10))


def epochs(loader, n=2):
    return [[b[0].tolist() for b in loader] for _ in range(n)]


print("seeded loader", epochs(DataLoader(ds, batch_size=4, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))))
torch.manual_seed(0)
print("global loader", epochs(DataLoader(ds, batch_size=4, shuffle=True)))
print("drop_last seed 5", epochs(DataLoader(ds, batch_size=3, shuffle=True, drop_last=True,
                                            generator=torch.Generator().manual_seed(5))))
print("sampler num_samples=15",
      list(RandomSampler(range(10), num_samples=15, generator=torch.Generator().manual_seed(1))))
print("sampler replacement 40",
      list(RandomSampler(range(10), replacement=True, num_samples=40,
                         generator=torch.Generator().manual_seed(2))))
torch.manual_seed(3)
print("sampler global", list(RandomSampler(range(6))), list(RandomSampler(range(6))))
print("split [3, 7]", [s.indices for s in random_split(range(10), [3, 7],
                                                      generator=torch.Generator().manual_seed(42))])
print("split [0.3, 0.7]", [s.indices for s in random_split(range(10), [0.3, 0.7],
                                                          generator=torch.Generator().manual_seed(42))])
print("split [0.5, 0.5] of 5", [s.indices for s in random_split(range(5), [0.5, 0.5],
                                                               generator=torch.Generator().manual_seed(0))])
