-- wick.models: ready-made architectures with torchvision / torch.nn.Sequential parameter names,
-- loaded on first use.
local lazy = {
  mlp = "wick.models.mlp",
  small_cnn = "wick.models.small_cnn",
  resnet18 = "wick.models.resnet",
  resnet34 = "wick.models.resnet",
  resnet50 = "wick.models.resnet",
  vgg11_bn = "wick.models.vgg",
  mobilenet_v2 = "wick.models.mobilenet",
}

return setmetatable({}, {
  __index = function(t, k)
    local name = lazy[k]
    if name then
      local m = require(name)
      if type(m) == "table" then m = m[k] end -- a file of several builders (resnet.lua)
      rawset(t, k, m)
      return m
    end
  end,
})
