-- nn.Linear: y = x W^T + b, PyTorch's default initialisation (kaiming_uniform_(a = sqrt(5)) for
-- the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias).
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local init = require("wick.nn.init_fns")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local Linear = class("nn.Linear", Module)

-- Linear(in_features, out_features, {bias = true, dtype, device})
function Linear:__init(in_features, out_features, opts)
  Module.__init(self)
  opts = util.options("Linear", opts, { "bias", "dtype", "device" })
  self.in_features = util.positive("Linear", "in_features", in_features)
  self.out_features = util.positive("Linear", "out_features", out_features)
  local f = util.factory(opts)
  self.weight = Module.Parameter(wick.empty({ out_features, in_features }, f))
  if opts.bias ~= false then self.bias = Module.Parameter(wick.empty({ out_features }, f)) end
  self:reset_parameters()
end

-- Also Conv2d's: the same two draws, in the same order, as PyTorch.
function Linear.reset_weight_and_bias(weight, bias)
  init.kaiming_uniform_(weight, { a = math.sqrt(5) })
  if bias then
    local fan_in = init.calculate_fan_in_and_fan_out(weight)
    local bound = fan_in > 0 and 1 / math.sqrt(fan_in) or 0
    init.uniform_(bias, -bound, bound)
  end
end

function Linear:reset_parameters() Linear.reset_weight_and_bias(self.weight, self.bias) end

function Linear:forward(x) return F.linear(x, self.weight, self.bias) end

function Linear:extra_repr()
  return repr.fields { { "in_features", self.in_features }, { "out_features", self.out_features },
                       { "bias", self.bias ~= nil } }
end

return Linear
