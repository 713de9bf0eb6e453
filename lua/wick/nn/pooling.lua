-- Pooling modules over [N, C, H, W]: MaxPool2d, AvgPool2d (stride defaults to kernel_size),
-- AdaptiveAvgPool2d.
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local M = {}

-- (kernel_size, stride | {options}): stride positional as in PyTorch, or in the options.
local function args(name, kernel_size, stride, opts, allowed)
  if type(stride) == "table" then stride, opts = nil, stride end
  opts = util.options(name, opts, allowed)
  if kernel_size == nil then error(name .. ": kernel_size is required", 0) end
  util.pair(name, "kernel_size", kernel_size, 1)
  stride = stride or opts.stride or kernel_size
  util.pair(name, "stride", stride, 1)
  return stride, opts
end

-- MaxPool2d(kernel_size, {stride = kernel_size, padding = 0, dilation = 1, ceil_mode = false})
local MaxPool2d = class("nn.MaxPool2d", Module)
function MaxPool2d:__init(kernel_size, stride, opts)
  Module.__init(self)
  stride, opts = args("MaxPool2d", kernel_size, stride, opts, { "stride", "padding", "dilation", "ceil_mode" })
  self.kernel_size, self.stride = kernel_size, stride
  self.padding, self.dilation, self.ceil_mode = opts.padding or 0, opts.dilation or 1, opts.ceil_mode == true
end
function MaxPool2d:forward(x)
  return F.max_pool2d(x, self.kernel_size, { stride = self.stride, padding = self.padding,
                                             dilation = self.dilation, ceil_mode = self.ceil_mode })
end
function MaxPool2d:extra_repr()
  return repr.fields { { "kernel_size", self.kernel_size }, { "stride", self.stride }, { "padding", self.padding },
                       { "dilation", self.dilation }, { "ceil_mode", self.ceil_mode } }
end
M.MaxPool2d = MaxPool2d

-- AvgPool2d(kernel_size, {stride = kernel_size, padding = 0, ceil_mode = false,
-- count_include_pad = true, divisor_override})
local AvgPool2d = class("nn.AvgPool2d", Module)
function AvgPool2d:__init(kernel_size, stride, opts)
  Module.__init(self)
  stride, opts = args("AvgPool2d", kernel_size, stride, opts,
                      { "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override" })
  self.kernel_size, self.stride, self.padding = kernel_size, stride, opts.padding or 0
  self.ceil_mode = opts.ceil_mode == true
  self.count_include_pad = opts.count_include_pad ~= false
  self.divisor_override = opts.divisor_override
end
function AvgPool2d:forward(x)
  return F.avg_pool2d(x, self.kernel_size, { stride = self.stride, padding = self.padding,
    ceil_mode = self.ceil_mode, count_include_pad = self.count_include_pad,
    divisor_override = self.divisor_override })
end
function AvgPool2d:extra_repr()
  return repr.fields { { "kernel_size", self.kernel_size }, { "stride", self.stride }, { "padding", self.padding } }
end
M.AvgPool2d = AvgPool2d

-- AdaptiveAvgPool2d(output_size): an integer or {h, w}
local AdaptiveAvgPool2d = class("nn.AdaptiveAvgPool2d", Module)
function AdaptiveAvgPool2d:__init(output_size)
  Module.__init(self)
  util.pair("AdaptiveAvgPool2d", "output_size", output_size, 1)
  self.output_size = output_size
end
function AdaptiveAvgPool2d:forward(x) return F.adaptive_avg_pool2d(x, self.output_size) end
function AdaptiveAvgPool2d:extra_repr() return repr.fields { { "output_size", self.output_size } } end
M.AdaptiveAvgPool2d = AdaptiveAvgPool2d

return M
