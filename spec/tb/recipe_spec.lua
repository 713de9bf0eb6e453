-- The default recipe's run directory, opened by the TensorBoard server itself: scalars,
-- histograms, images, text, the graph and the hparams session are all there.
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/recipe_spec%.lua$") or "spec/tb") .. "/peer.lua")

local function count(t)
  local n = 0
  for _ in pairs(t or {}) do n = n + 1 end
  return n
end

describe("the Fashion-MNIST recipe in TensorBoard", function()
  it("fills the scalars, histograms, images, text, graphs and hparams tabs", function()
    if not peer.have_tb then pending(peer.why); return end
    if not io.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") then
      pending("dataset-fashion-mnist not installed"); return
    end
    local runs = helpers.tmpdir()
    local out, code = helpers.run(("cd %q && WICK_RUNS_DIR=%q %q run recipes/fashion_mnist.lua model=mlp 2>&1"):format(
      peer.root, runs, helpers.wick_bin()))
    assert.are.equal(0, code, out)
    local dir = helpers.run(("ls -d %q/fashion_mnist-*"):format(runs)):match("[^\n]+")
    assert.is_truthy(dir, out)
    local errf = os.tmpname()
    local served, scode = helpers.run(("PYTHONPATH=%q %q %q serve %q 2>%q"):format(peer.pydeps, peer.python,
      peer.script, dir, errf))
    local e = peer.slurp(errf)
    os.remove(errf)
    assert.are.equal(0, scode, e)
    local s = assert(load(served))()
    for _, tag in ipairs{ ".|train/loss", ".|train/lr", ".|test/accuracy", "hparams|test_accuracy" } do
      assert.is_truthy(s.scalars[tag], "missing scalar " .. tag)
    end
    assert.are.equal(938 // 50 + 1, #s.scalars[".|train/loss"])
    assert.is_truthy(s.histograms[".|weights/0.weight"] and s.histograms[".|grads/4.bias"])
    assert.is_true(count(s.images) >= 1 and count(s.text) >= 1)
    assert.are.equal(1, count(s.graph_runs))
    assert.are.equal(1, count(s.session_groups))
  end)
end)
