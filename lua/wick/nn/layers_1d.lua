-- Conv1d, MaxPool1d, AvgPool1d, Upsample (nearest) and Dropout2d/Dropout1d modules over the
-- functionals of nn/functional_1d.lua, with PyTorch's parameter names and initialisation.
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local Linear = require("wick.nn.linear")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local M = {}

local Conv1d = class("nn.Conv1d", Module)
-- Conv1d(in_channels, out_channels, kernel_size, {stride, padding, dilation, groups, bias, dtype, device})
function Conv1d:__init(cin, cout, k, opts)
  Module.__init(self)
  opts = util.options("Conv1d", opts, { "stride", "padding", "dilation", "groups", "bias", "dtype", "device" })
  self.in_channels = util.positive("Conv1d", "in_channels", cin)
  self.out_channels = util.positive("Conv1d", "out_channels", cout)
  self.kernel_size = util.positive("Conv1d", "kernel_size", k)
  self.stride, self.padding, self.dilation = opts.stride or 1, opts.padding or 0, opts.dilation or 1
  self.groups = opts.groups or 1
  if cin % self.groups ~= 0 or cout % self.groups ~= 0 then
    error("Conv1d: in_channels and out_channels must be divisible by groups", 0)
  end
  local f = util.factory(opts)
  self.weight = Module.Parameter(wick.empty({ cout, cin // self.groups, k }, f))
  if opts.bias ~= false then self.bias = Module.Parameter(wick.empty({ cout }, f)) end
  Linear.reset_weight_and_bias(self.weight, self.bias)
end
function Conv1d:forward(x)
  return F.conv1d(x, self.weight, self.bias, { stride = self.stride, padding = self.padding,
    dilation = self.dilation, groups = self.groups })
end
function Conv1d:extra_repr()
  return repr.fields { { "in_channels", self.in_channels }, { "out_channels", self.out_channels },
    { "kernel_size", self.kernel_size }, { "stride", self.stride }, { "padding", self.padding } }
end
M.Conv1d = Conv1d

local function pool(name, fn, keys)
  local cls = class("nn." .. name, Module)
  function cls:__init(k, opts)
    Module.__init(self)
    self.kernel_size = k
    self.opts = util.options(name, opts, keys)
  end
  function cls:forward(x) return F[fn](x, self.kernel_size, self.opts) end
  function cls:extra_repr() return repr.fields { { "kernel_size", self.kernel_size } } end
  M[name] = cls
end
pool("MaxPool1d", "max_pool1d", { "stride", "padding", "dilation", "ceil_mode", "return_indices" })
pool("AvgPool1d", "avg_pool1d", { "stride", "padding", "ceil_mode", "count_include_pad" })

local Upsample = class("nn.Upsample", Module)
-- Upsample({size, scale_factor, mode = "nearest"})
function Upsample:__init(opts)
  Module.__init(self)
  self.opts = util.options("Upsample", opts, { "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor" })
end
function Upsample:forward(x) return F.interpolate(x, self.opts) end
M.Upsample = Upsample

for _, name in ipairs({ "Dropout2d", "Dropout1d" }) do
  local cls = class("nn." .. name, Module)
  function cls:__init(p)
    Module.__init(self)
    if type(p) == "table" then p = util.options(name, p, { "p", "inplace" }).p end
    self.p = p or 0.5
  end
  function cls:forward(x) return F.dropout2d(x, self.p, self.training) end
  function cls:extra_repr() return repr.fields { { "p", self.p } } end
  M[name] = cls
end

return M
