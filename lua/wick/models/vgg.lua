-- wick.models.vgg11_bn{num_classes = 1000}: torchvision's VGG-11 with BatchNorm (configuration
-- "A"), named as torchvision's (features.0.weight, features.1.running_mean, classifier.6.weight).
local wick = require("wick")
local class = require("wick.class")
local nn = require("wick.nn")
local util = require("wick.nn.util")

local M = {}

local CFG = { A = { 64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M" } }

local VGG = class("VGG", nn.Module)
M.VGG = VGG

function VGG:__init(cfg, f)
  nn.Module.__init(self)
  local layers, cin = {}, f.in_channels
  local fo = { dtype = f.dtype, device = f.device }
  for _, v in ipairs(cfg) do
    if v == "M" then
      layers[#layers + 1] = nn.MaxPool2d(2, 2)
    else
      layers[#layers + 1] = nn.Conv2d(cin, v, 3, { padding = 1, dtype = f.dtype, device = f.device })
      layers[#layers + 1] = nn.BatchNorm2d(v, fo)
      layers[#layers + 1] = nn.ReLU()
      cin = v
    end
  end
  self.features = nn.Sequential(layers)
  self.avgpool = nn.AdaptiveAvgPool2d({ 7, 7 })
  self.classifier = nn.Sequential(
    nn.Linear(512 * 7 * 7, 4096, fo), nn.ReLU(), nn.Dropout(f.dropout),
    nn.Linear(4096, 4096, fo), nn.ReLU(), nn.Dropout(f.dropout),
    nn.Linear(4096, f.num_classes, fo))
  -- torchvision's initialisation: Kaiming normal (fan_out, relu) convolutions with zero bias,
  -- BatchNorm 1 / 0, Linear N(0, 0.01) with zero bias.
  wick.no_grad(function()
    for m in self:modules() do
      if class.isinstance(m, nn.Conv2d) then
        nn.init.kaiming_normal_(m.weight, { mode = "fan_out", nonlinearity = "relu" })
        m.bias:zero_()
      elseif class.isinstance(m, nn.Linear) then
        nn.init.normal_(m.weight, 0, 0.01)
        m.bias:zero_()
      end
    end
  end)
end

function VGG:forward(x)
  return self.classifier(self.avgpool(self.features(x)):flatten(1))
end

-- vgg11_bn{num_classes = 1000, in_channels = 3, dropout = 0.5, dtype, device}
function M.vgg11_bn(opts)
  opts = util.options("vgg11_bn", opts, { "num_classes", "in_channels", "dropout", "dtype", "device" })
  return VGG(CFG.A, {
    num_classes = util.positive("vgg11_bn", "num_classes", opts.num_classes or 1000),
    in_channels = util.positive("vgg11_bn", "in_channels", opts.in_channels or 3),
    dropout = opts.dropout or 0.5, dtype = opts.dtype, device = opts.device,
  })
end

return M
