-- wick.models: ready-made architectures with torchvision / torch.nn.Sequential parameter names,
-- loaded on first use; wick.models.resnet is the module, as torchvision.models.resnet (its
-- ResNet, BasicBlock and Bottleneck classes, for subclasses).
local modules = { resnet = "wick.models.resnet", vgg = "wick.models.vgg", mobilenet = "wick.models.mobilenet" }
local lazy = {
  mlp = "wick.models.mlp",
  small_cnn = "wick.models.small_cnn",
  resnet18 = "wick.models.resnet",
  resnet34 = "wick.models.resnet",
  resnet50 = "wick.models.resnet",
  resnet101 = "wick.models.resnet",
  resnet152 = "wick.models.resnet",
  vgg11_bn = "wick.models.vgg",
  vgg16 = "wick.models.vgg",
  vgg16_bn = "wick.models.vgg",
  vgg19 = "wick.models.vgg",
  vgg19_bn = "wick.models.vgg",
  mobilenet_v2 = "wick.models.mobilenet",
  gpt2 = "wick.models.gpt2",
}

return setmetatable({}, {
  __index = function(t, k)
    if modules[k] then
      local m = require(modules[k])
      rawset(t, k, m)
      return m
    end
    local name = lazy[k]
    if name then
      local m = require(name)
      if type(m) == "table" then m = m[k] end -- a file of several builders (resnet.lua)
      rawset(t, k, m)
      return m
    end
  end,
})
