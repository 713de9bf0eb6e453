-- nn.Pipeline(stages, {devices, chunks}): model parallelism with GPipe's schedule. Each stage
-- lives on its own device; the batch is split into micro-batches that flow through the stages
-- so that stage j works on micro-batch i while stage j+1 works on micro-batch i-1 (fill, steady
-- state, drain). The outputs are concatenated in order; backward goes through every
-- micro-batch (autograd sees one graph). Stages may mix "cpu" and "cuda:N" devices.
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local util = require("wick.nn.util")
local call_in = require("wick.util").call_in

local Pipeline = class("nn.Pipeline", Module)

-- "cpu", "cuda", "cuda:N" (integers N are cuda:N); anything else is an error naming `what`.
function Pipeline._device(fn, what, d)
  if math.type(d) == "integer" and d >= 0 then return "cuda:" .. d end
  if type(d) == "string" and (d == "cpu" or d:match("^cuda$") or d:match("^cuda:%d+$")) then return d end
  error(("%s: %s must be a device such as \"cpu\" or \"cuda:0\" (got %s)"):format(fn, what, tostring(d)), 0)
end

-- The device of a module's first parameter or buffer (nil when it has none).
local function module_device(m)
  for p in m:parameters() do return p.device end
  for b in m:buffers() do return b.device end
end

-- stages: a list of modules or an nn.Sequential (its children are the stages). devices: one
-- per stage (default: where each stage already is; a stage without parameters goes with the
-- one before it, or after it for leading ones; "cpu" when no stage has any); the stages are
-- moved there. chunks: the number of micro-batches (default 1: no pipelining). Parameters are
-- named as in the Sequential of the same stages ("0.weight", "1.bias"), so state dicts
-- interchange.
function Pipeline:__init(stages, opts)
  Module.__init(self)
  local fn = "Pipeline"
  opts = util.options(fn, opts, { "devices", "chunks" })
  local list = {}
  if Module.is_module(stages) then
    for c in stages:children() do list[#list + 1] = c end
  elseif type(stages) == "table" then
    for i = 1, #stages do list[i] = stages[i] end
  else
    error(fn .. ": stages must be a list of modules or an nn.Sequential (got " .. type(stages) .. ")", 0)
  end
  if #list == 0 then error(fn .. ": needs at least one stage", 0) end
  for i, m in ipairs(list) do
    if not Module.is_module(m) then error(("%s: stage %d is a %s, not a Module"):format(fn, i, type(m)), 0) end
  end
  local chunks = opts.chunks or 1
  if math.type(chunks) ~= "integer" or chunks < 1 then
    error(fn .. ": chunks must be an integer >= 1 (got " .. tostring(chunks) .. ")", 0)
  end
  local devices = opts.devices
  if devices == nil then
    devices = {}
    local first, last
    for i, m in ipairs(list) do
      devices[i] = module_device(m) or last
      last = devices[i]
      first = first or last
    end
    for i = 1, #list do devices[i] = devices[i] or first or "cpu" end
  elseif type(devices) ~= "table" then
    error(fn .. ": devices must be a list of devices, one per stage (got " .. type(devices) .. ")", 0)
  elseif #devices ~= #list then
    error(("%s: devices has %d entries for %d stages (one device per stage)"):format(fn, #devices, #list), 0)
  end
  local devs = {}
  for i = 1, #list do devs[i] = Pipeline._device(fn, "devices[" .. i .. "]", devices[i]) end
  for i, m in ipairs(list) do
    local ok, e = pcall(m.to, m, devs[i])
    if not ok then error(("%s: moving stage %d to %s: %s"):format(fn, i, devs[i], tostring(e)), 0) end
    self:add_module(tostring(i - 1), m)
  end
  self.devices, self.chunks, self.num_stages = devs, chunks, #list
end

local function run_stage(self, j, i, x)
  local m = Module._state(self).modules[tostring(j - 1)]
  local y = call_in(function(e)
    return ("Pipeline: stage %d (%s) on %s, micro-batch %d: %s"):format(j, m:type_name(), self.devices[j], i, e)
  end, m, x)
  if not wick.is_tensor(y) then
    error(("Pipeline: stage %d (%s) returned a %s; a stage must return one tensor"):format(j, m:type_name(), type(y)), 0)
  end
  return y
end

-- forward(x): x is split along dim 0 into min(chunks, batch) micro-batches (chunk's sizes:
-- ceil(batch / chunks) each, the last one smaller). At clock k stage j runs micro-batch k - j;
-- within a clock the later stages are issued first, so a stage on the CPU computes while the
-- kernels just queued for the GPU stages run. Returns the concatenated output on the last
-- stage's device.
function Pipeline:forward(x)
  if not wick.is_tensor(x) then error("Pipeline: expected a tensor input (got " .. type(x) .. ")", 0) end
  if x:dim() == 0 then error("Pipeline: the input must have a batch dimension (got a 0-dim tensor)", 0) end
  local batch = x:size(0)
  if batch == 0 then error("Pipeline: the input batch is empty", 0) end
  local micro = x:chunk(math.min(self.chunks, batch), 0)
  local m, n, devs = #micro, self.num_stages, self.devices
  -- acts[i] holds micro-batch i's latest activation, moved to the next stage's device when
  -- that stage takes it (so a copy waits only for the work that produced it)
  local acts = {}
  for clock = 0, m + n - 2 do
    for j = n, 1, -1 do
      local i = clock - (j - 1) + 1
      if i >= 1 and i <= m then
        local input = j == 1 and micro[i] or acts[i]
        acts[i] = run_stage(self, j, i, input:to(devs[j]))
      end
    end
  end
  if m == 1 then return acts[1] end
  return wick.cat(acts, 0)
end

function Pipeline:extra_repr()
  return ("chunks=%d, devices={%s}"):format(self.chunks, table.concat(self.devices, ", "))
end

return Pipeline
