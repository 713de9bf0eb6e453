-- nn.Conv2d over [N, C, H, W] (or unbatched [C, H, W]) with stride, padding, dilation and
-- groups; weights [out, in / groups, kh, kw] initialised as PyTorch's.
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local Linear = require("wick.nn.linear")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local Conv2d = class("nn.Conv2d", Module)

-- Conv2d(in_channels, out_channels, kernel_size, {stride = 1, padding = 0, dilation = 1,
-- groups = 1, bias = true, padding_mode = "zeros", dtype, device}); padding may also be
-- "valid" or "same".
function Conv2d:__init(in_channels, out_channels, kernel_size, opts)
  Module.__init(self)
  local op = "Conv2d"
  opts = util.options(op, opts, { "stride", "padding", "dilation", "groups", "bias", "padding_mode", "dtype", "device" })
  self.in_channels = util.positive(op, "in_channels", in_channels)
  self.out_channels = util.positive(op, "out_channels", out_channels)
  self.kernel_size = util.pair(op, "kernel_size", kernel_size, 1)
  self.stride = util.pair(op, "stride", opts.stride or 1, 1)
  self.dilation = util.pair(op, "dilation", opts.dilation or 1, 1)
  local padding = opts.padding or 0
  if padding == "same" or padding == "valid" then
    if padding == "same" and (self.stride[1] ~= 1 or self.stride[2] ~= 1) then
      error(op .. ": padding='same' is not supported for strided convolutions", 0)
    end
    self.padding = padding
  else
    self.padding = util.pair(op, "padding", padding)
  end
  self.groups = util.positive(op, "groups", opts.groups or 1)
  if in_channels % self.groups ~= 0 then error(op .. ": in_channels must be divisible by groups", 0) end
  if out_channels % self.groups ~= 0 then error(op .. ": out_channels must be divisible by groups", 0) end
  self.padding_mode = opts.padding_mode or "zeros"
  if self.padding_mode ~= "zeros" then
    error(op .. ": padding_mode '" .. tostring(self.padding_mode) .. "' is not supported (only 'zeros')", 0)
  end
  local f = util.factory(opts)
  self.weight = Module.Parameter(wick.empty({ out_channels, in_channels // self.groups,
                                              self.kernel_size[1], self.kernel_size[2] }, f))
  if opts.bias ~= false then self.bias = Module.Parameter(wick.empty({ out_channels }, f)) end
  self:reset_parameters()
end

function Conv2d:reset_parameters() Linear.reset_weight_and_bias(self.weight, self.bias) end

function Conv2d:forward(x)
  return F.conv2d(x, self.weight, self.bias, { stride = self.stride, padding = self.padding,
                                               dilation = self.dilation, groups = self.groups })
end

local function all(t, v) return type(t) == "table" and t[1] == v and t[2] == v end

function Conv2d:extra_repr()
  local f = { { nil, self.in_channels }, { nil, self.out_channels },
              { "kernel_size", self.kernel_size }, { "stride", self.stride } }
  if not all(self.padding, 0) then f[#f + 1] = { "padding", self.padding } end
  if not all(self.dilation, 1) then f[#f + 1] = { "dilation", self.dilation } end
  if self.groups ~= 1 then f[#f + 1] = { "groups", self.groups } end
  if self.bias == nil then f[#f + 1] = { "bias", false } end
  return repr.fields(f)
end

return Conv2d
