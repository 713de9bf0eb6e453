-- The Fashion-MNIST recipe under `wick run -n 2`: DDP with a DistributedSampler on a small
-- subset, evaluation gathered over the ranks (it equals one process evaluating the saved
-- weights on the whole test subset), and rank 0 alone printing, logging and saving.
local helpers = require("helpers")
local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/dist/[^/]*$") or ".")
local DATA = "/usr/share/datasets/fashion-mnist"

describe("the Fashion-MNIST recipe with 2 ranks", function()
  it("trains with DDP, gathers the evaluation and writes logs and weights from rank 0", function()
    if not io.open(DATA .. "/train-images-idx3-ubyte.gz") then pending("dataset-fashion-mnist not installed"); return end
    local runs = helpers.tmpdir()
    local out, code = helpers.run(("cd %q && WICK_RUNS_DIR=%q %q run -n 2 recipes/fashion_mnist.lua model=mlp "
      .. "train_subset=2000 test_subset=500 log_images=0 2>&1"):format(root, runs, helpers.wick_bin()))
    assert.are.equal(0, code, out)
    assert.matches("[0] mlp: 235146 parameters, 16 training batches of 64, ", out, 1, true)
    assert.matches(", 2 ranks\n", out, 1, true)
    local acc = tonumber(out:match("%[0%] epoch 1/1  train loss [%d.]+  test accuracy ([%d.]+)"))
    assert.is_truthy(acc, out)
    assert.is_nil(out:find("[1] epoch 1/1", 1, true), out)
    local dir = helpers.run(("ls -d %q/fashion_mnist-*"):format(runs)):match("[^\n]+")
    assert.is_truthy(dir, out)
    -- one event file in the run directory: rank 0's
    local events = helpers.run(("ls %q | grep -c '^events.out.tfevents'"):format(dir))
    assert.are.equal("1", events:match("%d+"))
    -- the gathered accuracy is the whole test subset's, each image counted once
    local model = wick.models.mlp { 784, 256, 128, 10 }
    model:load_state_dict(wick.load(dir .. "/model.safetensors"))
    local test = wick.data.FashionMNIST(DATA, "test", { normalize = { 0.2860, 0.3530 } })
    local x = test:get_batch(wick.arange(500))
    local y = test.targets:narrow(0, 0, 500)
    local correct = wick.no_grad(function() return model(x):argmax(1):eq(y):sum():item() end)
    assert.are.equal(string.format("%.4f", correct / 500), string.format("%.4f", acc))
    assert.is_true(acc > 0.5, out)
    helpers.run(("rm -rf %q"):format(runs))
  end)
end)
