-- Shared by the spec/nn specs: the formula inputs of spec/ref/nn_modules_ref.py, the reference
-- values it generated, and a nested comparison within a tolerance.
local H = {}

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "spec/nn/"
H.ref = dofile(here .. "nn_ref.lua")

-- sin(a * i + b) for i = 0..n-1, reshaped (the reference script's fx), f64 unless dtype says.
function H.fx(shape, a, b, dtype)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  local t = (wick.arange(n, { dtype = "f64" }) * (a or 0.37) + (b or 0.0)):sin():reshape(shape)
  if dtype and dtype ~= "f64" then t = t:to(dtype) end
  return t
end

-- Asserts that actual (a tensor, number or nested table) is within tol of expected, elementwise
-- (|a - e| <= tol * max(1, |e|)), naming the first element that is off.
function H.near(actual, expected, tol, path)
  tol = tol or 1e-10
  path = path or "value"
  if wick.is_tensor(actual) then actual = actual:tolist() end
  if type(expected) == "table" then
    assert(type(actual) == "table", path .. ": expected a table, got " .. type(actual))
    assert(#actual == #expected, ("%s: expected %d elements, got %d"):format(path, #expected, #actual))
    for i = 1, #expected do H.near(actual[i], expected[i], tol, path .. "[" .. i .. "]") end
    return
  end
  assert(type(actual) == "number", path .. ": expected a number, got " .. type(actual))
  local err = math.abs(actual - expected)
  if not (err <= tol * math.max(1, math.abs(expected))) then
    error(("%s: %.12g is not within %g of %.12g"):format(path, actual, tol, expected), 2)
  end
end

-- Sets a module's parameters and buffers from a table of name -> tensor.
function H.set(m, values)
  m:load_state_dict(values, { strict = false })
  return m
end

-- Gradients of sum(out * fx(out.shape, a)) with respect to the given leaves.
function H.grads(out, leaves, a)
  for _, t in ipairs(leaves) do t.grad = nil end
  out:backward(H.fx(out.shape, a or 0.13, 0.0, out.dtype))
  local g = {}
  for i, t in ipairs(leaves) do g[i] = t.grad end
  return g
end

return H
