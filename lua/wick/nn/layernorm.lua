-- nn.LayerNorm: normalises over the trailing normalized_shape dims, with an elementwise affine
-- weight (ones) and bias (zeros).
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local LayerNorm = class("nn.LayerNorm", Module)

-- LayerNorm(normalized_shape, {eps = 1e-5, elementwise_affine = true, bias = true, dtype, device})
function LayerNorm:__init(normalized_shape, opts)
  Module.__init(self)
  opts = util.options("LayerNorm", opts, { "eps", "elementwise_affine", "bias", "dtype", "device" })
  if math.type(normalized_shape) == "integer" then normalized_shape = { normalized_shape } end
  if type(normalized_shape) ~= "table" or #normalized_shape == 0 then
    error("LayerNorm: normalized_shape must be an integer or a table of integers", 0)
  end
  local shape = {}
  for i, s in ipairs(normalized_shape) do shape[i] = util.positive("LayerNorm", "normalized_shape", s) end
  self.normalized_shape = shape
  self.eps = opts.eps or 1e-5
  self.elementwise_affine = opts.elementwise_affine ~= false
  local f = util.factory(opts)
  if self.elementwise_affine then
    self.weight = Module.Parameter(wick.ones(shape, f))
    if opts.bias ~= false then self.bias = Module.Parameter(wick.zeros(shape, f)) end
  end
end

function LayerNorm:forward(x)
  return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, { eps = self.eps })
end

function LayerNorm:extra_repr()
  return repr.fields { { nil, self.normalized_shape }, { "eps", self.eps },
                       { "elementwise_affine", self.elementwise_affine } }
end

return LayerNorm
