-- wick.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data, plus the
-- MNIST-family datasets of torchvision). One concept per file; this one gathers them.
--
-- The dataset protocol: `#ds` is the number of samples and `ds:get(i)` (0-based, negative
-- from the end) returns one sample as one or more values (`x, y`). A dataset may also have
-- `ds:get_batch(indices)` (an i64 tensor) returning whole batches; the DataLoader uses it,
-- when no custom collate is given, instead of get + collate.
local core = require("wick.core")._data

local data = {}

local dataset = require("wick.data.dataset")
data.TensorDataset = dataset.TensorDataset
data.Subset = dataset.Subset
data.random_split = dataset.random_split

local mnist = require("wick.data.mnist")
data.MNIST = mnist.MNIST
data.FashionMNIST = mnist.FashionMNIST

local sampler = require("wick.data.sampler")
data.SequentialSampler = sampler.SequentialSampler
data.RandomSampler = sampler.RandomSampler
data.DistributedSampler = require("wick.data.distributed_sampler").DistributedSampler

data.default_collate = require("wick.data.collate").default_collate
local workers = require("wick.data.workers")
-- In a DataLoader worker: {id, num_workers, seed, dataset}; nil in the main process.
function data.get_worker_info() return workers.info end
data.DataLoader = require("wick.data.dataloader").DataLoader

-- IDX files: read_idx(path) -> tensor (gzip or plain); write_idx(path, t, {gzip = false}).
data.read_idx = core.read_idx
data.write_idx = core.write_idx

-- Whether a file descriptor (0, 1, 2) is a terminal: the progress bar's switch.
data._isatty = core.isatty

return data
