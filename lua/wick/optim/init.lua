-- wick.optim: optimizers (SGD, Adam, AdamW) and learning-rate schedulers (optim.lr_scheduler),
-- with PyTorch's names, options and state_dict layout.
local adam = require("wick.optim.adam")

local optim = {
  Optimizer = require("wick.optim.optimizer"),
  SGD = require("wick.optim.sgd"),
  Adam = adam.Adam,
  AdamW = adam.AdamW,
}

-- lr_scheduler loads on first use
return setmetatable(optim, {
  __index = function(t, k)
    if k == "lr_scheduler" then
      local m = require("wick.optim.lr_scheduler")
      rawset(t, k, m)
      return m
    end
  end,
})
