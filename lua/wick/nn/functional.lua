-- nn.functional: the stateless forms of the layers and losses. Thin: each calls the C kernel
-- bound on `wick` (src/lua/l_nn.c, l_math.c, l_reduce.c) with PyTorch's argument order;
-- optional keyword arguments go in a trailing options table.
local wick = require("wick")

local F = {}

-- The C function wick[name], looked up at call time.
local function kernel(name)
  local fn = rawget(wick, name)
  if not fn then error(("nn.functional.%s: wick.%s is not available in this build"):format(name, name), 0) end
  return fn
end

-- linear(x, weight, bias): x @ weight^T + bias, for x of shape [*, in_features].
function F.linear(x, weight, bias)
  local y = x:matmul(weight:t())
  if bias ~= nil then y = y + bias end
  return y
end

-- conv2d(x, weight, bias, {stride, padding, dilation, groups})
function F.conv2d(x, weight, bias, opts) return kernel("conv2d")(x, weight, bias, opts) end
-- max_pool2d(x, kernel_size, {stride, padding, dilation, ceil_mode})
function F.max_pool2d(x, kernel_size, opts) return kernel("max_pool2d")(x, kernel_size, opts) end
-- avg_pool2d(x, kernel_size, {stride, padding, ceil_mode, count_include_pad, divisor_override})
function F.avg_pool2d(x, kernel_size, opts) return kernel("avg_pool2d")(x, kernel_size, opts) end
function F.adaptive_avg_pool2d(x, output_size) return kernel("adaptive_avg_pool2d")(x, output_size) end

-- batch_norm(x, running_mean, running_var, weight, bias, {training = false, momentum = 0.1, eps = 1e-5})
function F.batch_norm(x, running_mean, running_var, weight, bias, opts)
  return kernel("batch_norm")(x, running_mean, running_var, weight, bias, opts)
end

-- layer_norm(x, normalized_shape, weight, bias, {eps = 1e-5})
function F.layer_norm(x, normalized_shape, weight, bias, opts)
  return kernel("layer_norm")(x, normalized_shape, weight, bias, opts)
end

-- embedding(indices, weight, {padding_idx})
function F.embedding(indices, weight, opts) return kernel("embedding")(indices, weight, opts) end

-- dropout(x, p = 0.5, training = true), or dropout(x, {p, training, inplace})
function F.dropout(x, p, training)
  if type(p) == "table" then
    require("wick.util").check_options("dropout", p, { "p", "training", "inplace" })
    p, training = p.p, p.training
  end
  if p == nil then p = 0.5 end
  if training == nil then training = true end
  return kernel("dropout")(x, p, training)
end

-- activations
function F.relu(x) return x:relu() end
function F.relu6(x) return x:hardtanh(0, 6) end
function F.gelu(x, opts) return x:gelu(opts) end
function F.tanh(x) return x:tanh() end
function F.sigmoid(x) return x:sigmoid() end
function F.silu(x) return x:silu() end
function F.softplus(x) return x:softplus() end
function F.leaky_relu(x, negative_slope) return x:leaky_relu(negative_slope or 0.01) end
function F.elu(x, alpha) return x:elu(alpha or 1.0) end
function F.hardtanh(x, min_val, max_val) return x:hardtanh(min_val or -1, max_val or 1) end

local function softmax_dim(op, dim)
  if math.type(dim) ~= "integer" then
    error(("%s: dim must be given as an integer (got %s)"):format(op, tostring(dim)), 0)
  end
  return dim
end
-- softmax(x, dim, {dtype}) / log_softmax(x, dim, {dtype}): dim is required (PyTorch's implicit
-- choice of dim is deprecated).
function F.softmax(x, dim, opts) return x:softmax(softmax_dim("softmax", dim), opts) end
function F.log_softmax(x, dim, opts) return x:log_softmax(softmax_dim("log_softmax", dim), opts) end

function F.flatten(x, start_dim, end_dim) return x:flatten(start_dim or 0, end_dim or -1) end

-- losses: (input, target, {reduction = "mean", ...})
-- cross_entropy(logits, target, {weight, ignore_index = -100, reduction, label_smoothing = 0})
function F.cross_entropy(input, target, opts) return kernel("cross_entropy")(input, target, opts) end
-- nll_loss(log_probs, target, {weight, ignore_index = -100, reduction})
function F.nll_loss(input, target, opts) return kernel("nll_loss")(input, target, opts) end
-- mse_loss / l1_loss promote input and target to a common dtype, as PyTorch does; l1_loss of
-- integer tensors is |input - target| reduced, mse_loss refuses them.
local pointwise = require("wick.pointwise")
local REDUCE = { mean = true, sum = true, none = true }
local function promoted(op, input, target, opts)
  if not wick.is_tensor(input) or not wick.is_tensor(target) or input.dtype == target.dtype then
    return input, target, input and input.dtype
  end
  local ct = wick.promote_types(input.dtype, target.dtype)
  return input:to(ct), target:to(ct), ct
end
function F.mse_loss(input, target, opts)
  local x, t, ct = promoted("mse_loss", input, target, opts)
  if ct and not pointwise.is_float(x) then
    error(("mse_loss: not implemented for '%s'"):format(pointwise.torch_name(ct)), 2)
  end
  return kernel("mse_loss")(x, t, opts)
end
function F.l1_loss(input, target, opts)
  local x, t, ct = promoted("l1_loss", input, target, opts)
  if ct and not pointwise.is_float(x) and wick.is_tensor(t) then
    local r = (opts or {}).reduction or "mean"
    if not REDUCE[r] then kernel("l1_loss")(input, target, opts) end -- its own error for the option
    local d = wick.sub(x, t):abs()
    if r == "none" then return d elseif r == "sum" then return d:sum() end
    return d:mean()
  end
  return kernel("l1_loss")(x, t, opts)
end
-- binary_cross_entropy_with_logits(logits, target, {weight, pos_weight, reduction})
function F.binary_cross_entropy_with_logits(input, target, opts)
  return kernel("binary_cross_entropy_with_logits")(input, target, opts)
end

require("wick.nn.functional_act_loss")(F)
require("wick.nn.functional_shape")(F)
require("wick.nn.functional_1d")(F)

return F
