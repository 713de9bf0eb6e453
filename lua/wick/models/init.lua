-- wick.models: ready-made architectures with torchvision / torch.nn.Sequential parameter names,
-- loaded on first use.
local lazy = {
  mlp = "wick.models.mlp",
  small_cnn = "wick.models.small_cnn",
}

return setmetatable({}, {
  __index = function(t, k)
    local name = lazy[k]
    if name then
      local m = require(name)
      rawset(t, k, m)
      return m
    end
  end,
})
