-- The CPU convolution's two paths (src/cpu/conv.c): oneDNN when the build has it, and im2col +
-- BLAS (WICK_CONV=im2col, or a build without oneDNN). Each gives f32 forward and every
-- gradient within f32 rounding of the float64 result (which always runs im2col) over strides,
-- padding, dilation, groups, 1x1 and bias-less cases; `wick info` says which path runs.
local wick = require("wick")
local helper = require("wick_run")

local script = [[
wick.manual_seed(0)
-- N, C, H, W, O, K, stride, padding, dilation, groups, bias
local cases = { {2,3,9,9,5,3,1,1,1,1,true}, {4,8,8,8,16,3,2,1,1,1,true}, {3,6,7,7,6,3,1,2,2,3,true},
  {2,4,6,6,8,1,2,0,1,2,false}, {2,3,6,6,4,3,2,0,1,1,true}, {2,16,12,12,32,3,1,1,1,1,false},
  {1,3,20,20,8,7,2,3,1,1,true} }
for _, c in ipairs(cases) do
  local N, C, H, W, O, K, S, P, D, G, bias = table.unpack(c)
  local x = wick.randn(N, C, H, W):requires_grad_()
  local w = wick.randn(O, C // G, K, K):requires_grad_()
  local b = bias and wick.randn(O):requires_grad_() or nil
  local o = { stride = S, padding = P, dilation = D, groups = G }
  local y = wick.conv2d(x, w, b, o)
  local g = wick.randn(y:size())
  y:backward(g)
  local x2, w2 = x:double():detach():requires_grad_(), w:double():detach():requires_grad_()
  local b2 = b and b:double():detach():requires_grad_() or nil
  local y2 = wick.conv2d(x2, w2, b2, o)
  y2:backward(g:double())
  local function e(a, r) return ((a:double() - r):abs():max() / r:abs():max()):item() end
  local worst = math.max(e(y, y2), e(x.grad, x2.grad), e(w.grad, w2.grad), b and e(b.grad, b2.grad) or 0)
  print(string.format("%d\t%.3g", _, worst))
end
]]

describe("CPU convolution paths", function()
  local b = wick.build_info()
  local paths = { { name = "im2col", env = { WICK_CONV = "im2col" } } }
  if b.dnnl then table.insert(paths, 1, { name = "oneDNN", env = {} }) end

  for _, p in ipairs(paths) do
    it(p.name .. ": f32 forward and gradients within rounding of float64", function()
      local info = helper.run({ "info" }, { env = p.env })
      assert.are.equal(0, info.code, info.err)
      local want = p.name == "oneDNN" and b.dnnl or "im2col + BLAS"
      assert.matches("\nconv    " .. want, info.out, 1, true)
      local r = helper.run({ "-e", script }, { env = p.env })
      assert.are.equal(0, r.code, r.err)
      local seen = 0
      for i, v in r.out:gmatch("(%d+)\t(%S+)\n") do
        assert.is_true(tonumber(v) < 3e-6, p.name .. " case " .. i .. ": relative error " .. v)
        seen = seen + 1
      end
      assert.are.equal(7, seen, r.out)
    end)
  end
end)
