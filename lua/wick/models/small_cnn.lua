-- wick.models.small_cnn{num_classes = 10}: the MNIST-sized CNN, as torch.nn.Sequential(
-- Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, padding=1), ReLU,
-- MaxPool2d(2), Flatten, Linear(64*7*7, 128), ReLU, Linear(128, num_classes)); parameter names
-- 0.*, 3.*, 7.*, 9.* as PyTorch's.
local nn = require("wick.nn")
local util = require("wick.nn.util")

-- small_cnn{num_classes = 10, in_channels = 1, image_size = 28, dtype, device}
return function(opts)
  opts = util.options("small_cnn", opts, { "num_classes", "in_channels", "image_size", "dtype", "device" })
  local num_classes = util.positive("small_cnn", "num_classes", opts.num_classes or 10)
  local in_channels = util.positive("small_cnn", "in_channels", opts.in_channels or 1)
  local size = util.positive("small_cnn", "image_size", opts.image_size or 28)
  local f = { dtype = opts.dtype, device = opts.device }
  local function with(t) for k, v in pairs(f) do t[k] = v end return t end
  local side = size // 4
  return nn.Sequential(
    nn.Conv2d(in_channels, 32, 3, with { padding = 1 }),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, with { padding = 1 }),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(64 * side * side, 128, with {}),
    nn.ReLU(),
    nn.Linear(128, num_classes, with {})
  )
end
