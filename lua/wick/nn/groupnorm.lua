-- nn.GroupNorm: normalises groups of channels of [N, C, *] inputs, with a per-channel affine
-- weight (ones) and bias (zeros).
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local GroupNorm = class("nn.GroupNorm", Module)

-- GroupNorm(num_groups, num_channels, {eps = 1e-5, affine = true, dtype, device})
function GroupNorm:__init(num_groups, num_channels, opts)
  Module.__init(self)
  opts = util.options("GroupNorm", opts, { "eps", "affine", "dtype", "device" })
  self.num_groups = util.positive("GroupNorm", "num_groups", num_groups)
  self.num_channels = util.positive("GroupNorm", "num_channels", num_channels)
  if num_channels % num_groups ~= 0 then error("GroupNorm: num_channels must be divisible by num_groups", 0) end
  self.eps = opts.eps or 1e-5
  self.affine = opts.affine ~= false
  local f = util.factory(opts)
  if self.affine then
    self.weight = Module.Parameter(wick.ones({ num_channels }, f))
    self.bias = Module.Parameter(wick.zeros({ num_channels }, f))
  end
end

function GroupNorm:forward(x) return F.group_norm(x, self.num_groups, self.weight, self.bias, { eps = self.eps }) end

function GroupNorm:extra_repr()
  return repr.fields { { "num_groups", self.num_groups }, { "num_channels", self.num_channels },
                       { "eps", self.eps }, { "affine", self.affine } }
end

return GroupNorm
