-- Generic datasets: TensorDataset (rows of tensors), Subset (a view through indices) and
-- random_split, as in torch.utils.data.
local wick = require("wick")
local util = require("wick.data.util")

local M = {}

-- TensorDataset(t1, t2, ...): sample i is t1[i], t2[i], ... (views); batches by index_select.
local TensorDataset = util.class("TensorDataset")
M.TensorDataset = TensorDataset

function TensorDataset.new(...)
  local tensors = table.pack(...)
  if tensors.n == 0 then error("TensorDataset: expected at least one tensor", 0) end
  for k = 1, tensors.n do
    if not wick.is_tensor(tensors[k]) then
      error(string.format("TensorDataset: argument %d must be a tensor (got %s)", k, type(tensors[k])), 0)
    end
    if tensors[k]:dim() == 0 then
      error(string.format("TensorDataset: tensor %d is 0-d (samples are rows along dim 0)", k), 0)
    end
  end
  local n = tensors[1]:size(0)
  for k = 2, tensors.n do
    if tensors[k]:size(0) ~= n then
      error(string.format("TensorDataset: size mismatch between tensors (tensor 1 has %d rows, tensor %d has %d rows)",
        n, k, tensors[k]:size(0)), 0)
    end
  end
  return setmetatable({ tensors = tensors, n = n }, TensorDataset)
end

function TensorDataset:__len() return self.n end

function TensorDataset:get(i)
  i = util.check_index("TensorDataset", i, self.n)
  local t = self.tensors
  if t.n == 2 then return t[1]:select(0, i), t[2]:select(0, i) end
  local out = {}
  for k = 1, t.n do out[k] = t[k]:select(0, i) end
  return table.unpack(out, 1, t.n)
end

function TensorDataset:get_batch(idx)
  local t = self.tensors
  if t.n == 2 then return t[1]:index_select(0, idx), t[2]:index_select(0, idx) end
  local out = {}
  for k = 1, t.n do out[k] = t[k]:index_select(0, idx) end
  return table.unpack(out, 1, t.n)
end

function TensorDataset:__tostring()
  return string.format("TensorDataset(%d samples, %d tensors)", self.n, self.tensors.n)
end

-- Subset(ds, indices): sample i is ds:get(indices[i]); indices a table or an i64 tensor.
local Subset = util.class("Subset")
M.Subset = Subset

function Subset.new(ds, indices)
  local n = util.length("Subset", ds)
  local list
  if wick.is_tensor(indices) then
    list = indices:flatten():tolist()
  elseif type(indices) == "table" then
    list = table.move(indices, 1, #indices, 1, {})
  else
    error("Subset: indices must be a table of integers or a tensor (got " .. type(indices) .. ")", 0)
  end
  for k, i in ipairs(list) do list[k] = util.check_index("Subset", i, n) end
  local self = setmetatable({ dataset = ds, indices = list }, Subset)
  -- the inner dataset's batch path stays available through the index map
  if ds.get_batch then
    self._map = wick.tensor(list, { dtype = "i64" })
  else
    self.get_batch = false -- DataLoader: no batch path, use get + collate
  end
  return self
end

function Subset:__len() return #self.indices end

function Subset:get(i)
  i = util.check_index("Subset", i, #self.indices)
  return self.dataset:get(self.indices[i + 1])
end

function Subset:get_batch(idx)
  return self.dataset:get_batch(self._map:index_select(0, idx))
end

function Subset:__tostring() return string.format("Subset(%d samples)", #self.indices) end

-- random_split(ds, lengths, {generator}): Subsets of a random permutation, like PyTorch (same
-- indices for the same generator state). lengths are counts, or fractions summing to 1.
function M.random_split(ds, lengths, opts)
  opts = util.check_options("random_split", opts, { "generator" })
  local n = util.length("random_split", ds)
  if type(lengths) ~= "table" or #lengths == 0 then
    error("random_split: lengths must be a non-empty table of numbers", 0)
  end
  local total = 0
  for _, l in ipairs(lengths) do total = total + l end
  local counts = {}
  if math.abs(total - 1) < 1e-9 and total <= 1 and n ~= 1 then
    local used = 0
    for k, f in ipairs(lengths) do
      if f < 0 or f > 1 then error(string.format("random_split: fraction at index %d is not between 0 and 1", k - 1), 0) end
      counts[k] = math.floor(n * f)
      used = used + counts[k]
    end
    for r = 0, n - used - 1 do
      local k = r % #counts + 1
      counts[k] = counts[k] + 1
    end
  else
    for k, l in ipairs(lengths) do
      if math.type(l) ~= "integer" or l < 0 then
        error(string.format("random_split: length %d must be a non-negative integer (got %s)", k - 1, tostring(l)), 0)
      end
      counts[k] = l
    end
    if total ~= n then
      error(string.format("random_split: the lengths sum to %d but the dataset has %d samples", total, n), 0)
    end
  end
  local perm = n > 0 and wick.randperm(n, { generator = opts.generator }):tolist() or {}
  local out, off = {}, 0
  for k, c in ipairs(counts) do
    out[k] = Subset(ds, table.move(perm, off + 1, off + c, 1, {}))
    off = off + c
  end
  return out
end

return M
