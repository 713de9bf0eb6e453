-- optim.lr_scheduler.LRScheduler: the base of the schedulers (PyTorch's _LRScheduler): records
-- initial_lr in each group, performs step 0 on construction, get_last_lr, state_dict.
local class = require("wick.class")
local config = require("wick.config")

local LRScheduler = class("LRScheduler")

function LRScheduler:__init(optimizer, last_epoch)
  local op = self.__name
  -- duck-typed: anything with param_groups (an optimizer of any class, or a wrapper)
  if type(optimizer) ~= "table" or type(optimizer.param_groups) ~= "table" then
    error(op .. ": expected an optimizer (got " .. type(optimizer) .. ")", 0)
  end
  self.optimizer = optimizer
  last_epoch = last_epoch or -1
  for i, g in ipairs(optimizer.param_groups) do
    if last_epoch == -1 then
      if g.initial_lr == nil then g.initial_lr = g.lr end
    elseif g.initial_lr == nil then
      error(string.format("%s: param 'initial_lr' is not specified in param_groups[%d] when resuming an optimizer",
        op, i - 1), 0)
    end
  end
  self.base_lrs = {}
  for i, g in ipairs(optimizer.param_groups) do self.base_lrs[i] = g.initial_lr end
  self.last_epoch = last_epoch
  self._step_count = 0
  self:step()
end

-- The lr of every group for the current last_epoch (subclasses).
function LRScheduler:get_lr() error(self.__name .. ": get_lr is not implemented", 0) end

-- Advances one epoch (or one batch, for schedulers stepped per batch) and sets each group's lr.
function LRScheduler:step()
  self._step_count = self._step_count + 1
  self.last_epoch = self.last_epoch + 1
  local values = self:get_lr()
  for i, g in ipairs(self.optimizer.param_groups) do g.lr = values[i] end
  self._last_lr = {}
  for i, g in ipairs(self.optimizer.param_groups) do self._last_lr[i] = g.lr end
end

-- The learning rates set by the last step, one per group.
function LRScheduler:get_last_lr()
  return config.copy(self._last_lr)
end

-- Every field but the optimizer (functions, e.g. LambdaLR's, are left out as PyTorch does).
function LRScheduler:state_dict()
  local sd = {}
  for k, v in pairs(self) do
    if k ~= "optimizer" and type(v) ~= "function" then sd[k] = config.copy(v) end
  end
  return sd
end

function LRScheduler:load_state_dict(sd)
  for k, v in pairs(sd) do
    if k ~= "optimizer" then self[k] = config.copy(v) end
  end
end

return LRScheduler
