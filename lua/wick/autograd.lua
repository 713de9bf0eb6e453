-- wick.autograd: gradient checking by finite differences, and helpers over the C engine.
local wick = require("wick")

local M = {}

-- Reads element i (0-based, flattened) of t as a Lua number.
local function get(flat, i) return flat[i]:item() end
local function set(flat, i, v) flat[i] = v end

-- Checks the gradients of fn at inputs (a list of f64 tensors) against central finite
-- differences of L = sum(fn(inputs) * v) for random v. Raises with the worst element when a
-- gradient is off; returns true otherwise. Options: eps (1e-6), atol (1e-5), rtol (1e-3),
-- trials (2): how many random projections v to try.
function M.gradcheck(fn, inputs, opts)
  opts = require("wick.util").check_options("gradcheck", opts, { "eps", "atol", "rtol", "trials" })
  local eps, atol, rtol = opts.eps or 1e-6, opts.atol or 1e-5, opts.rtol or 1e-3
  if wick.is_tensor(inputs) then inputs = { inputs } end
  for i, x in ipairs(inputs) do
    if wick.is_tensor(x) and x.requires_grad and x.dtype ~= "f64" then
      error(("gradcheck: input %d is %s; use f64 inputs for finite differences"):format(i, x.dtype), 2)
    end
  end
  local function outputs()
    local out = { fn(table.unpack(inputs)) }
    return out
  end
  for trial = 1, opts.trials or 2 do
    local out = outputs()
    local vs = {}
    local function loss(os)
      local total = 0
      for j, o in ipairs(os) do
        if wick.is_tensor(o) and o:is_floating_point() then
          vs[j] = vs[j] or wick.randn(o.shape, { dtype = o.dtype })
          total = total + (o * vs[j]):sum():item()
        end
      end
      return total
    end
    -- analytical: backward of sum(out * v)
    for _, x in ipairs(inputs) do
      if wick.is_tensor(x) and x.requires_grad then x.grad = nil end
    end
    local l
    for j, o in ipairs(out) do
      if wick.is_tensor(o) and o.requires_grad then
        vs[j] = vs[j] or wick.randn(o.shape, { dtype = o.dtype })
        local term = (o * vs[j]):sum()
        l = l and (l + term) or term
      end
    end
    if not l then error("gradcheck: no output requires grad", 2) end
    l:backward()
    for idx, x in ipairs(inputs) do
      if wick.is_tensor(x) and x.requires_grad then
        local analytic = x.grad and x.grad:reshape(-1) or wick.zeros(x:numel(), { dtype = x.dtype })
        wick.no_grad(function()
          local flat = x:view(-1)
          for i = 0, x:numel() - 1 do
            local orig = get(flat, i)
            set(flat, i, orig + eps)
            local lp = loss(outputs())
            set(flat, i, orig - eps)
            local lm = loss(outputs())
            set(flat, i, orig)
            local num = (lp - lm) / (2 * eps)
            local ana = get(analytic, i)
            if math.abs(num - ana) > atol + rtol * math.abs(num) then
              error(("gradcheck: gradient of input %d, element %d: analytical %.10g vs numerical %.10g (trial %d)")
                :format(idx, i, ana, num, trial), 2)
            end
          end
        end)
      end
    end
  end
  return true
end

return M
