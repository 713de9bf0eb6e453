-- optim.Adam and optim.AdamW (decoupled weight decay), with amsgrad and maximize, as
-- torch.optim.Adam/AdamW; the update is one fused device call per group and step count.
local wick = require("wick")
local class = require("wick.class")
local Optimizer = require("wick.optim.optimizer")

local Adam = class("Adam", Optimizer)

local options = { "lr", "betas", "eps", "weight_decay", "amsgrad", "maximize" }

-- Adam(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0,
-- amsgrad = false, maximize = false})
function Adam:__init(params, opts)
  local op = self.__name
  opts = Optimizer._check_options(op, opts, options)
  local defaults = {
    lr = opts.lr or 1e-3, betas = opts.betas or { 0.9, 0.999 }, eps = opts.eps or 1e-8,
    weight_decay = opts.weight_decay or self._default_weight_decay,
    amsgrad = opts.amsgrad or false, maximize = opts.maximize or false,
  }
  Optimizer.__init(self, params, defaults)
end

Adam._default_weight_decay = 0
Adam._decoupled = false

function Adam:_check_group(g)
  local op = self.__name
  local num, bool = Optimizer._check_number, Optimizer._check_boolean
  local lr, eps, wd = num(op, g, "lr"), num(op, g, "eps"), num(op, g, "weight_decay")
  bool(op, g, "amsgrad")
  bool(op, g, "maximize")
  local b = g.betas
  if type(b) ~= "table" or #b ~= 2 or type(b[1]) ~= "number" or type(b[2]) ~= "number" then
    error(op .. ": betas must be a table of two numbers", 0)
  end
  if not (lr >= 0) then error(op .. ": invalid learning rate: " .. lr, 0) end
  if not (eps >= 0) then error(op .. ": invalid epsilon value: " .. eps, 0) end
  for i = 1, 2 do
    if not (b[i] >= 0 and b[i] < 1) then
      error(string.format("%s: invalid beta parameter at index %d: %s", op, i - 1, b[i]), 0)
    end
  end
  if not (wd >= 0) then error(op .. ": invalid weight_decay value: " .. wd, 0) end
end

-- State: step (a Lua integer; PyTorch keeps a float tensor), exp_avg, exp_avg_sq and, with
-- amsgrad, max_exp_avg_sq, all created on the parameter's first update.
function Adam:_step_group(g)
  local o = {
    lr = g.lr, beta1 = g.betas[1], beta2 = g.betas[2], eps = g.eps,
    weight_decay = g.weight_decay, amsgrad = g.amsgrad, maximize = g.maximize,
    decoupled = self._decoupled, step = 0,
  }
  -- one call per distinct step count (usually one for the group): the device fuses the updates
  local zeros_like, lists, order = wick.zeros_like, {}, {}
  self:_each_param(g, function(p, grad, s)
    if s.step == nil then
      s.step = 0
      s.exp_avg = zeros_like(p)
      s.exp_avg_sq = zeros_like(p)
    end
    if g.amsgrad and s.max_exp_avg_sq == nil then s.max_exp_avg_sq = zeros_like(p) end
    s.step = s.step + 1
    local l = lists[s.step]
    if not l then
      l = { n = 0, p = {}, g = {}, m = {}, v = {}, vmax = {} }
      lists[s.step] = l
      order[#order + 1] = s.step
    end
    local n = l.n + 1
    l.n, l.p[n], l.g[n], l.m[n], l.v[n], l.vmax[n] = n, p, grad, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq
  end)
  for _, step in ipairs(order) do
    local l = lists[step]
    o.step = step
    wick._adam_update_many(l.p, l.g, l.m, l.v, g.amsgrad and l.vmax or nil, l.n, o)
  end
end

-- AdamW: param *= 1 - lr * weight_decay before the Adam update (default weight_decay 1e-2).
local AdamW = class("AdamW", Adam)
AdamW._default_weight_decay = 1e-2
AdamW._decoupled = true

return { Adam = Adam, AdamW = AdamW }
