-- nn.DistributedDataParallel (alias nn.DDP): data-parallel training over a process group. The
-- gradient buckets and their overlapped all-reduces are the C reducer's (src/dist/reducer.c);
-- this file is the policy: construction checks and broadcasts, forward, no_sync, state dicts.
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local util = require("wick.nn.util")
local sync = require("wick.nn.ddp_sync")
local core = require("wick.core")._ddp

local FN = "DistributedDataParallel"
local DDP = class("nn.DistributedDataParallel", Module)

local function dist() return require("wick.dist") end

-- A device as DDP's options name it: an index i (CUDA device i) or a device string.
local function device_name(d)
  if math.type(d) == "integer" then return "cuda:" .. d end
  if type(d) == "string" then return d == "cuda" and "cuda:" .. wick.cuda.current_device() or d end
  error(FN .. ": devices are indices or strings like 'cuda:0' (got " .. type(d) .. ")", 0)
end

local function show_ids(ids)
  if ids == nil then return "nil" end
  local out = {}
  for i, d in ipairs(ids) do out[i] = type(d) == "string" and ("'" .. d .. "'") or tostring(d) end
  return "{" .. table.concat(out, ", ") .. "}"
end

-- device_ids / output_device with PyTorch's meaning: for a module on one CUDA device,
-- device_ids = {that device} (inputs are moved there by forward) and output_device (default:
-- that device) receives the outputs; a CPU module takes neither. Returns the two device
-- names, or nil for a CPU module.
local function check_devices(opts, module_device)
  local ids, out = opts.device_ids, opts.output_device
  if ids == nil and out == nil then return nil end
  if ids ~= nil and type(ids) ~= "table" then ids = { ids } end
  if not module_device:match("^cuda") then
    error(("%s: device_ids and output_device only work with a module on one CUDA device, but got "
      .. "device_ids %s, output_device %s and module parameters on %s (leave them out for a CPU module)"):format(
      FN, show_ids(ids), out == nil and "nil" or tostring(out), module_device), 0)
  end
  if ids ~= nil and #ids ~= 1 then
    error(("%s: device_ids can only be nil or contain a single element (got %s)"):format(FN, show_ids(ids)), 0)
  end
  local dev = ids and device_name(ids[1]) or module_device
  if dev ~= module_device then
    error(("%s: device_ids %s, but the module's parameters are on %s (move the module with model:to('%s') first)"):format(
      FN, show_ids(ids), module_device, dev), 0)
  end
  return dev, out ~= nil and device_name(out) or dev
end

-- Tensors of v (in plain tables too) on `device`; v itself when nothing moves.
local function moved(v, device)
  if wick.is_tensor(v) then return v.device == device and v or v:to(device) end
  if type(v) ~= "table" or getmetatable(v) ~= nil then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = moved(x, device) end
  return out
end

