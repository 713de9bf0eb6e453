-- Loss modules: CrossEntropyLoss NLLLoss MSELoss L1Loss BCEWithLogitsLoss BCELoss KLDivLoss
-- SmoothL1Loss HuberLoss. Each holds its
-- options (class weights as buffers, as PyTorch) and calls nn.functional in forward(input, target).
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local M = {}

local REDUCTIONS = { mean = true, sum = true, none = true }

-- A loss class: `keys` are its options, `buffers` those held as tensors, fn the functional.
local function loss(name, fn, keys, buffers, extra_reduction)
  local cls = class("nn." .. name, Module)
  local allowed = { "reduction" }
  for _, k in ipairs(keys) do allowed[#allowed + 1] = k end
  function cls:__init(opts)
    Module.__init(self)
    opts = util.options(name, opts, allowed)
    self.reduction = opts.reduction or "mean"
    if not REDUCTIONS[self.reduction] and self.reduction ~= extra_reduction then
      error(("%s: reduction must be 'mean', 'sum' or 'none' (got %s)"):format(name, repr.value(self.reduction)), 0)
    end
    for _, k in ipairs(keys) do
      if buffers[k] then self:register_buffer(k, opts[k]) else self[k] = opts[k] end
    end
  end
  function cls:forward(input, target)
    local o = { reduction = self.reduction }
    for _, k in ipairs(keys) do o[k] = self[k] end
    return F[fn](input, target, o)
  end
  M[name] = cls
  return cls
end

loss("CrossEntropyLoss", "cross_entropy", { "weight", "ignore_index", "label_smoothing" }, { weight = true })
loss("NLLLoss", "nll_loss", { "weight", "ignore_index" }, { weight = true })
loss("MSELoss", "mse_loss", {}, {})
loss("L1Loss", "l1_loss", {}, {})
loss("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", { "weight", "pos_weight" },
     { weight = true, pos_weight = true })
loss("BCELoss", "binary_cross_entropy", { "weight" }, { weight = true })
loss("KLDivLoss", "kl_div", { "log_target" }, {}, "batchmean")
loss("SmoothL1Loss", "smooth_l1_loss", { "beta" }, {})
loss("HuberLoss", "huber_loss", { "delta" }, {})

return M
