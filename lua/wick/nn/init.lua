-- wick.nn: modules, containers, losses, nn.functional and nn.init, with PyTorch's names.
local Module = require("wick.nn.module")

local nn = {
  Module = Module,
  Parameter = Module.Parameter,
  functional = require("wick.nn.functional"),
  init = require("wick.nn.init_fns"),
  Linear = require("wick.nn.linear"),
  Conv2d = require("wick.nn.conv"),
  LayerNorm = require("wick.nn.layernorm"),
  Embedding = require("wick.nn.embedding"),
  Dropout = require("wick.nn.dropout"),
  DataParallel = require("wick.nn.data_parallel"),
  Pipeline = require("wick.nn.pipeline"),
  GroupNorm = require("wick.nn.groupnorm"),
  MultiheadAttention = require("wick.nn.attention"),
  utils = require("wick.nn.clip_grad"),
}

for _, group in ipairs { "wick.nn.batchnorm", "wick.nn.activation", "wick.nn.pooling", "wick.nn.flatten",
                         "wick.nn.container", "wick.nn.loss", "wick.nn.transformer", "wick.nn.layers_1d" } do
  for k, v in pairs(require(group)) do
    if k:sub(1, 1) ~= "_" then nn[k] = v end
  end
end

nn.DistributedDataParallel = require("wick.nn.ddp")
nn.DDP = nn.DistributedDataParallel
-- PyTorch's torch.nn.parallel namespace, for code that spells it out
nn.parallel = { DistributedDataParallel = nn.DistributedDataParallel, DataParallel = nn.DataParallel }

return nn
