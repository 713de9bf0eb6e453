-- optim.lr_scheduler.OneCycleLR: the 1cycle policy (lr warms up to max_lr, then anneals far
-- below the start; momentum cycles the other way), stepped once per batch, as PyTorch 1.13.
local class = require("wick.class")
local check_options = require("wick.util").check_options
local LRScheduler = require("wick.optim.scheduler")

local OneCycleLR = class("OneCycleLR", LRScheduler)

local options = {
  "total_steps", "epochs", "steps_per_epoch", "pct_start", "anneal_strategy", "cycle_momentum",
  "base_momentum", "max_momentum", "div_factor", "final_div_factor", "three_phase", "last_epoch",
}

local function positive_int(v) return math.type(v) == "integer" and v > 0 end

-- one value per group from a number or a list
local function per_group(optimizer, name, v)
  local n = #optimizer.param_groups
  if type(v) == "table" then
    if #v ~= n then error(string.format("OneCycleLR: expected %d values for %s, got %d", n, name, #v), 0) end
    return v
  end
  local out = {}
  for i = 1, n do out[i] = v end
  return out
end

local function anneal_cos(start, stop, pct)
  local cos_out = math.cos(math.pi * pct) + 1
  return stop + (start - stop) / 2.0 * cos_out
end

local function anneal_linear(start, stop, pct)
  return (stop - start) * pct + start
end

-- OneCycleLR(optimizer, max_lr, {total_steps | epochs and steps_per_epoch, pct_start = 0.3,
-- anneal_strategy = "cos", cycle_momentum = true, base_momentum = 0.85, max_momentum = 0.95,
-- div_factor = 25, final_div_factor = 1e4, three_phase = false, last_epoch = -1})
function OneCycleLR:__init(optimizer, max_lr, opts)
  opts = check_options("OneCycleLR", opts, options)
  local total = opts.total_steps
  if total == nil and opts.epochs == nil and opts.steps_per_epoch == nil then
    error("OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)", 0)
  elseif total ~= nil then
    if not positive_int(total) then
      error("OneCycleLR: Expected positive integer total_steps, but got " .. tostring(total), 0)
    end
  else
    if not positive_int(opts.epochs) then
      error("OneCycleLR: Expected positive integer epochs, but got " .. tostring(opts.epochs), 0)
    end
    if not positive_int(opts.steps_per_epoch) then
      error("OneCycleLR: Expected positive integer steps_per_epoch, but got " .. tostring(opts.steps_per_epoch), 0)
    end
    total = opts.epochs * opts.steps_per_epoch
  end
  self.total_steps = total
  local pct = opts.pct_start or 0.3
  if type(pct) ~= "number" or pct < 0 or pct > 1 then
    error("OneCycleLR: Expected float between 0 and 1 pct_start, but got " .. tostring(pct), 0)
  end
  if opts.three_phase then
    self._schedule_phases = {
      { end_step = pct * total - 1, start_lr = "initial_lr", end_lr = "max_lr",
        start_momentum = "max_momentum", end_momentum = "base_momentum" },
      { end_step = 2 * pct * total - 2, start_lr = "max_lr", end_lr = "initial_lr",
        start_momentum = "base_momentum", end_momentum = "max_momentum" },
      { end_step = total - 1, start_lr = "initial_lr", end_lr = "min_lr",
        start_momentum = "max_momentum", end_momentum = "max_momentum" },
    }
  else
    self._schedule_phases = {
      { end_step = pct * total - 1, start_lr = "initial_lr", end_lr = "max_lr",
        start_momentum = "max_momentum", end_momentum = "base_momentum" },
      { end_step = total - 1, start_lr = "max_lr", end_lr = "min_lr",
        start_momentum = "base_momentum", end_momentum = "max_momentum" },
    }
  end
  local strategy = opts.anneal_strategy or "cos"
  if strategy ~= "cos" and strategy ~= "linear" then
    error("OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got " .. tostring(strategy), 0)
  end
  self.anneal_strategy = strategy
  local last_epoch = opts.last_epoch or -1
  local div, final_div = opts.div_factor or 25., opts.final_div_factor or 1e4
  local max_lrs = per_group(optimizer, "max_lr", max_lr)
  if last_epoch == -1 then
    for i, g in ipairs(optimizer.param_groups) do
      g.initial_lr = max_lrs[i] / div
      g.max_lr = max_lrs[i]
      g.min_lr = g.initial_lr / final_div
    end
  end
  self.cycle_momentum = opts.cycle_momentum ~= false
  if self.cycle_momentum then
    local d = optimizer.defaults
    if d.momentum == nil and d.betas == nil then
      error("OneCycleLR: optimizer must support momentum with `cycle_momentum` option enabled", 0)
    end
    self.use_beta1 = d.betas ~= nil
    local maxm = per_group(optimizer, "max_momentum", opts.max_momentum or 0.95)
    local basem = per_group(optimizer, "base_momentum", opts.base_momentum or 0.85)
    if last_epoch == -1 then
      for i, g in ipairs(optimizer.param_groups) do
        if self.use_beta1 then g.betas = { maxm[i], g.betas[2] } else g.momentum = maxm[i] end
        g.max_momentum, g.base_momentum = maxm[i], basem[i]
      end
    end
  end
  LRScheduler.__init(self, optimizer, last_epoch)
end

function OneCycleLR:get_lr()
  local step = self.last_epoch
  if step > self.total_steps then
    error(string.format("OneCycleLR: Tried to step %d times. The specified number of total steps is %d",
      step + 1, self.total_steps), 0)
  end
  local anneal = self.anneal_strategy == "linear" and anneal_linear or anneal_cos
  local phases = self._schedule_phases
  local out = {}
  for i, g in ipairs(self.optimizer.param_groups) do
    local start_step, lr, momentum = 0, nil, nil
    for k, phase in ipairs(phases) do
      local end_step = phase.end_step
      if step <= end_step or k == #phases then
        local pct = (step - start_step) / (end_step - start_step)
        lr = anneal(g[phase.start_lr], g[phase.end_lr], pct)
        if self.cycle_momentum then
          momentum = anneal(g[phase.start_momentum], g[phase.end_momentum], pct)
        end
        break
      end
      start_step = phase.end_step
    end
    out[i] = lr
    if self.cycle_momentum then
      if self.use_beta1 then g.betas = { momentum, g.betas[2] } else g.momentum = momentum end
    end
  end
  return out
end

return OneCycleLR
