-- nn.functional, continued: activations and losses composed from tensor ops (autograd comes
-- with the parts), with PyTorch's formulas and options. Added to F by nn/functional.lua.
local wick = require("wick")

return function(F)
  local opts_of = require("wick.util").check_options

  local function reduce(op, l, reduction)
    reduction = reduction or "mean"
    if reduction == "mean" then return l:mean() end
    if reduction == "sum" then return l:sum() end
    if reduction == "none" then return l end
    error(("%s: %s is not a valid value for reduction"):format(op, tostring(reduction)), 0)
  end

  local function float_input(op, x)
    if not wick.is_tensor(x) then error(("%s: expected a tensor (got %s)"):format(op, type(x)), 0) end
    if not x:is_floating_point() then
      error(("%s: not implemented for '%s'"):format(op, require("wick.pointwise").torch_name(x.dtype)), 0)
    end
  end

  -- log(sigmoid(x)), stable: min(x, 0) - log1p(exp(-|x|))
  function F.logsigmoid(x)
    float_input("logsigmoid", x)
    return wick.minimum(x, wick.zeros_like(x)) - (-x:abs()):exp():log1p()
  end
  function F.softmin(x, dim, opts) return F.softmax(-x, dim, opts) end
  -- glu(x, dim = -1): first half * sigmoid(second half)
  function F.glu(x, dim)
    dim = dim or -1
    local n = x:size(dim)
    if n % 2 ~= 0 then
      error(("glu: halving dimension must be even, but dimension %d is size %d"):format(dim, n), 0)
    end
    local h = x:chunk(2, dim)
    return h[1] * h[2]:sigmoid()
  end
  function F.mish(x)
    float_input("mish", x)
    return x * F.softplus(x):tanh()
  end
  function F.hardsigmoid(x)
    float_input("hardsigmoid", x)
    return (x + 3):hardtanh(0, 6) / 6
  end
  function F.hardswish(x)
    float_input("hardswish", x)
    return x * (x + 3):hardtanh(0, 6) / 6
  end

  local function same_size(op, input, target)
    local a, b = input.shape, target.shape
    local ok = #a == #b
    for i = 1, #a do ok = ok and a[i] == b[i] end
    if not ok then
      error(("%s: using a target size (%s) that is different to the input size (%s) is not supported")
        :format(op, table.concat(b, ", "), table.concat(a, ", ")), 0)
    end
  end

  -- binary_cross_entropy(p, target, {weight, reduction}): logs clamped at -100, as PyTorch
  local BCE = { weight = true, reduction = true }
  function F.binary_cross_entropy(input, target, opts)
    opts = opts_of("binary_cross_entropy", opts, BCE)
    float_input("binary_cross_entropy", input)
    same_size("binary_cross_entropy", input, target)
    local lp = input:log():clamp(-100, nil)
    local lq = (1 - input):log():clamp(-100, nil)
    local l = -(target * lp + (1 - target) * lq)
    if opts.weight then l = l * opts.weight end
    return reduce("binary_cross_entropy", l, opts.reduction)
  end

  -- kl_div(input (log-probabilities), target, {reduction = "mean", log_target = false})
  local KL = { reduction = true, log_target = true }
  function F.kl_div(input, target, opts)
    opts = opts_of("kl_div", opts, KL)
    float_input("kl_div", input)
    local l
    if opts.log_target then
      l = target:exp() * (target - input)
    else -- xlogy(t, t) - t * input, 0 where t == 0
      local pos = target:gt(0)
      local safe = wick.where(pos, target, wick.ones_like(target))
      l = target * safe:log() - target * input
    end
    if opts.reduction == "batchmean" then
      local n = input:dim() > 0 and input:size(0) or 1
      return l:sum() / n
    end
    return reduce("kl_div", l, opts.reduction)
  end

  -- smooth_l1_loss(input, target, {reduction, beta = 1}): 0.5 d^2 / beta below beta, |d| - beta / 2 above
  local SL1 = { reduction = true, beta = true }
  function F.smooth_l1_loss(input, target, opts)
    opts = opts_of("smooth_l1_loss", opts, SL1)
    local beta = opts.beta or 1.0
    if beta < 0 then error("smooth_l1_loss: beta must be non-negative (got " .. beta .. ")", 0) end
    local d = (input - target):abs()
    local l = beta == 0 and d or wick.where(d:lt(beta), d * d * (0.5 / beta), d - 0.5 * beta)
    return reduce("smooth_l1_loss", l, opts.reduction)
  end

  -- huber_loss(input, target, {reduction, delta = 1}): 0.5 d^2 up to delta, delta (|d| - delta / 2) above
  local HUBER = { reduction = true, delta = true }
  function F.huber_loss(input, target, opts)
    opts = opts_of("huber_loss", opts, HUBER)
    local delta = opts.delta or 1.0
    if delta <= 0 then error("huber_loss: delta must be positive (got " .. delta .. ")", 0) end
    local d = (input - target):abs()
    local l = wick.where(d:lt(delta), d * d * 0.5, (d - 0.5 * delta) * delta)
    return reduce("huber_loss", l, opts.reduction)
  end

  F._reduce = reduce
  F._opts_of = opts_of
end
