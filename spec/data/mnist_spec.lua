-- MNIST / FashionMNIST: the real Fashion-MNIST files of Debian's dataset-fashion-mnist checked
-- against facts read from the same files with numpy (spec/ref/fashion_mnist_ref.py), and small
-- synthetic MNIST directories (plain, gzip, torchvision's layout) for the file lookup, the
-- options and the errors.
local helpers = require("helpers")
local data = wick.data

local err = require("helpers").err

local ROOT = "/usr/share/datasets/fashion-mnist"
local function installed()
  local f = io.open(ROOT .. "/train-images-idx3-ubyte.gz", "rb")
  if f then f:close() end
  return f ~= nil
end

local function near(a, b, tol) require("helpers").near(a, b, tol or 1e-5) end

describe("FashionMNIST", function()
  local train, test

  before_each(function()
    if not installed() then return end
    train = train or data.FashionMNIST()
    test = test or data.FashionMNIST(nil, "test")
  end)

  it("has the sizes, dtypes and labels of Fashion-MNIST", function()
    if not installed() then pending("dataset-fashion-mnist not installed"); return end
    assert.are.equal(60000, #train)
    assert.are.equal(10000, #test)
    assert.are.same({ 60000, 28, 28 }, train.data.shape)
    assert.are.equal("u8", train.data.dtype)
    assert.are.equal("i64", train.targets.dtype)
    assert.are.equal(10, #train.classes)
    local x, y = train:get(0)
    assert.are.equal("f32", x.dtype)
    assert.are.same({ 1, 28, 28 }, x.shape)
    assert.are.equal(9, y)
    assert.are.equal("Ankle boot", train.classes[y + 1])
    assert.are.same({ 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }, train.targets:narrow(0, 0, 10):tolist())
    assert.are.same({ 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 }, test.targets:narrow(0, 0, 10):tolist())
    for k = 0, 9 do assert.are.equal(6000, train.targets:eq(k):sum():item()) end
  end)

  it("holds the same pixels as the IDX files, scaled into [0, 1]", function()
    if not installed() then pending("dataset-fashion-mnist not installed"); return end
    assert.are.equal(3431114169, train.data:sum():item())
    assert.are.equal(573469082, test.data:sum():item())
    local x = train:get(0)
    near(x:sum():item(), 76247 / 255)
    near(train:get(-1):sum():item(), 16684 / 255)
    near(test:get(9999):sum():item(), 24390 / 255)
    local row = x[0][14]:narrow(0, 10, 10):tolist()
    local want = { 0, 0, 237, 226, 217, 223, 222, 219, 222, 221 }
    for k = 1, 10 do near(row[k], want[k] / 255, 1e-7) end
    assert.are.equal(1, x:max():item())
    assert.are.equal(0, x:min():item())
  end)

  it("batches like get, through get_batch", function()
    if not installed() then pending("dataset-fashion-mnist not installed"); return end
    local idx = wick.tensor({ 5, 59999, 0, 5 })
    local xb, yb = train:get_batch(idx)
    assert.are.same({ 4, 1, 28, 28 }, xb.shape)
    assert.are.equal("i64", yb.dtype)
    for k, i in ipairs(idx:tolist()) do
      local x, y = train:get(i)
      assert.is_true(wick.equal(x, xb[k - 1]))
      assert.are.equal(y, yb[k - 1]:item())
    end
  end)

  it("normalises with {normalize = {mean, std}}", function()
    if not installed() then pending("dataset-fashion-mnist not installed"); return end
    local ds = data.FashionMNIST(nil, "train", { normalize = { { 0.2860 }, { 0.3530 } } })
    local x = ds:get(0)
    near(x[0][14][12]:item(), (237 / 255 - 0.2860) / 0.3530)
    near(x[0][0][0]:item(), -0.2860 / 0.3530)
    local xb = ds:get_batch(wick.tensor({ 0 }))
    assert.is_true(wick.equal(xb[0], x))
    -- over the whole training set, mean 0 and std 1 (the dataset's own statistics)
    local all = data.FashionMNIST(nil, { normalize = { 0.2860405969887955, 0.35302424451492237 } })
      :get_batch(wick.arange(60000))
    near(all:mean():item(), 0, 1e-4)
    near(all:std():item(), 1, 1e-4)
  end)

  it("loads through a DataLoader in 469 batches of 128", function()
    if not installed() then pending("dataset-fashion-mnist not installed"); return end
    local loader = data.DataLoader(train, { batch_size = 128, shuffle = true, seed = 0 })
    assert.are.equal(469, #loader)
    local seen, last = 0, nil
    for step, x, y in loader:iter() do
      assert.are.equal(seen // 128, step)
      seen = seen + y:size(0)
      last = x.shape
    end
    assert.are.equal(60000, seen)
    assert.are.same({ 96, 1, 28, 28 }, last)
    assert.are.equal(468, #data.DataLoader(train, { batch_size = 128, drop_last = true }))
    assert.are.equal(79, #data.DataLoader(test, { batch_size = 128 }))
  end)

  it("prints like torchvision", function()
    if not installed() then pending("dataset-fashion-mnist not installed"); return end
    assert.are.equal("Dataset FashionMNIST\n    Number of datapoints: 10000\n    Root location: " .. ROOT ..
      "\n    Split: Test", tostring(test))
  end)
end)

describe("MNIST files", function()
  local dir = helpers.tmpdir()
  -- 3 training images of 2x2 and 2 test images; labels 0..9
  local function make(root, gz, layout)
    local sub = layout and root .. "/MNIST/raw" or root
    assert(os.execute(("mkdir -p %q"):format(sub)))
    local files = {
      ["train-images-idx3-ubyte"] = wick.tensor({ { { 0, 255 }, { 51, 102 } }, { { 1, 2 }, { 3, 4 } }, { { 9, 9 }, { 9, 9 } } }):to("u8"),
      ["train-labels-idx1-ubyte"] = wick.tensor({ 7, 0, 9 }):to("u8"),
      ["t10k-images-idx3-ubyte"] = wick.zeros(2, 2, 2, { dtype = "u8" }),
      ["t10k-labels-idx1-ubyte"] = wick.tensor({ 1, 2 }):to("u8"),
    }
    for name, t in pairs(files) do
      data.write_idx(sub .. "/" .. name .. (gz and ".gz" or ""), t, { gzip = gz })
    end
    return root
  end

  it("reads plain files, gzip files and torchvision's layout", function()
    for k, v in ipairs({ { false, false }, { true, false }, { true, true } }) do
      local root = make(dir .. "/m" .. k, v[1], v[2])
      local ds = data.MNIST(root)
      assert.are.equal(3, #ds)
      local x, y = ds:get(0)
      assert.are.same({ 1, 2, 2 }, x.shape)
      near(x:tolist(), { { { 0, 1 }, { 0.2, 0.4 } } }, 1e-7)
      assert.are.equal(7, y)
      assert.are.equal(2, #data.MNIST(root, "test"))
      assert.are.equal("7 - seven", ds.classes[y + 1])
    end
  end)

  it("applies transform and target_transform per sample, and then batches by collate", function()
    local root = make(dir .. "/t", false, false)
    local ds = data.MNIST(root, "train", {
      transform = function(x) return x * 2 end,
      target_transform = function(y) return y + 100 end,
    })
    local x, y = ds:get(1)
    near(x:tolist(), { { { 2 / 255, 4 / 255 }, { 6 / 255, 8 / 255 } } }, 1e-7)
    assert.are.equal(100, y)
    assert.is_false(ds.get_batch)
    local steps = 0
    for _, xb, yb in data.DataLoader(ds, { batch_size = 3 }):iter() do
      assert.are.same({ 3, 1, 2, 2 }, xb.shape)
      assert.are.same({ 107, 100, 109 }, yb:tolist())
      steps = steps + 1
    end
    assert.are.equal(1, steps)
  end)

  it("explains missing files, naming the directory and the Debian package", function()
    assert.are.equal("FashionMNIST: cannot find train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) in " ..
      dir .. "/nothing (install Debian's dataset-fashion-mnist package: apt-get install dataset-fashion-mnist)",
      err(data.FashionMNIST, dir .. "/nothing"))
    assert.are.equal("MNIST: cannot find t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz) in " ..
      dir .. "/nothing (Debian has no MNIST package: put the IDX files there or pass their directory as root)",
      err(data.MNIST, dir .. "/nothing", "test"))
  end)

  it("checks its arguments and the files' contents", function()
    local root = make(dir .. "/e", false, false)
    assert.are.equal('MNIST: split must be "train" or "test" (got val)', err(data.MNIST, root, "val"))
    assert.are.equal("MNIST: unknown option 'normalise' (did you mean 'normalize'?)",
      err(data.MNIST, root, "train", { normalise = { 0, 1 } }))
    assert.are.equal("MNIST: normalize std must not be 0", err(data.MNIST, root, { normalize = { 0.5, 0 } }))
    assert.are.equal("MNIST: index 3 is out of range for 3 samples", err(data.MNIST(root).get, data.MNIST(root), 3))
    data.write_idx(root .. "/t10k-labels-idx1-ubyte", wick.tensor({ 1, 2, 3 }):to("u8"))
    assert.are.equal("MNIST: 3 labels in " .. root .. "/t10k-labels-idx1-ubyte for 2 images in " .. root ..
      "/t10k-images-idx3-ubyte", err(data.MNIST, root, "test"))
    data.write_idx(root .. "/t10k-images-idx3-ubyte", wick.zeros(2, 4, { dtype = "f32" }))
    assert.are.equal("MNIST: " .. root .. "/t10k-images-idx3-ubyte holds f32 [2, 4] (expected u8 images [N, H, W])",
      err(data.MNIST, root, "test"))
  end)
end)
