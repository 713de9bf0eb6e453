-- wick.set_num_threads bounds (issue 15, defect 4): counts outside 1..1024 are errors, and a
-- large count under an address-space limit (ulimit -v) no longer hangs the process at exit
-- inside OpenBLAS (its threads are capped at the CPUs of the process).
local helpers = require("helpers")
local q = helpers.quote

describe("wick.set_num_threads", function()
  it("rejects counts outside 1..1024", function()
    assert.are.equal("set_num_threads: expected 1 to 1024 threads (got 0)", helpers.err(wick.set_num_threads, 0))
    assert.are.equal("set_num_threads: expected 1 to 1024 threads (got 5000)", helpers.err(wick.set_num_threads, 5000))
    assert.are.equal("set_num_threads: expected 1 to 1024 threads (got -3)", helpers.err(wick.set_num_threads, -3))
    local n = wick.get_num_threads()
    wick.set_num_threads(n)
    assert.are.equal(n, wick.get_num_threads())
  end)

  it("sets OpenMP's count as given", function()
    local n = wick.get_num_threads()
    wick.set_num_threads(3)
    assert.are.equal(3, wick.get_num_threads())
    wick.set_num_threads(n)
  end)

  it("exits promptly with 64 threads under ulimit -v", function()
    local script = "wick.set_num_threads(64); local a = wick.randn(256, 256); print(a:matmul(a):sum():item() == a:matmul(a):sum():item())"
    local out, code = helpers.run(("ulimit -v 3000000; timeout 20 %s -e %s 2>&1; echo \"exit $?\""):format(
      q(helpers.wick_bin()), q(script)))
    if out:find("AddressSanitizer failed to allocate", 1, true) then
      pending("an ASan build cannot start under ulimit -v (its shadow memory needs the address space)")
      return
    end
    assert.are.equal("true\nexit 0\n", out)
  end)
end)
