-- wick.util: the one option checker (used by the Lua library and, through l_checkoptions, by
-- the C bindings), its suggestion rule, and call_in's error context.
local util = require("wick.util")
local err = require("helpers").err

describe("wick.util.check_options", function()
  local check = util.check_options

  it("returns the options, or {} for nil", function()
    local o = { a = 1 }
    assert.are.equal(o, check("f", o, { "a", "b" }))
    assert.are.same({}, check("f", nil, { "a" }))
  end)

  it("names the function, the option and the closest name, or lists the expected ones", function()
    assert.are.equal("f: unknown option 'lr_' (did you mean 'lr'?)", err(check, "f", { lr_ = 1 }, { "lr", "momentum" }))
    assert.are.equal("f: unknown option 'momentun' (did you mean 'momentum'?)", err(check, "f", { momentun = 1 }, { "lr", "momentum" }))
    assert.are.equal("f: unknown option 'zzz' (expected lr)", err(check, "f", { zzz = 1 }, { "lr" }))
    assert.are.equal("f: unknown option 'zzz' (expected lr or momentum)", err(check, "f", { zzz = 1 }, { "lr", "momentum" }))
    assert.are.equal("f: unknown option 'zzz' (expected a1, b22 or c333)", err(check, "f", { zzz = 1 }, { "a1", "b22", "c333" }))
    assert.are.equal("f: unknown option 'zzz'", err(check, "f", { zzz = 1 }, {}))
    -- a set of names is listed in alphabetical order; ties in distance go to the first of it
    assert.are.equal("f: unknown option 'tol' (did you mean 'atol'?)", err(check, "f", { tol = 1 }, { rtol = true, atol = true }))
    assert.are.equal("f: unknown option 'qqqq' (expected atol or rtol)", err(check, "f", { qqqq = 1 }, { rtol = true, atol = true }))
    -- a prefix of a long name
    assert.are.equal("f: unknown option 'nproc' (did you mean 'nproc_per_node'?)", err(check, "f", { nproc = 1 }, { "nproc_per_node" }))
  end)

  it("refuses non-tables and positional values", function()
    assert.are.equal("f: options must be a table (got number)", err(check, "f", 3, { "a" }))
    assert.are.equal("f: unexpected positional value in the options table", err(check, "f", { 1 }, { "a" }))
  end)

  it("gives the C bindings' options the same rule and wording", function()
    local C = { "dtype", "device", "generator", "requires_grad", "pin_memory" } -- l_random.c: factory_opts
    for _, bad in ipairs({ { genrator = 1 }, { dtpye = 1 }, { zzzzzz = 1 } }) do
      local want = err(check, "rand", bad, C)
      assert.are.equal(want, err(wick.rand, 2, bad))
    end
    assert.are.equal("sum: options must be a table (got boolean)", err(wick.sum, wick.ones(2), 0, true))
  end)
end)

describe("wick.util.call_in", function()
  it("returns the first result, or raises the error with context", function()
    assert.are.equal(3, util.call_in(function(e) return "ctx: " .. e end, function(a, b) return a + b, 9 end, 1, 2))
    assert.are.equal("ctx: boom", err(util.call_in, function(e) return "ctx: " .. e end, error, "boom", 0))
    local obj = setmetatable({}, { __tostring = function() return "obj" end })
    assert.are.equal(obj, err(util.call_in, function(e) return "ctx: " .. e end, error, obj))
  end)
end)
