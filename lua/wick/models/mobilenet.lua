-- wick.models.mobilenet_v2{num_classes = 1000, width_mult = 1.0}: torchvision's MobileNetV2
-- (inverted residuals with depthwise convolutions), named as torchvision's (features.0.0.weight,
-- features.1.conv.0.0.weight, features.18.1.running_var, classifier.1.weight).
local wick = require("wick")
local class = require("wick.class")
local nn = require("wick.nn")
local util = require("wick.nn.util")

local M = {}

-- torchvision's _make_divisible: round to a multiple of divisor, never down by more than 10%.
local function make_divisible(v, divisor)
  local new_v = math.max(divisor, math.floor(v + divisor / 2) // divisor * divisor)
  if new_v < 0.9 * v then new_v = new_v + divisor end
  return math.tointeger(new_v)
end
M.make_divisible = make_divisible

-- Conv2dNormActivation: Sequential(Conv2d(bias = false), BatchNorm2d, ReLU6), hence the ".0" / ".1".
local function conv_bn_relu6(cin, cout, k, stride, groups, f)
  return nn.Sequential(
    nn.Conv2d(cin, cout, k, { stride = stride, padding = (k - 1) // 2, groups = groups, bias = false,
                              dtype = f.dtype, device = f.device }),
    nn.BatchNorm2d(cout, { dtype = f.dtype, device = f.device }),
    nn.ReLU6())
end

local InvertedResidual = class("InvertedResidual", nn.Module)
M.InvertedResidual = InvertedResidual

function InvertedResidual:__init(inp, oup, stride, expand_ratio, f)
  nn.Module.__init(self)
  self.stride = stride
  local hidden = math.tointeger(math.floor(inp * expand_ratio + 0.5))
  self.use_res_connect = stride == 1 and inp == oup
  local layers = {}
  if expand_ratio ~= 1 then layers[#layers + 1] = conv_bn_relu6(inp, hidden, 1, 1, 1, f) end
  layers[#layers + 1] = conv_bn_relu6(hidden, hidden, 3, stride, hidden, f) -- depthwise
  layers[#layers + 1] = nn.Conv2d(hidden, oup, 1, { bias = false, dtype = f.dtype, device = f.device })
  layers[#layers + 1] = nn.BatchNorm2d(oup, { dtype = f.dtype, device = f.device })
  self.conv = nn.Sequential(layers)
  self.out_channels = oup
end

function InvertedResidual:forward(x)
  if self.use_res_connect then return x + self.conv(x) end
  return self.conv(x)
end

local MobileNetV2 = class("MobileNetV2", nn.Module)
M.MobileNetV2 = MobileNetV2

-- t (expansion), c (channels), n (repeats), s (first stride)
local SETTING = { { 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 }, { 6, 96, 3, 1 },
                  { 6, 160, 3, 2 }, { 6, 320, 1, 1 } }

function MobileNetV2:__init(f)
  nn.Module.__init(self)
  local input_channel = make_divisible(32 * f.width_mult, 8)
  self.last_channel = make_divisible(1280 * math.max(1.0, f.width_mult), 8)
  local features = { conv_bn_relu6(f.in_channels, input_channel, 3, 2, 1, f) }
  for _, s in ipairs(SETTING) do
    local t, c, n, stride = s[1], s[2], s[3], s[4]
    local out = make_divisible(c * f.width_mult, 8)
    for i = 1, n do
      features[#features + 1] = InvertedResidual(input_channel, out, i == 1 and stride or 1, t, f)
      input_channel = out
    end
  end
  features[#features + 1] = conv_bn_relu6(input_channel, self.last_channel, 1, 1, 1, f)
  self.features = nn.Sequential(features)
  self.classifier = nn.Sequential(nn.Dropout(f.dropout),
    nn.Linear(self.last_channel, f.num_classes, { dtype = f.dtype, device = f.device }))
  -- torchvision's initialisation: Kaiming normal (fan_out) convolutions, BatchNorm 1 / 0,
  -- Linear N(0, 0.01) with zero bias.
  wick.no_grad(function()
    for m in self:modules() do
      if class.isinstance(m, nn.Conv2d) then
        nn.init.kaiming_normal_(m.weight, { mode = "fan_out" })
      elseif class.isinstance(m, nn.Linear) then
        nn.init.normal_(m.weight, 0, 0.01)
        m.bias:zero_()
      end
    end
  end)
end

function MobileNetV2:forward(x)
  x = nn.functional.adaptive_avg_pool2d(self.features(x), { 1, 1 })
  return self.classifier(x:flatten(1))
end

-- mobilenet_v2{num_classes = 1000, width_mult = 1.0, in_channels = 3, dropout = 0.2, dtype, device}
function M.mobilenet_v2(opts)
  local op = "mobilenet_v2"
  opts = util.options(op, opts, { "num_classes", "width_mult", "in_channels", "dropout", "dtype", "device" })
  local wm = opts.width_mult or 1.0
  if type(wm) ~= "number" or wm <= 0 then
    error(op .. ": width_mult must be a positive number (got " .. tostring(wm) .. ")", 0)
  end
  return MobileNetV2({
    num_classes = util.positive(op, "num_classes", opts.num_classes or 1000),
    in_channels = util.positive(op, "in_channels", opts.in_channels or 3),
    width_mult = wm, dropout = opts.dropout or 0.2, dtype = opts.dtype, device = opts.device,
  })
end

return M
