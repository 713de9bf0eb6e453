-- wick.models.resnet18/34/50{num_classes = 1000}: torchvision's ResNet (BasicBlock / Bottleneck),
-- with its module structure and state dict names (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, fc).
local wick = require("wick")
local class = require("wick.class")
local isinstance = class.isinstance
local nn = require("wick.nn")
local util = require("wick.nn.util")

local M = {}

local function conv3x3(cin, cout, stride, f, groups, dilation)
  return nn.Conv2d(cin, cout, 3, { stride = stride or 1, padding = dilation or 1, groups = groups or 1,
                                   dilation = dilation or 1, bias = false, dtype = f.dtype, device = f.device })
end

local function conv1x1(cin, cout, stride, f)
  return nn.Conv2d(cin, cout, 1, { stride = stride or 1, bias = false, dtype = f.dtype, device = f.device })
end

local function bn(c, f) return nn.BatchNorm2d(c, { dtype = f.dtype, device = f.device }) end

-- BasicBlock: two 3x3 convolutions, expansion 1 (resnet18/34).
local BasicBlock = class("BasicBlock", nn.Module)
BasicBlock.expansion = 1
-- Blocks take torchvision's (inplanes, planes, stride = 1, downsample) and the ResNet's options.
local BLOCK_DEFAULTS = { groups = 1, width_per_group = 64 }
function BasicBlock:__init(inplanes, planes, stride, downsample, f)
  nn.Module.__init(self)
  f = f or BLOCK_DEFAULTS
  self.conv1 = conv3x3(inplanes, planes, stride, f)
  self.bn1 = bn(planes, f)
  self.relu = nn.ReLU()
  self.conv2 = conv3x3(planes, planes, 1, f)
  self.bn2 = bn(planes, f)
  if downsample then self.downsample = downsample end
end

function BasicBlock:forward(x)
  local out = self.relu(self.bn1(self.conv1(x)))
  out = self.bn2(self.conv2(out))
  local identity = self.downsample and self.downsample(x) or x
  return self.relu(out + identity)
end

