-- Samplers: which sample indices an epoch visits, in which order. The protocol: `#s` is the
-- number of indices per epoch and `s:indices()` returns them as an i64 tensor (or a table of
-- integers) for one epoch; `s:iter()` walks them in a for loop. RandomSampler draws exactly
-- what PyTorch's RandomSampler draws for the same generator state.
local wick = require("wick")
local util = require("wick.data.util")

local M = {}

local function iter(self)
  local list, k = self:indices(), 0
  if wick.is_tensor(list) then list = list:tolist() end
  return function()
    k = k + 1
    return list[k]
  end
end

-- SequentialSampler(ds_or_n): 0, 1, ..., n - 1.
local SequentialSampler = util.class("SequentialSampler")
M.SequentialSampler = SequentialSampler

function SequentialSampler.new(source)
  return setmetatable({ n = util.length("SequentialSampler", source) }, SequentialSampler)
end

function SequentialSampler:__len() return self.n end
function SequentialSampler:indices() return wick.arange(self.n) end
SequentialSampler.iter = iter
function SequentialSampler:__tostring() return string.format("SequentialSampler(%d)", self.n) end

-- RandomSampler(ds_or_n, {replacement = false, num_samples = n, generator}).
-- Without a generator each epoch seeds a fresh one from wick's default generator, as PyTorch
-- does, so that wick.manual_seed(s) fixes the whole sequence of epochs.
local RandomSampler = util.class("RandomSampler")
M.RandomSampler = RandomSampler

function RandomSampler.new(source, opts)
  opts = util.check_options("RandomSampler", opts, { "replacement", "num_samples", "generator" })
  local n = util.length("RandomSampler", source)
  local num = opts.num_samples
  -- as PyTorch, an empty dataset is an error here (num_samples defaults to n)
  if math.type(num or n) ~= "integer" or (num or n) <= 0 then
    error(string.format("RandomSampler: num_samples must be a positive integer (got %s)", tostring(num or n)), 0)
  end
  if opts.replacement ~= nil and type(opts.replacement) ~= "boolean" then
    error(string.format("RandomSampler: replacement must be a boolean (got %s)", type(opts.replacement)), 0)
  end
  return setmetatable({ n = n, num_samples = num or n, replacement = opts.replacement or false,
    generator = opts.generator }, RandomSampler)
end

function RandomSampler:__len() return self.num_samples end

-- A seed drawn like torch.empty((), dtype=torch.int64).random_(generator=g).item().
function M.draw_seed(g)
  return wick.zeros(1, { dtype = "i64" }):random_({ generator = g }):item()
end

function RandomSampler:indices()
  local n, num, g = self.n, self.num_samples, self.generator
  if n == 0 then error("RandomSampler: cannot sample from an empty dataset", 0) end
  if not g then g = wick.Generator():manual_seed(M.draw_seed(nil)) end
  local parts = {}
  if self.replacement then
    -- PyTorch draws in chunks of 32
    for _ = 1, num // 32 do parts[#parts + 1] = wick.randint(0, n, { 32 }, { generator = g }) end
    parts[#parts + 1] = wick.randint(0, n, { num % 32 }, { generator = g })
  else
    for _ = 1, num // n do parts[#parts + 1] = wick.randperm(n, { generator = g }) end
    -- PyTorch draws this last permutation even when it keeps none of it (num % n == 0)
    local last = wick.randperm(n, { generator = g })
    if num % n > 0 then parts[#parts + 1] = last:narrow(0, 0, num % n) end
  end
  if #parts == 1 then return parts[1] end
  return wick.cat(parts)
end

RandomSampler.iter = iter

function RandomSampler:__tostring()
  return string.format("RandomSampler(%d of %d%s)", self.num_samples, self.n,
    self.replacement and ", with replacement" or "")
end

return M
