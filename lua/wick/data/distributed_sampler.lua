-- DistributedSampler: each of num_replicas ranks visits its own share of the dataset, with
-- exactly the indices and order of PyTorch's torch.utils.data.DistributedSampler.
local wick = require("wick")
local util = require("wick.data.util")

local M = {}

local DistributedSampler = util.class("DistributedSampler")
M.DistributedSampler = DistributedSampler

local OPTIONS = { "num_replicas", "rank", "shuffle", "seed", "drop_last" }
local NAME = "DistributedSampler"

local function fail(fmt, ...) error(NAME .. ": " .. string.format(fmt, ...), 0) end

local function env_integer(name)
  local v = os.getenv(name)
  return v and math.tointeger(tonumber(v))
end

-- PyTorch reads the default process group; we also accept the launcher's environment, so a
-- sampler can be built before init_process_group (the values are the same).
local function world_default(what)
  local ok, dist = pcall(require, "wick.dist")
  if ok and dist.is_initialized() then
    return what == "rank" and dist.get_rank() or dist.get_world_size()
  end
  local v = env_integer(what == "rank" and "RANK" or "WORLD_SIZE")
  if v then return v end
  fail("Default process group has not been initialized, please make sure to call init_process_group.")
end

local function check_type(key, v, kind)
  if v == nil then return end
  if kind == "integer" and math.type(v) ~= "integer" then
    fail("%s must be an integer (got %s)", key, type(v) == "number" and tostring(v) or type(v))
  elseif kind == "boolean" and type(v) ~= "boolean" then
    fail("%s must be a boolean (got %s)", key, type(v))
  end
end

-- DistributedSampler(ds_or_len, {num_replicas, rank, shuffle = true, seed = 0, drop_last = false})
function DistributedSampler.new(source, opts)
  opts = util.check_options(NAME, opts, OPTIONS)
  local n = util.length(NAME, source)
  for _, k in ipairs({ "num_replicas", "rank", "seed" }) do check_type(k, opts[k], "integer") end
  for _, k in ipairs({ "shuffle", "drop_last" }) do check_type(k, opts[k], "boolean") end
  local r = opts.num_replicas or world_default("world_size")
  local rank = opts.rank or world_default("rank")
  if r < 1 then fail("num_replicas must be >= 1 (got %d)", r) end
  if rank < 0 or rank >= r then
    fail("Invalid rank %d, rank should be in the interval [0, %d]", rank, r - 1)
  end
  local self = setmetatable({ n = n, num_replicas = r, rank = rank, epoch = 0,
    shuffle = opts.shuffle ~= false, seed = opts.seed or 0, drop_last = opts.drop_last or false },
    DistributedSampler)
  -- PyTorch: ceil((N - R) / R) when dropping an uneven tail, which is N // R (0 when N < R)
  if self.drop_last and n % r ~= 0 then
    self.num_samples = n // r
  else
    self.num_samples = (n + r - 1) // r
  end
  self.total_size = self.num_samples * r
  return self
end

-- Only stores the epoch: the permutation depends on seed + epoch alone.
function DistributedSampler:set_epoch(epoch)
  if math.type(epoch) ~= "integer" then
    fail("set_epoch expects an integer (got %s)", type(epoch) == "number" and tostring(epoch) or type(epoch))
  end
  self.epoch = epoch
end

function DistributedSampler:__len() return self.num_samples end

-- This rank's indices for the current epoch, as an i64 tensor.
function DistributedSampler:indices()
  local n, total = self.n, self.total_size
  local all
  if self.shuffle then
    local g = wick.Generator():manual_seed(self.seed + self.epoch)
    all = wick.randperm(n, { generator = g }):tolist()
  else
    all = {}
    for i = 1, n do all[i] = i - 1 end
  end
  if not self.drop_last then
    -- pad by repeating the (shuffled) list from its start, cyclically when pad > n
    for k = n + 1, total do all[k] = all[(k - n - 1) % n + 1] end
  end
  local mine = {}
  for k = self.rank + 1, total, self.num_replicas do mine[#mine + 1] = all[k] end
  assert(#mine == self.num_samples)
  return wick.tensor(mine, { dtype = "i64" })
end

function DistributedSampler:iter()
  local list, k = self:indices():tolist(), 0
  return function()
    k = k + 1
    return list[k]
  end
end

function DistributedSampler:__tostring()
  return string.format("DistributedSampler(%d of %d, rank %d of %d%s%s)", self.num_samples, self.n,
    self.rank, self.num_replicas, self.shuffle and ", shuffle" or "", self.drop_last and ", drop_last" or "")
end

return M