-- Bottleneck: 1x1, 3x3 (stride here, as torchvision's "ResNet V1.5"), 1x1 with expansion 4.
local Bottleneck = class("Bottleneck", nn.Module)
Bottleneck.expansion = 4
function Bottleneck:__init(inplanes, planes, stride, downsample, f)
  nn.Module.__init(self)
  f = f or BLOCK_DEFAULTS
  local width = math.floor(planes * (f.width_per_group / 64.0)) * f.groups
  self.conv1 = conv1x1(inplanes, width, 1, f)
  self.bn1 = bn(width, f)
  self.conv2 = conv3x3(width, width, stride, f, f.groups)
  self.bn2 = bn(width, f)
  self.conv3 = conv1x1(width, planes * 4, 1, f)
  self.bn3 = bn(planes * 4, f)
  self.relu = nn.ReLU()
  if downsample then self.downsample = downsample end
end

function Bottleneck:forward(x)
  local out = self.relu(self.bn1(self.conv1(x)))
  out = self.relu(self.bn2(self.conv2(out)))
  out = self.bn3(self.conv3(out))
  local identity = self.downsample and self.downsample(x) or x
  return self.relu(out + identity)
end

local ResNet = class("ResNet", nn.Module)
M.ResNet, M.BasicBlock, M.Bottleneck = ResNet, BasicBlock, Bottleneck

local OPTIONS = { "num_classes", "in_channels", "zero_init_residual", "groups", "width_per_group", "dtype", "device" }

-- torchvision's defaults for what opts leaves out (num_classes 1000, groups 1, width 64, ...).
local function fill(name, opts)
  opts = util.options(name, opts, OPTIONS)
  return {
    num_classes = util.positive(name, "num_classes", opts.num_classes or 1000),
    in_channels = util.positive(name, "in_channels", opts.in_channels or 3),
    groups = util.positive(name, "groups", opts.groups or 1),
    width_per_group = util.positive(name, "width_per_group", opts.width_per_group or 64),
    zero_init_residual = opts.zero_init_residual == true,
    dtype = opts.dtype, device = opts.device,
  }
end

-- ResNet(block, layers, {num_classes = 1000, zero_init_residual, groups, width_per_group,
-- in_channels = 3, dtype, device}): torchvision's constructor, so that a subclass written as
-- torchvision's (the model-parallel ResNet-50 of PyTorch's tutorials) ports line by line:
--   ResNet.__init(self, resnet.Bottleneck, {3, 4, 6, 3}, {num_classes = 1000})
function ResNet:__init(block, layers, opts)
  nn.Module.__init(self)
  if type(block) ~= "table" or math.type(block.expansion) ~= "integer" then
    error("ResNet: block must be a block class such as wick.models.resnet.Bottleneck (got " .. type(block) .. ")", 0)
  end
  if type(layers) ~= "table" or #layers ~= 4 then
    error("ResNet: layers must be 4 block counts such as {3, 4, 6, 3} (got " .. type(layers) .. ")", 0)
  end
  local f = fill("ResNet", opts)
  if block == BasicBlock and (f.groups ~= 1 or f.width_per_group ~= 64) then
    error("ResNet: BasicBlock only supports groups = 1 and width_per_group = 64", 0)
  end
  self._f = f
  -- torchvision's attributes, read by subclasses that build their own layers
  self.inplanes, self.dilation, self.groups, self.base_width = 64, 1, f.groups, f.width_per_group
  self.conv1 = nn.Conv2d(f.in_channels, 64, 7, { stride = 2, padding = 3, bias = false,
                                                 dtype = f.dtype, device = f.device })
  self.bn1 = bn(64, f)
  self.relu = nn.ReLU()
  self.maxpool = nn.MaxPool2d(3, 2, { padding = 1 })
  for i, planes in ipairs({ 64, 128, 256, 512 }) do
    self["layer" .. i] = self:_make_layer(block, planes, util.positive("ResNet", "layers[" .. i .. "]", layers[i]),
      i == 1 and 1 or 2)
  end
  self.avgpool = nn.AdaptiveAvgPool2d({ 1, 1 })
  self.fc = nn.Linear(512 * block.expansion, f.num_classes, { dtype = f.dtype, device = f.device })
  -- torchvision's initialisation: Kaiming normal (fan_out, relu) convolutions, BatchNorm 1 / 0;
  -- zero_init_residual zeroes the last BatchNorm of each block.
  wick.no_grad(function()
    for m in self:modules() do
      if isinstance(m, nn.Conv2d) then
        nn.init.kaiming_normal_(m.weight, { mode = "fan_out", nonlinearity = "relu" })
      end
    end
    if f.zero_init_residual then
      for m in self:modules() do
        local last = isinstance(m, Bottleneck) and m.bn3 or isinstance(m, BasicBlock) and m.bn2
        if last then last.weight:zero_() end
      end
    end
  end)
end

-- _make_layer(block, planes, blocks, stride = 1), as torchvision's.
function ResNet:_make_layer(block, planes, blocks, stride)
  local f = self._f
  stride = stride or 1
  local downsample
  if stride ~= 1 or self.inplanes ~= planes * block.expansion then
    downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride, f),
                               bn(planes * block.expansion, f))
  end
  local mods = { block(self.inplanes, planes, stride, downsample, f) }
  self.inplanes = planes * block.expansion
  for _ = 2, blocks do mods[#mods + 1] = block(self.inplanes, planes, 1, nil, f) end
  return nn.Sequential(mods)
end

function ResNet:forward(x)
  x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
  x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
  return self.fc(self.avgpool(x):flatten(1))
end

local function builder(name, block, layers)
  return function(opts)
    local f = fill(name, opts)
    if block == BasicBlock and (f.groups ~= 1 or f.width_per_group ~= 64) then
      error(name .. ": BasicBlock only supports groups = 1 and width_per_group = 64", 0)
    end
    return ResNet(block, layers, f)
  end
end

M.resnet18 = builder("resnet18", BasicBlock, { 2, 2, 2, 2 })
M.resnet34 = builder("resnet34", BasicBlock, { 3, 4, 6, 3 })
M.resnet50 = builder("resnet50", Bottleneck, { 3, 4, 6, 3 })
M.resnet101 = builder("resnet101", Bottleneck, { 3, 4, 23, 3 })
M.resnet152 = builder("resnet152", Bottleneck, { 3, 8, 36, 3 })

return M
