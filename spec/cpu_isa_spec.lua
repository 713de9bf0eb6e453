-- The CPU kernels' instruction sets (src/cpu/isa.c): WICK_CPU_ISA picks one, `wick info` names
-- it, a bad name is a clear error, and every set this CPU runs gives the math, softmax and
-- their gradients within f32 rounding of a float64 reference (spec/c/test_vec.c checks the
-- kernels themselves ulp by ulp).
local wick = require("wick")
local helper = require("wick_run")

-- max relative error of each f32 op against the same op in f64, printed as "name value"
local script = [[
wick.manual_seed(0)
local x = wick.randn(4001) * 6
local pos = x:abs() + 1e-3
local F = wick.nn.functional
local function err(name, y, ref)
  local d = ((y:double() - ref):abs() / (ref:abs() + 1e-30)):max():item()
  print(name, string.format("%.3g", d))
end
err("exp", x:exp(), x:double():exp())
err("log", pos:log(), pos:double():log())
err("tanh", x:tanh(), x:double():tanh())
err("sigmoid", x:sigmoid(), x:double():sigmoid())
local xg = x:clamp(-6, 30) -- below, float64's own 1 + erf(x) loses its digits
err("gelu", F.gelu(xg), F.gelu(xg:double()))
local m = wick.randn(33, 517) * 4
err("softmax", m:softmax(1), m:double():softmax(1))
err("log_softmax", m:log_softmax(1), m:double():log_softmax(1))
err("softmax_dim0", m:softmax(0), m:double():softmax(0))
local g = wick.randn(33, 517)
for _, lg in ipairs({ false, true }) do
  local a, b = m:clone():requires_grad_(), m:double():requires_grad_()
  local fa = lg and a:log_softmax(1) or a:softmax(1)
  local fb = lg and b:log_softmax(1) or b:softmax(1)
  fa:backward(g)
  fb:backward(g:double())
  local d = ((a.grad:double() - b.grad):abs():max() / b.grad:abs():max()):item()
  print(lg and "log_softmax_grad" or "softmax_grad", string.format("%.3g", d))
end
]]

local tol = { exp = 3e-7, log = 3e-7, tanh = 3e-7, sigmoid = 3e-7, gelu = 1e-5, softmax = 5e-6,
  log_softmax = 5e-6, softmax_dim0 = 5e-6, softmax_grad = 1e-6, log_softmax_grad = 1e-6 }

describe("CPU instruction sets", function()
  local b = wick.build_info()

  it("names the set in use and every set this CPU runs", function()
    assert.is_true(#b.cpu_isas >= 1)
    assert.are.equal(b.cpu_isas[1], b.cpu_isa) -- the widest by default
    assert.are.equal("baseline", b.cpu_isas[#b.cpu_isas])
  end)

  for _, isa in ipairs(b.cpu_isas) do
    it("WICK_CPU_ISA=" .. isa .. " runs the math within f32 rounding", function()
      local r = helper.run({ "info" }, { env = { WICK_CPU_ISA = isa } })
      assert.are.equal(0, r.code, r.err)
      assert.matches("\nCPU     " .. isa .. " kernels ", r.out, 1, true)
      r = helper.run({ "-e", script }, { env = { WICK_CPU_ISA = isa } })
      assert.are.equal(0, r.code, r.err)
      local seen = 0
      for name, v in r.out:gmatch("(%S+)\t(%S+)\n") do
        assert.is_true(tonumber(v) <= tol[name], isa .. " " .. name .. ": relative error " .. v)
        seen = seen + 1
      end
      assert.are.equal(10, seen, r.out)
    end)
  end

  it("rejects an unknown set before running anything", function()
    local r = helper.run({ "-e", "print('ran')" }, { env = { WICK_CPU_ISA = "avx3" } })
    assert.are.equal(1, r.code)
    assert.are.equal("", r.out)
    assert.are.equal("wick: WICK_CPU_ISA=avx3: unknown instruction set (expected baseline, avx2 or avx512)\n", r.err)
  end)

  it("rejects a set this CPU lacks, naming the ones it runs", function()
    local lacking
    for _, isa in ipairs({ "avx512", "avx2" }) do
      local has = false
      for _, h in ipairs(b.cpu_isas) do has = has or h == isa end
      if not has then lacking = lacking or isa end
    end
    if not lacking then return pending("this CPU runs every set") end
    local r = helper.run({ "info" }, { env = { WICK_CPU_ISA = lacking } })
    assert.are.equal(1, r.code)
    assert.are.equal("wick: WICK_CPU_ISA=" .. lacking .. ": this CPU lacks it (it runs: "
      .. table.concat(b.cpu_isas, ", ") .. ")\n", r.err)
  end)
end)
