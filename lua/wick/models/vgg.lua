-- wick.models.vgg11_bn / vgg16 / vgg16_bn / vgg19 / vgg19_bn {num_classes = 1000}: torchvision's
-- VGGs (configurations "A", "D", "E", with or without BatchNorm), named as torchvision's
-- (features.0.weight, features.1.running_mean, classifier.6.weight).
local wick = require("wick")
local class = require("wick.class")
local nn = require("wick.nn")
local util = require("wick.nn.util")

local M = {}

local CFG = {
  A = { 64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M" },
  D = { 64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M" },
  E = { 64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M" },
}

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
      if f.batch_norm then layers[#layers + 1] = nn.BatchNorm2d(v, fo) end
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

local function builder(name, cfg, batch_norm)
  -- name{num_classes = 1000, in_channels = 3, dropout = 0.5, dtype, device}
  return function(opts)
    opts = util.options(name, opts, { "num_classes", "in_channels", "dropout", "dtype", "device" })
    return VGG(CFG[cfg], {
      num_classes = util.positive(name, "num_classes", opts.num_classes or 1000),
      in_channels = util.positive(name, "in_channels", opts.in_channels or 3),
      dropout = opts.dropout or 0.5, dtype = opts.dtype, device = opts.device, batch_norm = batch_norm,
    })
  end
end

M.vgg11_bn = builder("vgg11_bn", "A", true)
M.vgg16 = builder("vgg16", "D", false)
M.vgg16_bn = builder("vgg16_bn", "D", true)
M.vgg19 = builder("vgg19", "E", false)
M.vgg19_bn = builder("vgg19_bn", "E", true)

return M
