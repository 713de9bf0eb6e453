-- nn.DataParallel(module, {device_ids, output_device, dim}): one process driving several
-- devices, as torch.nn.DataParallel. Every forward scatters the batch, replicates the module
-- onto each device (parameters copied through autograd, so backward sums the replicas'
-- gradients into the original parameters), runs the replicas in turn (CUDA launches are
-- asynchronous, so the devices compute at the same time) and gathers the outputs on
-- output_device. DistributedDataParallel is the recommended path (docs/parallel.md).
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local util = require("wick.nn.util")
local device_of = require("wick.nn.pipeline")._device

local DataParallel = class("nn.DataParallel", Module)
local state = Module._state

local function cuda_count()
  if wick.cuda.is_available() then return wick.cuda.device_count() end
  return 0
end

-- "cuda" alone is the current device, so that equal devices compare equal as strings.
local function normalize(d)
  if d ~= "cuda" then return d end
  return "cuda:" .. (wick.cuda.is_available() and wick.cuda.current_device() or 0)
end

-- device_ids: devices or CUDA indices (default: every CUDA device, or {"cpu"} without one).
-- "cpu" entries are allowed: the replicas then run one after the other on the host (useful to
-- test a model's DataParallel path without a GPU). output_device defaults to device_ids[1].
function DataParallel:__init(module, opts)
  Module.__init(self)
  local fn = "DataParallel"
  if not Module.is_module(module) then error(fn .. ": expected a Module (got " .. type(module) .. ")", 0) end
  opts = util.options(fn, opts, { "device_ids", "output_device", "dim" })
  local ids = opts.device_ids
  if ids == nil then
    ids = {}
    for i = 1, cuda_count() do ids[i] = "cuda:" .. (i - 1) end
    if #ids == 0 then ids = { "cpu" } end
  elseif type(ids) ~= "table" or #ids == 0 then
    error(fn .. ": device_ids must be a non-empty list of devices (got " .. tostring(ids) .. ")", 0)
  end
  local devs = {}
  for i = 1, #ids do devs[i] = normalize(device_of(fn, "device_ids[" .. i .. "]", ids[i])) end
  local out = opts.output_device
  out = out == nil and devs[1] or normalize(device_of(fn, "output_device", out))
  local dim = opts.dim or 0
  if math.type(dim) ~= "integer" or dim < 0 then
    error(fn .. ": dim must be an integer >= 0 (got " .. tostring(dim) .. ")", 0)
  end
  self:add_module("module", module)
  self.device_ids, self.output_device, self.dim = devs, out, dim
end

-- As PyTorch: the master copy lives on device_ids[1] (it is also the first replica).
local function check_module_device(self)
  local want = self.device_ids[1]
  local function check(t)
    if normalize(t.device) ~= want then
      error(("DataParallel: module must have its parameters and buffers on device %s (device_ids[1]) but found one of them on device: %s"):format(want, t.device), 0)
    end
  end
  for p in self.module:parameters() do check(p) end
  for b in self.module:buffers() do check(b) end
end

local function shallow(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- A copy of module m whose parameters are copies of p on dev (differentiable: their gradients flow back
-- to p) and whose buffers are copies on dev; children are replicated the same way (shared
-- modules and parameters stay shared). Hooks and other attributes are shared with m.
local function replicate(m, dev, memo)
  if memo[m] then return memo[m] end
  local s = state(m)
  local rs = {}
  for k, v in pairs(s) do rs[k] = type(v) == "table" and shallow(v) or v end
  local r = setmetatable({}, getmetatable(m))
  for k, v in next, m do rawset(r, k, rawequal(v, s) and rs or v) end
  memo[m] = r
  -- always a copy (also on the same device), so that "cpu" replicas behave as CUDA ones do
  local to = { device = dev, copy = true }
  for name, p in pairs(s.params) do
    if not memo[p] then
      memo[p] = p.requires_grad and p:to(to) or wick.no_grad(function() return p:to(to) end)
    end
    rs.params[name] = memo[p]
  end
  for name, b in pairs(s.buffers) do
    if not memo[b] then memo[b] = wick.no_grad(function() return b:to(to) end) end
    rs.buffers[name] = memo[b]
  end
  for name, c in pairs(s.modules) do rs.modules[name] = replicate(c, dev, memo) end
  return r
end

-- The tensors of args split along dim into k chunks (tensor:chunk semantics: maybe fewer),
-- each moved to its device; other arguments are passed to every replica as they are.
local function scatter(self, args)
  local k, dim, n = #self.device_ids, self.dim, nil
  local split = {}
  for a = 1, args.n do
    local x = args[a]
    if wick.is_tensor(x) then
      if dim >= x:dim() then
        error(("DataParallel: argument %d has %d dimension(s); cannot scatter along dim %d"):format(a, x:dim(), dim), 0)
      end
      split[a] = x:chunk(math.min(k, math.max(x:size(dim), 1)), dim)
      if n and #split[a] ~= n then
        error(("DataParallel: argument %d splits into %d chunks but an earlier one into %d (sizes along dim %d differ)"):format(a, #split[a], n, dim), 0)
      end
      n = #split[a]
    end
  end
  if not n then error("DataParallel: forward needs at least one tensor argument to scatter", 0) end
  local per = {}
  for i = 1, n do
    local t = { n = args.n }
    for a = 1, args.n do
      t[a] = split[a] and split[a][i]:to(self.device_ids[i]) or args[a]
    end
    per[i] = t
  end
  return per
end

-- Outputs (a tensor, or a list of tensors) concatenated along dim on output_device; 0-dim
-- outputs become a vector of one value per replica, as PyTorch.
local function gather(self, outs)
  local first = outs[1]
  if wick.is_tensor(first) then
    local moved = {}
    for i, o in ipairs(outs) do moved[i] = o:to(self.output_device) end
    if first:dim() == 0 then return wick.stack(moved, 0) end
    return wick.cat(moved, self.dim)
  elseif type(first) == "table" then
    local r = {}
    for j = 1, #first do
      local col = {}
      for i, o in ipairs(outs) do col[i] = o[j] end
      r[j] = gather(self, col)
    end
    return r
  end
  error("DataParallel: the module returned a " .. type(first) .. "; expected a tensor or a list of tensors", 0)
end

function DataParallel:forward(...)
  check_module_device(self)
  local args = table.pack(...)
  if #self.device_ids == 1 then
    for a = 1, args.n do
      if wick.is_tensor(args[a]) then args[a] = args[a]:to(self.device_ids[1]) end
    end
    return self.module(table.unpack(args, 1, args.n))
  end
  local per = scatter(self, args)
  local outs = {}
  for i, a in ipairs(per) do
    -- the first replica is the module itself; the others are rebuilt every call, as PyTorch
    local replica = i == 1 and self.module or replicate(self.module, self.device_ids[i], {})
    outs[i] = replica(table.unpack(a, 1, a.n))
  end
  return gather(self, outs)
end

return DataParallel
