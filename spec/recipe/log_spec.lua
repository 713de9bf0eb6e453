-- wick.recipe.log: every logged value per step in metrics.jsonl of the run directory and in
-- its TensorBoard scalars (read back by TensorBoard's own reader when installed).
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/recipe/log_spec%.lua$") or "spec") .. "/tb/peer.lua")
local err = helpers.err

describe("wick.recipe.log", function()
  it("checks its arguments, and writes nothing outside wick run", function()
    assert.is_nil(wick.recipe.log({ loss = 1 }, 2))
    assert.are.equal("wick.recipe.log: expected a table of metrics {name = value, ...} (got number)",
      err(wick.recipe.log, 1))
    assert.are.equal("wick.recipe.log: metric 'loss' must be a number or a one-element tensor (got string)",
      err(wick.recipe.log, { loss = "x" }))
    assert.are.equal("wick.recipe.log: metric names must be strings (got number)", err(wick.recipe.log, { 1 }))
    assert.are.equal("wick.recipe.log: step must be an integer >= 0 (got 1.5)", err(wick.recipe.log, { a = 1 }, 1.5))
    assert.are.equal("wick.recipe.log: step must be an integer >= 0 (got -1)", err(wick.recipe.log, { a = 1 }, -1))
  end)

  it("keeps every value per step in metrics.jsonl and TensorBoard", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/r.lua", [[
return wick.recipe { main = function()
  print(wick.recipe.log { loss = 0.5, acc = wick.tensor(0.25) })  -- step 0
  print(wick.recipe.log { loss = 0.25 })                          -- the next step: 1
  print(wick.recipe.log({ ["test/acc"] = 1, nan = 0 / 0 }, 10))
end }
]])
    local out, e, code = helpers.wick(("run --run-dir %s %s"):format(helpers.quote(dir .. "/run"), helpers.quote(dir .. "/r.lua")))
    assert.are.equal(0, code, e)
    assert.truthy(out:find("\n0\n1\n10\n$"), out)
    local jsonl = helpers.read_file(dir .. "/run/metrics.jsonl")
    assert.are.equal('{"step": 0, "acc": 0.25, "loss": 0.5}\n{"step": 1, "loss": 0.25}\n'
      .. '{"step": 10, "nan": NaN, "test/acc": 1}\n', jsonl)
    if not peer.have_tb then pending(peer.why); return end
    local s = peer.read(dir .. "/run")["."].scalars
    assert.are.same({ { 0, 0.5 }, { 1, 0.25 } }, { { s.loss[1].step, s.loss[1].value }, { s.loss[2].step, s.loss[2].value } })
    assert.are.same({ 10, 1 }, { s["test/acc"][1].step, s["test/acc"][1].value })
    os.execute("rm -rf " .. helpers.quote(dir))
  end)
end)
