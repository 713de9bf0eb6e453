-- The metric history in `wick runs`: the last value and a sparkline of a metric logged with
-- wick.recipe.log, read back from metrics.jsonl.
local helpers = require("helpers")
local history = require("wick.recipe.history")

describe("wick.recipe.history", function()
  it("draws sparklines scaled from the minimum to the maximum, at most WIDTH bars", function()
    assert.are.equal("▁▂▃▄▅▆▇█", history.sparkline { 0, 1, 2, 3, 4, 5, 6, 7 })
    assert.are.equal("█▁", history.sparkline { 10, -10 })
    assert.are.equal("▄▄▄", history.sparkline { 2, 2, 2 })
    assert.are.equal("▁█", history.sparkline({ 0, 0, 1, 1 }, 2)) -- each bar the mean of its share
    assert.are.equal(16, utf8.len(history.sparkline((function() local t = {} for i = 1, 100 do t[i] = i end return t end)())))
    assert.are.equal("▁█", history.sparkline { 0, 0 / 0, 1, math.huge }) -- non-finite left out
    assert.are.equal("", history.sparkline {})
  end)

  it("reads metrics.jsonl: per name in step order, a step logged again keeps its last value", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/metrics.jsonl", '{"step": 2, "a": 3, "q\\"uote": 1.5}\n{"step": 0, "a": 1}\n'
      .. '{"step": 2, "a": 4, "b": NaN}\n')
    local h = history.read(dir)
    assert.are.same({ "a", "b", 'q"uote' }, h.names)
    assert.are.same({ 1, 4 }, h.series.a)
    assert.are.same({ 1.5 }, h.series['q"uote'])
    assert.is_true(h.series.b[1] ~= h.series.b[1])
    assert.is_nil(history.read(dir .. "/none"))
    os.execute("rm -rf " .. helpers.quote(dir))
  end)

  it("wick runs shows the last value and sparkline of the chosen metric", function()
    local dir = helpers.tmpdir()
    helpers.write(dir .. "/r.lua", [[
return wick.recipe { config = { k = 1 }, main = function(cfg)
  for i = 0, 7 do wick.recipe.log({ loss = (8 - i) * cfg.k }, i) end
  wick.recipe.log({ acc = 0.5 }, 8)
end }
]])
    for _, k in ipairs { "1", "2" } do
      local _, e, code = helpers.wick(("run --run-dir %s %s k=%s"):format(helpers.quote(dir .. "/runs/k" .. k),
        helpers.quote(dir .. "/r.lua"), k))
      assert.are.equal(0, code, e)
    end
    helpers.write(dir .. "/runs/k2/meta.yaml", helpers.read_file(dir .. "/runs/k2/meta.yaml"):gsub("start_time: [^\n]*", "start_time: '2099-01-01T00:00:00Z'"))
    local out, e, code = helpers.wick(("runs %s"):format(helpers.quote(dir .. "/runs")))
    assert.are.equal(0, code, e)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.matches("^name +date +status +k +loss$", lines[1])
    assert.matches("^k1 .* 1 +1 █▇▆▅▄▃▂▁$", lines[2])
    assert.matches("^k2 .* 2 +2 █▇▆▅▄▃▂▁$", lines[3])
    out = helpers.wick(("runs %s --metric acc"):format(helpers.quote(dir .. "/runs")))
    assert.matches("\nk1 .* 1 +0%.5 ▄\n", out)
    local _
    _, e, code = helpers.wick(("runs %s --metric los"):format(helpers.quote(dir .. "/runs")))
    assert.are.same({ "wick runs: no run logged the metric 'los' (logged: acc, loss)\n", 1 }, { e, code })
    _, e, code = helpers.wick(("runs %s --metric"):format(helpers.quote(dir .. "/runs")))
    assert.are.same({ "wick runs: option '--metric' needs a value\n", 1 }, { e, code })
    os.execute("rm -rf " .. helpers.quote(dir))
  end)
end)
