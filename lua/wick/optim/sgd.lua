-- optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum, weight
-- decay and maximize, as torch.optim.SGD; the update is one fused device call per group.
local wick = require("wick")
local class = require("wick.class")
local Optimizer = require("wick.optim.optimizer")

local SGD = class("SGD", Optimizer)

local options = { "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize" }

-- SGD(params, {lr (required), momentum = 0, dampening = 0, weight_decay = 0, nesterov = false,
-- maximize = false})
function SGD:__init(params, opts)
  opts = Optimizer._check_options("SGD", opts, options)
  local defaults = {
    lr = opts.lr, momentum = opts.momentum or 0, dampening = opts.dampening or 0,
    weight_decay = opts.weight_decay or 0, nesterov = opts.nesterov or false,
    maximize = opts.maximize or false,
  }
  Optimizer.__init(self, params, defaults, { "lr" })
end

-- PyTorch's checks and messages ("not (x >= 0)" also rejects NaN).
function SGD:_check_group(g)
  local num, bool = Optimizer._check_number, Optimizer._check_boolean
  local lr, momentum = num("SGD", g, "lr"), num("SGD", g, "momentum")
  local dampening, wd = num("SGD", g, "dampening"), num("SGD", g, "weight_decay")
  local nesterov = bool("SGD", g, "nesterov")
  bool("SGD", g, "maximize")
  if not (lr >= 0) then error("SGD: invalid learning rate: " .. lr, 0) end
  if not (momentum >= 0) then error("SGD: invalid momentum value: " .. momentum, 0) end
  if not (wd >= 0) then error("SGD: invalid weight_decay value: " .. wd, 0) end
  if nesterov and (momentum <= 0 or dampening ~= 0) then
    error("SGD: Nesterov momentum requires a momentum and zero dampening", 0)
  end
end

-- Hyperparameters are read from the group at every step (schedulers change lr between steps).
-- State: momentum_buffer, created on the first step with momentum (a copy of the update).
function SGD:_step_group(g)
  local o = {
    lr = g.lr, momentum = g.momentum, dampening = g.dampening, weight_decay = g.weight_decay,
    nesterov = g.nesterov, maximize = g.maximize,
  }
  -- one call for the whole group: the device fuses the updates (one launch per list on CUDA)
  local ps, grads, bufs, states, n = {}, {}, {}, {}, 0
  self:_each_param(g, function(p, grad, s)
    n = n + 1
    ps[n], grads[n], bufs[n], states[n] = p, grad, s.momentum_buffer, s
  end)
  if n == 0 then return end
  wick._sgd_update_many(ps, grads, bufs, n, o)
  for i = 1, n do states[i].momentum_buffer = bufs[i] end
end

return SGD
