-- nn.utils.clip_grad_norm_ / clip_grad_value_: PyTorch's gradient clipping, returning the total
-- norm (a tensor) like PyTorch, with error_if_nonfinite.
local wick = require("wick")

local M = {}

-- A list of the tensors with a gradient among params (a tensor, a list, or an iterator list).
local function grads_of(params)
  if wick.is_tensor(params) then params = { params } end
  local out = {}
  for _, p in ipairs(params) do
    if p.grad ~= nil then out[#out + 1] = p end
  end
  return out
end

-- clip_grad_norm_(parameters, max_norm, {norm_type = 2, error_if_nonfinite = false}) -> total_norm
function M.clip_grad_norm_(params, max_norm, opts)
  opts = require("wick.util").check_options("clip_grad_norm_", opts, { "norm_type", "error_if_nonfinite", "foreach" })
  if type(max_norm) ~= "number" then error("clip_grad_norm_: max_norm must be a number", 0) end
  local norm_type = opts.norm_type or 2.0
  if norm_type == "inf" then norm_type = math.huge end
  local ps = grads_of(params)
  if #ps == 0 then return wick.tensor(0.0) end
  local total
  return wick.no_grad(function()
    if norm_type == math.huge then
      for _, p in ipairs(ps) do
        local m = p.grad:abs():max()
        total = total and wick.maximum(total, m:to(total.device)) or m
      end
    else
      local norms = {}
      for i, p in ipairs(ps) do norms[i] = p.grad:norm(norm_type) end
      total = wick.stack(norms):norm(norm_type)
    end
    local t = total:item()
    if opts.error_if_nonfinite and (t ~= t or t == math.huge or t == -math.huge) then
      error(("clip_grad_norm_: The total norm of order %s for gradients from `parameters` is non-finite, "
        .. "so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
        .. "anyway, set `error_if_nonfinite=false`"):format(tostring(norm_type)), 0)
    end
    local coef = max_norm / (t + 1e-6)
    if coef < 1 then
      for _, p in ipairs(ps) do p.grad:mul_(coef) end
    end
    return total
  end)
end

-- clip_grad_value_(parameters, clip_value): clamps every gradient into [-clip_value, clip_value].
function M.clip_grad_value_(params, clip_value)
  if type(clip_value) ~= "number" then error("clip_grad_value_: clip_value must be a number", 0) end
  wick.no_grad(function()
    for _, p in ipairs(grads_of(params)) do p.grad:clamp_(-clip_value, clip_value) end
  end)
end

return M
