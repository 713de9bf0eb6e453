-- Activation modules: ReLU ReLU6 GELU Tanh Sigmoid SiLU Softplus LeakyReLU ELU Hardtanh Softmax
-- LogSoftmax Softmin GLU Mish Hardswish Hardsigmoid LogSigmoid Identity. `inplace` is accepted for PyTorch compatibility; wick computes out of place.
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local M = {}

-- A parameterless activation: Name(inplace?) calling F[fn].
local function simple(name, fn, takes_inplace)
  local cls = class("nn." .. name, Module)
  function cls:__init(a)
    Module.__init(self)
    if takes_inplace then
      if type(a) == "table" then a = util.options(name, a, { "inplace" }).inplace end
      if a ~= nil and type(a) ~= "boolean" then error(name .. ": inplace must be a boolean", 0) end
      self.inplace = a == true
    elseif a ~= nil then
      error(name .. ": takes no arguments", 0)
    end
  end
  function cls:forward(x) return F[fn](x) end
  if takes_inplace then
    function cls:extra_repr() return self.inplace and "inplace=true" or "" end
  end
  M[name] = cls
  return cls
end

simple("ReLU", "relu", true)
simple("ReLU6", "relu6", true)
simple("SiLU", "silu", true)
simple("Tanh", "tanh")
simple("Sigmoid", "sigmoid")
simple("Softplus", "softplus")
simple("Mish", "mish", true)
simple("Hardswish", "hardswish", true)
simple("Hardsigmoid", "hardsigmoid", true)
simple("LogSigmoid", "logsigmoid")

-- Identity(...): returns its input; any arguments are ignored, as in PyTorch.
local Identity = class("nn.Identity", Module)
function Identity:__init() Module.__init(self) end
function Identity:forward(x) return x end
M.Identity = Identity

-- A one-parameter activation: Name(value) or Name({key = value, inplace}).
local function with_param(name, key, default, call)
  local cls = class("nn." .. name, Module)
  function cls:__init(v, opts)
    Module.__init(self)
    if type(v) == "table" then v, opts = nil, v end
    opts = util.options(name, opts, { key, "inplace" })
    v = v == nil and opts[key] or v
    if v == nil then v = default end
    self[key] = v
    self.inplace = opts.inplace == true
  end
  function cls:forward(x) return call(self, x) end
  function cls:extra_repr()
    local f = { { key, self[key] } }
    if self.inplace then f[2] = { "inplace", true } end
    return repr.fields(f)
  end
  M[name] = cls
  return cls
end

with_param("LeakyReLU", "negative_slope", 0.01, function(self, x) return F.leaky_relu(x, self.negative_slope) end)
with_param("ELU", "alpha", 1.0, function(self, x) return F.elu(x, self.alpha) end)
with_param("Softmax", "dim", nil, function(self, x) return F.softmax(x, self.dim) end)
with_param("LogSoftmax", "dim", nil, function(self, x) return F.log_softmax(x, self.dim) end)
with_param("Softmin", "dim", nil, function(self, x) return F.softmin(x, self.dim) end)
with_param("GLU", "dim", -1, function(self, x) return F.glu(x, self.dim) end)
with_param("GELU", "approximate", "none", function(self, x)
  return F.gelu(x, { approximate = self.approximate })
end)

-- Hardtanh(min_val = -1, max_val = 1)
local Hardtanh = class("nn.Hardtanh", Module)
function Hardtanh:__init(min_val, max_val)
  Module.__init(self)
  self.min_val, self.max_val = min_val or -1.0, max_val or 1.0
  if self.min_val >= self.max_val then error("Hardtanh: max_val must be larger than min_val", 0) end
end
function Hardtanh:forward(x) return F.hardtanh(x, self.min_val, self.max_val) end
function Hardtanh:extra_repr()
  return repr.fields { { "min_val", self.min_val }, { "max_val", self.max_val } }
end
M.Hardtanh = Hardtanh

return M
