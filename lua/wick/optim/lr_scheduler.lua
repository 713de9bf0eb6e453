-- optim.lr_scheduler: StepLR, MultiStepLR, ExponentialLR, LambdaLR, LinearLR,
-- CosineAnnealingLR, OneCycleLR with PyTorch 1.13's (chainable) formulas, so that the same
-- settings give the same learning rates. Construction performs step 0, as in PyTorch.
local class = require("wick.class")
local check_options = require("wick.util").check_options

local M = {}

local LRScheduler = require("wick.optim.scheduler")
M.LRScheduler = LRScheduler

local function lrs(self, f)
  local out = {}
  for i, g in ipairs(self.optimizer.param_groups) do out[i] = f(g, i) end
  return out
end

local function check_opts(op, opts, allowed)
  return check_options(op, opts, allowed)
end

-- StepLR(optimizer, step_size, {gamma = 0.1, last_epoch = -1}): lr *= gamma every step_size.
local StepLR = class("StepLR", LRScheduler)
M.StepLR = StepLR
function StepLR:__init(optimizer, step_size, opts)
  opts = check_opts("StepLR", opts, { "gamma", "last_epoch" })
  if math.type(step_size) ~= "integer" or step_size <= 0 then
    error("StepLR: step_size must be a positive integer (got " .. tostring(step_size) .. ")", 0)
  end
  self.step_size, self.gamma = step_size, opts.gamma or 0.1
  LRScheduler.__init(self, optimizer, opts.last_epoch)
end
function StepLR:get_lr()
  local e = self.last_epoch
  if e == 0 or e % self.step_size ~= 0 then return lrs(self, function(g) return g.lr end) end
  return lrs(self, function(g) return g.lr * self.gamma end)
end

-- MultiStepLR(optimizer, milestones, {gamma = 0.1, last_epoch = -1}): lr *= gamma at each
-- milestone (a milestone listed twice multiplies by gamma^2).
local MultiStepLR = class("MultiStepLR", LRScheduler)
M.MultiStepLR = MultiStepLR
function MultiStepLR:__init(optimizer, milestones, opts)
  opts = check_opts("MultiStepLR", opts, { "gamma", "last_epoch" })
  if type(milestones) ~= "table" then
    error("MultiStepLR: milestones must be a list of epochs (got " .. type(milestones) .. ")", 0)
  end
  self.milestones = {}
  for _, m in ipairs(milestones) do self.milestones[m] = (self.milestones[m] or 0) + 1 end
  self.gamma = opts.gamma or 0.1
  LRScheduler.__init(self, optimizer, opts.last_epoch)
end
function MultiStepLR:get_lr()
  local n = self.milestones[self.last_epoch]
  if not n then return lrs(self, function(g) return g.lr end) end
  return lrs(self, function(g) return g.lr * self.gamma ^ n end)
end

-- ExponentialLR(optimizer, gamma, {last_epoch = -1}): lr *= gamma every epoch.
local ExponentialLR = class("ExponentialLR", LRScheduler)
M.ExponentialLR = ExponentialLR
function ExponentialLR:__init(optimizer, gamma, opts)
  opts = check_opts("ExponentialLR", opts, { "last_epoch" })
  self.gamma = gamma
  LRScheduler.__init(self, optimizer, opts.last_epoch)
end
function ExponentialLR:get_lr()
  if self.last_epoch == 0 then return lrs(self, function(g) return g.lr end) end
  return lrs(self, function(g) return g.lr * self.gamma end)
end

-- LambdaLR(optimizer, lr_lambda, {last_epoch = -1}): lr = initial_lr * lr_lambda(epoch);
-- lr_lambda is a function or a list of functions, one per group.
local LambdaLR = class("LambdaLR", LRScheduler)
M.LambdaLR = LambdaLR
function LambdaLR:__init(optimizer, lr_lambda, opts)
  opts = check_opts("LambdaLR", opts, { "last_epoch" })
  local n = #optimizer.param_groups
  if type(lr_lambda) == "function" then
    self._lambdas = {}
    for i = 1, n do self._lambdas[i] = lr_lambda end
  elseif type(lr_lambda) == "table" and #lr_lambda == n then
    self._lambdas = lr_lambda
  else
    error(string.format("LambdaLR: expected a function or %d functions as lr_lambda", n), 0)
  end
  LRScheduler.__init(self, optimizer, opts.last_epoch)
end
function LambdaLR:get_lr()
  return lrs(self, function(_, i) return self.base_lrs[i] * self._lambdas[i](self.last_epoch) end)
end
function LambdaLR:state_dict()
  local sd = LRScheduler.state_dict(self)
  sd._lambdas = nil
  return sd
end

-- LinearLR(optimizer, {start_factor = 1/3, end_factor = 1, total_iters = 5, last_epoch = -1}):
-- the factor on lr goes linearly from start_factor to end_factor over total_iters steps.
local LinearLR = class("LinearLR", LRScheduler)
M.LinearLR = LinearLR
function LinearLR:__init(optimizer, opts)
  opts = check_opts("LinearLR", opts, { "start_factor", "end_factor", "total_iters", "last_epoch" })
  local s, e = opts.start_factor or 1.0 / 3, opts.end_factor or 1.0
  if s > 1.0 or s < 0 then
    error("LinearLR: Starting multiplicative factor expected to be between 0 and 1.", 0)
  end
  if e > 1.0 or e < 0 then
    error("LinearLR: Ending multiplicative factor expected to be between 0 and 1.", 0)
  end
  self.start_factor, self.end_factor, self.total_iters = s, e, opts.total_iters or 5
  LRScheduler.__init(self, optimizer, opts.last_epoch)
end
function LinearLR:get_lr()
  local e, s, f, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
  if e == 0 then return lrs(self, function(g) return g.lr * s end) end
  if e > n then return lrs(self, function(g) return g.lr end) end
  return lrs(self, function(g) return g.lr * (1. + (f - s) / (n * s + (e - 1) * (f - s))) end)
end

-- CosineAnnealingLR(optimizer, T_max, {eta_min = 0, last_epoch = -1}).
local CosineAnnealingLR = class("CosineAnnealingLR", LRScheduler)
M.CosineAnnealingLR = CosineAnnealingLR
function CosineAnnealingLR:__init(optimizer, T_max, opts)
  opts = check_opts("CosineAnnealingLR", opts, { "eta_min", "last_epoch" })
  if type(T_max) ~= "number" or T_max <= 0 then
    error("CosineAnnealingLR: T_max must be a positive number (got " .. tostring(T_max) .. ")", 0)
  end
  self.T_max, self.eta_min = T_max, opts.eta_min or 0
  LRScheduler.__init(self, optimizer, opts.last_epoch)
end
function CosineAnnealingLR:get_lr()
  local e, T, eta = self.last_epoch, self.T_max, self.eta_min
  local pi, cos = math.pi, math.cos
  if e == 0 then return lrs(self, function(g) return g.lr end) end
  if self._step_count == 1 and e > 0 then
    return lrs(self, function(_, i) return eta + (self.base_lrs[i] - eta) * (1 + cos(e * pi / T)) / 2 end)
  end
  if (e - 1 - T) % (2 * T) == 0 then
    return lrs(self, function(g, i) return g.lr + (self.base_lrs[i] - eta) * (1 - cos(pi / T)) / 2 end)
  end
  return lrs(self, function(g)
    return (1 + cos(pi * e / T)) / (1 + cos(pi * (e - 1) / T)) * (g.lr - eta) + eta
  end)
end

M.OneCycleLR = require("wick.optim.one_cycle")

return M
