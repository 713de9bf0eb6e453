-- nn.init: PyTorch's weight initialisations (torch/nn/init.py), same formulas and the same draws
-- from the generator, so that after wick.manual_seed(s) a fresh layer equals PyTorch's.
-- Each fills its tensor in place under no_grad and returns it; options in a trailing table,
-- where PyTorch's leading keyword arguments may also be given positionally.
local wick = require("wick")

local init = {}

local opts_of = require("wick.util").check_options

local function check_tensor(op, t)
  if not wick.is_tensor(t) then error(("%s: expected a tensor (got %s)"):format(op, type(t)), 0) end
end

local function gen(o) return o.generator and { generator = o.generator } or nil end

-- g: nil or {generator = ...}, the trailing options of uniform_ / normal_.
local function fill_uniform(t, a, b, g)
  return wick.no_grad(function() return t:uniform_(a, b, g) end)
end

local function fill_normal(t, mean, std, g)
  return wick.no_grad(function() return t:normal_(mean, std, g) end)
end

function init.calculate_gain(nonlinearity, param)
  local linear = { linear = 1, conv1d = 1, conv2d = 1, conv3d = 1, conv_transpose1d = 1,
                   conv_transpose2d = 1, conv_transpose3d = 1, sigmoid = 1 }
  if linear[nonlinearity] then return 1
  elseif nonlinearity == "tanh" then return 5.0 / 3
  elseif nonlinearity == "relu" then return math.sqrt(2.0)
  elseif nonlinearity == "leaky_relu" then
    local slope = param == nil and 0.01 or param
    if type(slope) ~= "number" then error("calculate_gain: negative_slope " .. tostring(param) .. " not a valid number", 0) end
    return math.sqrt(2.0 / (1 + slope ^ 2))
  elseif nonlinearity == "selu" then return 3.0 / 4
  end
  error("calculate_gain: unsupported nonlinearity " .. tostring(nonlinearity), 0)
end

-- fan_in = size(1) * receptive field, fan_out = size(0) * receptive field.
function init.calculate_fan_in_and_fan_out(t)
  local shape = t.shape
  if #shape < 2 then
    error("init: fan in and fan out can not be computed for tensor with fewer than 2 dimensions", 0)
  end
  local rf = 1
  for i = 3, #shape do rf = rf * shape[i] end
  return shape[2] * rf, shape[1] * rf
end

local function fan(t, mode)
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t)
  if mode == "fan_in" then return fan_in elseif mode == "fan_out" then return fan_out end
  error("init: mode " .. tostring(mode) .. " not supported, please use one of fan_in, fan_out", 0)
end

local function numel(t)
  local n = 1
  for _, s in ipairs(t.shape) do n = n * s end
  return n
end

-- uniform_(t, a = 0, b = 1, {generator})
function init.uniform_(t, a, b, o)
  check_tensor("uniform_", t)
  o = opts_of("uniform_", o, { generator = true })
  return fill_uniform(t, a or 0.0, b or 1.0, gen(o))
end

-- normal_(t, mean = 0, std = 1, {generator})
function init.normal_(t, mean, std, o)
  check_tensor("normal_", t)
  o = opts_of("normal_", o, { generator = true })
  return fill_normal(t, mean or 0.0, std or 1.0, gen(o))
end

function init.constant_(t, val)
  check_tensor("constant_", t)
  if type(val) ~= "number" then error("constant_: expected a number (got " .. type(val) .. ")", 0) end
  return wick.no_grad(function() return t:fill_(val) end)
end
function init.ones_(t) return init.constant_(t, 1.0) end
function init.zeros_(t)
  check_tensor("zeros_", t)
  return wick.no_grad(function() return t:zero_() end)
end

-- xavier_uniform_(t, gain = 1 | {gain, generator}): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))
local function xavier_std(op, t, o)
  if type(o) == "number" then o = { gain = o } end
  o = opts_of(op, o, { gain = true, generator = true })
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t)
  return (o.gain or 1.0) * math.sqrt(2.0 / (fan_in + fan_out)), o
end

function init.xavier_uniform_(t, o)
  check_tensor("xavier_uniform_", t)
  local std, opts = xavier_std("xavier_uniform_", t, o)
  local a = math.sqrt(3.0) * std
  return fill_uniform(t, -a, a, gen(opts))
end

function init.xavier_normal_(t, o)
  check_tensor("xavier_normal_", t)
  local std, opts = xavier_std("xavier_normal_", t, o)
  return fill_normal(t, 0.0, std, gen(opts))
end

-- kaiming_uniform_(t, {a = 0, mode = "fan_in", nonlinearity = "leaky_relu", generator})
local KAIMING = { a = true, mode = true, nonlinearity = true, generator = true }
local function kaiming_std(op, t, o)
  if type(o) == "number" then o = { a = o } end
  o = opts_of(op, o, KAIMING)
  if numel(t) == 0 then return nil, o end
  local gain = init.calculate_gain(o.nonlinearity or "leaky_relu", o.a or 0)
  return gain / math.sqrt(fan(t, o.mode or "fan_in")), o
end

function init.kaiming_uniform_(t, o)
  check_tensor("kaiming_uniform_", t)
  local std, opts = kaiming_std("kaiming_uniform_", t, o)
  if not std then return t end
  local bound = math.sqrt(3.0) * std
  return fill_uniform(t, -bound, bound, gen(opts))
end

function init.kaiming_normal_(t, o)
  check_tensor("kaiming_normal_", t)
  local std, opts = kaiming_std("kaiming_normal_", t, o)
  if not std then return t end
  return fill_normal(t, 0.0, std, gen(opts))
end

-- trunc_normal_(t, mean = 0, std = 1, a = -2, b = 2 | {mean, std, a, b, generator}): N(mean, std)
-- restricted to [a, b] by redrawing the values outside (the distribution of PyTorch's, not its
-- exact stream of numbers).
function init.trunc_normal_(t, mean, std, a, b)
  check_tensor("trunc_normal_", t)
  local o = {}
  if type(mean) == "table" then o = opts_of("trunc_normal_", mean, { mean = true, std = true, a = true, b = true, generator = true })
  else o = { mean = mean, std = std, a = a, b = b } end
  mean, std, a, b = o.mean or 0.0, o.std or 1.0, o.a or -2.0, o.b or 2.0
  if not (a < b) then error(("trunc_normal_: a must be below b (got a=%g, b=%g)"):format(a, b), 0) end
  return wick.no_grad(function()
    fill_normal(t, mean, std, gen(o))
    for _ = 1, 1000 do
      local out = t:lt(a):logical_or(t:gt(b))
      if not out:any():item() then return t end
      local fresh = fill_normal(wick.empty_like(t), mean, std, gen(o))
      t:copy_(wick.where(out, fresh, t))
    end
    return t:clamp_(a, b)
  end)
end

return init