-- DistributedDataParallel(module, {device_ids, output_device, bucket_cap_mb = 25,
-- find_unused_parameters = false, broadcast_buffers = true, process_group})
function DDP:__init(module, opts)
  Module.__init(self)
  opts = util.options(FN, opts, { "device_ids", "output_device", "bucket_cap_mb", "find_unused_parameters",
    "broadcast_buffers", "process_group" })
  if not Module.is_module(module) then error(FN .. ": expected an nn.Module (got " .. type(module) .. ")", 0) end
  local d = dist()
  if not d.is_initialized() then
    error(FN .. ": Default process group has not been initialized, please make sure to call init_process_group.", 0)
  end
  local cap_mb = opts.bucket_cap_mb
  if cap_mb ~= nil and (type(cap_mb) ~= "number" or cap_mb <= 0) then
    error(FN .. ": bucket_cap_mb must be a positive number (got " .. tostring(cap_mb) .. ")", 0)
  end
  local group = opts.process_group
  self.module = module
  -- trainable parameters in registration order (shared ones once), as PyTorch's reducer sees them
  local names, params = {}, {}
  for _, item in ipairs(module:named_parameters()) do
    if item[2].requires_grad then
      names[#names + 1], params[#params + 1] = item[1], item[2]
      if item[2].device ~= params[1].device then
        error(("%s: parameters '%s' on %s and '%s' on %s (one device per process)"):format(FN, names[1],
          params[1].device, item[1], item[2].device), 0)
      end
      if item[2].dtype ~= "f32" and item[2].dtype ~= "f64" then
        error(("%s: parameter '%s' has dtype %s (f32 and f64 are supported)"):format(FN, item[1], item[2].dtype), 0)
      end
    end
  end
  if #params == 0 then
    error(FN .. " is not needed when a module doesn't have any parameter that requires a gradient.", 0)
  end
  self._device, self._output_device = check_devices(opts, params[1].device)
  -- CPU parameters reduce over the group's Gloo context, CUDA ones over its NCCL communicator
  local pg, rank, world = d._group_pg(FN, group, params[1])
  if not rank then error(FN .. ": this rank is not in the process_group", 0) end
  if world > 1 and not pg then error(FN .. ": needs a process group backend (gloo) for a world of " .. world, 0) end
  local src = group and d.get_global_rank(group, 0) or 0
  local gopts = group and { group = group } or nil
  if world > 1 then
    sync.verify_shapes(names, params, world, gopts)
    -- every rank starts from rank 0's weights: all parameters (frozen ones too) and buffers
    local all = {}
    for p in module:parameters() do all[#all + 1] = p end
    for b in module:buffers() do all[#all + 1] = b end
    sync.broadcast(all, src, gopts)
  end
  self._names, self._params, self._world, self._src, self._gopts = names, params, world, src, gopts
  self._rank = d.get_rank()
  self.find_unused_parameters = opts.find_unused_parameters == true
  self.broadcast_buffers = opts.broadcast_buffers ~= false
  self.bucket_cap_mb = cap_mb or 25
  self.require_backward_grad_sync, self.require_forward_param_sync = true, true
  -- buckets fill in reverse registration order (gradients arrive roughly in that order), the
  -- first one closing at 1 MiB, the others at the cap: PyTorch 1.13's rebuilt buckets
  local rev = {}
  for i = #params, 1, -1 do rev[#rev + 1] = params[i] end
  local cap = math.floor(self.bucket_cap_mb * 1048576)
  self._reducer = core.Reducer(rev, 1048576, cap, pg, world, self.find_unused_parameters)
end

-- Every tensor in a forward's results (nested in tables too), for the unused-parameter walk.
local function tensors_in(v, out, seen)
  if wick.is_tensor(v) then out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] and not Module.is_module(v) then
    seen[v] = true
    for _, x in pairs(v) do tensors_in(x, out, seen) end
  end
  return out
end

-- The error of a reduction that did not finish (PyTorch's text, with the names it gives under
-- TORCH_DISTRIBUTED_DEBUG=INFO).
local function unfinished_error(self, missing)
  local idx, names, n = {}, {}, #self._params
  for _, i in ipairs(missing) do idx[#idx + 1] = n - 1 - i end -- reducer order is reversed
  table.sort(idx)
  for i, k in ipairs(idx) do names[i] = self._names[k + 1] end
  error(("%s: Expected to have finished reduction in the prior iteration before starting a new one. "
    .. "This error indicates that your module has parameters that were not used in producing loss. "
    .. "You can enable unused parameter detection by passing the keyword argument "
    .. "find_unused_parameters = true to nn.DistributedDataParallel, and by making sure all forward "
    .. "function outputs participate in calculating loss. Parameter indices which did not receive "
    .. "grad for rank %d: %s. Parameters which did not receive grad for rank %d: %s"):format(
    FN, self._rank, table.concat(idx, " "), self._rank, table.concat(names, ", ")), 0)
end

-- forward(...): buffers from rank 0 first (broadcast_buffers), then the module; with grad
-- enabled outside no_sync, the next backward all-reduces the gradients.
function DDP:forward(...)
  local reduce = wick.is_grad_enabled() and self.require_backward_grad_sync
  if reduce then
    local missing = self._reducer:unfinished()
    if missing then unfinished_error(self, missing) end
  end
  if self.broadcast_buffers and self.require_forward_param_sync and self._world > 1 then
    local bufs = {}
    for b in self.module:buffers() do bufs[#bufs + 1] = b end
    if #bufs > 0 then sync.broadcast(bufs, self._src, self._gopts) end
  end
  local out
  if self._device then -- device_ids: the inputs go to the module's device, outputs to output_device
    local args = table.pack(...)
    for i = 1, args.n do args[i] = moved(args[i], self._device) end
    out = table.pack(self.module(table.unpack(args, 1, args.n)))
    if self._output_device ~= self._device then
      for i = 1, out.n do out[i] = moved(out[i], self._output_device) end
    end
  else
    out = table.pack(self.module(...))
  end
  self.require_forward_param_sync = reduce
  if reduce then
    self._reducer:prepare_for_backward(self.find_unused_parameters and tensors_in(out, {}, {}) or {})
  end
  return table.unpack(out, 1, out.n)
end

-- no_sync(fn, ...): forwards inside fn leave their gradients local (accumulated in .grad); the
-- first synced backward after it reduces the accumulated sum. Returns fn's results.
function DDP:no_sync(fn, ...)
  if type(fn) ~= "function" then error(FN .. ": no_sync expects a function", 0) end
  local old = self.require_backward_grad_sync
  self.require_backward_grad_sync = false
  local res = table.pack(pcall(fn, ...))
  self.require_backward_grad_sync = old
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Counters of the reducer: bytes_sent, buckets_sent, iterations, and the last reduction's
-- timestamps (first_hook, first_launch, last_hook, backward_end, on wick.perf_counter's clock).
function DDP:comm_stats() return self._reducer:stats() end
-- The buckets in launch order: {bytes, names}.
function DDP:buckets()
  local out, n = {}, #self._params
  for _, b in ipairs(self._reducer:buckets()) do
    local names = {}
    for i, k in ipairs(b.params) do names[i] = self._names[n - k] end
    out[#out + 1] = { bytes = b.bytes, names = names }
  end
  return out
end

-- The reducer holds the parameters it hooked: moving or casting them would leave it behind.
for _, m in ipairs({ "to", "float", "double", "half", "bfloat16", "cpu", "cuda" }) do
  DDP[m] = function() error(("%s: move or cast the module before wrapping it (ddp:%s is not supported)"):format(FN, m), 0) end
end

-- The wrapped module's parameters, buffers and state dict, under its own names (no "module.").
function DDP:named_parameters(...) return self.module:named_parameters(...) end
function DDP:parameters(...) return self.module:parameters(...) end
function DDP:named_buffers(...) return self.module:named_buffers(...) end
function DDP:buffers(...) return self.module:buffers(...) end
function DDP:state_dict(...) return self.module:state_dict(...) end

-- load_state_dict(sd, opts): keys with or without the "module." prefix of PyTorch's DDP.
function DDP:load_state_dict(sd, opts)
  if type(sd) ~= "table" then return self.module:load_state_dict(sd, opts) end
  local all, any = true, false
  for k in pairs(sd) do
    any = true
    if type(k) ~= "string" or k:sub(1, 7) ~= "module." then all = false break end
  end
  if not (any and all) then return self.module:load_state_dict(sd, opts) end
  local stripped = {}
  for k, v in pairs(sd) do stripped[k:sub(8)] = v end
  return self.module:load_state_dict(stripped, opts)
end

return DDP
