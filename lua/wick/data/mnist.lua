-- MNIST and FashionMNIST from IDX files (gzip or plain), like torchvision's with ToTensor():
-- samples are f32 [1, 28, 28] in [0, 1] and integer labels; batches come from one C gather
-- of the u8 images held in memory (the same bytes torchvision reads).
local wick = require("wick")
local core = require("wick.core")._data
local util = require("wick.data.util")

local M = {}

local FILES = {
  train = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" },
  test = { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" },
}

-- root/name, root/name.gz, then torchvision's layout root/<Class>/raw/name[.gz].
local function find(root, name, dirname)
  local candidates = { root .. "/" .. name, root .. "/" .. name .. ".gz",
    root .. "/" .. dirname .. "/raw/" .. name, root .. "/" .. dirname .. "/raw/" .. name .. ".gz" }
  for _, p in ipairs(candidates) do
    local f = io.open(p, "rb")
    if f then f:close(); return p end
  end
end

-- normalize = {mean, std} (numbers, or torchvision's one-element tuples {m}, {s})
local function scale_shift(name, norm)
  if norm == nil then return 1 / 255, 0 end
  local function num(v, what)
    if type(v) == "table" and #v == 1 then v = v[1] end
    if type(v) ~= "number" then
      error(string.format("%s: normalize %s must be a number (got %s)", name, what, type(v)), 0)
    end
    return v
  end
  if type(norm) ~= "table" then
    error(string.format("%s: normalize must be a table {mean, std} (got %s)", name, type(norm)), 0)
  end
  local mean, std = num(norm[1] or norm.mean, "mean"), num(norm[2] or norm.std, "std")
  if std == 0 then error(name .. ": normalize std must not be 0", 0) end
  return 1 / (255 * std), -mean / std
end

local OPTIONS = { "transform", "target_transform", "normalize" }

local function define(name, default_root, classes, hint)
  local cls = util.class(name)
  cls.classes = classes
  cls.default_root = default_root

  -- cls(root, split, {transform, target_transform, normalize}); root nil = default_root,
  -- split "train" (default) or "test"; opts may come second: cls(root, {...}).
  function cls.new(root, split, opts)
    if type(split) == "table" and opts == nil then split, opts = nil, split end
    opts = util.check_options(name, opts, OPTIONS)
    root = root or default_root
    split = split or "train"
    if type(root) ~= "string" then error(string.format("%s: root must be a string (got %s)", name, type(root)), 0) end
    if not FILES[split] then
      error(string.format("%s: split must be \"train\" or \"test\" (got %s)", name, tostring(split)), 0)
    end
    local paths = {}
    for k, file in ipairs(FILES[split]) do
      paths[k] = find(root, file, name)
      if not paths[k] then
        error(string.format("%s: cannot find %s (or %s.gz) in %s (%s)", name, file, file, root, hint), 0)
      end
    end
    local images, labels = core.read_idx(paths[1]), core.read_idx(paths[2])
    if images.dtype ~= "u8" or images:dim() ~= 3 then
      error(string.format("%s: %s holds %s [%s] (expected u8 images [N, H, W])", name, paths[1],
        images.dtype, table.concat(images.shape, ", ")), 0)
    end
    if labels.dtype ~= "u8" or labels:dim() ~= 1 then
      error(string.format("%s: %s holds %s [%s] (expected u8 labels [N])", name, paths[2],
        labels.dtype, table.concat(labels.shape, ", ")), 0)
    end
    if labels:size(0) ~= images:size(0) then
      error(string.format("%s: %d labels in %s for %d images in %s", name, labels:size(0), paths[2],
        images:size(0), paths[1]), 0)
    end
    local scale, shift = scale_shift(name, opts.normalize)
    local self = setmetatable({
      root = root, split = split, train = split == "train", files = paths,
      data = images, targets = labels:long(), n = images:size(0),
      h = images:size(1), w = images:size(2), scale = scale, shift = shift,
      transform = opts.transform, target_transform = opts.target_transform,
    }, cls)
    -- per-sample transforms rule out the batch path: the DataLoader then uses get + collate
    if self.transform or self.target_transform then self.get_batch = false end
    return self
  end

  function cls:__len() return self.n end

  -- get(i) -> image f32 [1, H, W], label (an integer)
  function cls:get(i)
    i = util.check_index(name, i, self.n)
    local x = wick.empty({ 1, self.h, self.w })
    core.gather_(x, self.data, wick.tensor(i), self.scale, self.shift)
    if not self._labels then self._labels = self.targets:tolist() end
    local y = self._labels[i + 1]
    if self.transform then x = self.transform(x) end
    if self.target_transform then y = self.target_transform(y) end
    return x, y
  end

  -- get_batch(indices) -> images f32 [B, 1, H, W], labels i64 [B]
  function cls:get_batch(idx)
    local b = idx:numel()
    local x = wick.empty({ b, 1, self.h, self.w })
    core.gather_(x, self.data, idx, self.scale, self.shift)
    local y = wick.empty({ b }, { dtype = "i64" })
    core.gather_(y, self.targets, idx)
    return x, y
  end

  function cls:__tostring()
    return string.format("Dataset %s\n    Number of datapoints: %d\n    Root location: %s\n    Split: %s",
      name, self.n, self.root, self.split == "train" and "Train" or "Test")
  end

  return cls
end

M.FashionMNIST = define("FashionMNIST", "/usr/share/datasets/fashion-mnist",
  { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" },
  "install Debian's dataset-fashion-mnist package: apt-get install dataset-fashion-mnist")

M.MNIST = define("MNIST", "/usr/share/datasets/mnist",
  { "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
    "8 - eight", "9 - nine" },
  "Debian has no MNIST package: put the IDX files there or pass their directory as root")

return M
