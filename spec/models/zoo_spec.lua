-- wick.models.resnet18/34/50/101/152, vgg11_bn/16/16_bn/19/19_bn, mobilenet_v2: structure, names
-- and parameter counts as torchvision's, and the same outputs as torchvision (python3-torchvision)
-- from a state dict exported to safetensors by spec/ref/zoo_ref.py (PyPI's safetensors, from
-- $WICK_PYDEPS).
local wick = require("wick")
local helpers = require("helpers")

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/models"
local root = here:gsub("/?spec/models$", "")
if root == "" then root = "." end
local python = os.getenv("WICK_TORCH_PYTHON") or os.getenv("WICK_PYTHON") or "/usr/bin/python3"
local pydeps = os.getenv("WICK_PYDEPS") or (root .. "/build/pydeps")

local _, missing = helpers.run(("PYTHONPATH=%q %q -c %q 2>/dev/null"):format(pydeps, python,
  "import importlib.util as u, sys; sys.exit(not (u.find_spec('torch') and u.find_spec('torchvision') "
  .. "and u.find_spec('safetensors')))"))
local why = ("needs %s with torch (python3-torch), torchvision (python3-torchvision) and safetensors "
  .. "(python3 -m pip install --target %s safetensors, or set WICK_PYDEPS)"):format(python, pydeps)

-- name -> {number of parameters with num_classes = 10, number of state dict entries} (torchvision's)
local MODELS = {
  { "resnet18", 11181642, 122 }, { "resnet34", 21289802, 218 }, { "resnet50", 23528522, 320 },
  { "mobilenet_v2", 2236682, 314 }, { "vgg11_bn", 128812810, 62 }, { "resnet101", 42520650, 626 },
}
-- checked for structure only: the same blocks and configurations as the compared models, and
-- exporting ~550 MB of VGG weights per model would slow CI for little
local STRUCTURE_ONLY = {
  { "resnet152", 58164298, 932 }, { "vgg16", 134301514, 32 }, { "vgg16_bn", 134309962, 97 },
  { "vgg19", 139611210, 38 }, { "vgg19_bn", 139622218, 118 },
}

local function numel(m)
  local n = 0
  for p in m:parameters() do n = n + p:numel() end
  return n
end

local function max_diff(a, b)
  assert.same(b.shape, a.shape)
  return (a:double() - b:double()):abs():max():item()
end

-- max |got - want| <= 1e-4 * max(1, max |want|): float32 sums over deep nets with random
-- BatchNorm statistics reach logits in the hundreds.
local function close(got, want, what)
  local scale = math.max(1, want:double():abs():max():item())
  local d = max_diff(got, want)
  if d > 1e-4 * scale then
    error(("%s: max |wick - torch| = %.3g (scale %.3g)"):format(what, d, scale), 2)
  end
end

-- Runs zoo_ref.py once for all the models (one torch start-up); then returns one model's
-- tensors (state dict, and the "__*" entries), deleting its file.
local ref_dir
local function reference(name)
  if not ref_dir then
    ref_dir = helpers.tmpdir()
    local names = {}
    for i, c in ipairs(MODELS) do names[i] = c[1] end
    local errf = ref_dir .. "/stderr"
    local _, code = helpers.run(("PYTHONPATH=%q %q %q %q %s 2>%q"):format(pydeps, python,
      root .. "/spec/ref/zoo_ref.py", ref_dir, table.concat(names, " "), errf))
    if code ~= 0 then
      local f = io.open(errf)
      error("zoo_ref.py failed: " .. (f and f:read("a") or "?"), 0)
    end
    os.remove(errf)
  end
  local path = ref_dir .. "/" .. name .. ".safetensors"
  local t = wick.load(path)
  os.remove(path)
  local sd, extra = {}, {}
  for k, v in pairs(t) do
    if k:sub(1, 2) == "__" then extra[k] = v else sd[k] = v end
  end
  return sd, extra
end

describe("models zoo", function()
  it("has torchvision's names and parameter counts", function()
    local all = { table.unpack(MODELS) }
    table.move(STRUCTURE_ONLY, 1, #STRUCTURE_ONLY, #all + 1, all)
    for _, c in ipairs(all) do
      local m = wick.models[c[1]] { num_classes = 10 }
      assert.are.equal(c[2], numel(m), c[1])
      assert.are.equal(c[3], #m:state_dict():keys(), c[1])
    end
    local keys = wick.models.resnet18():state_dict():keys()
    assert.are.same({ "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                      "bn1.num_batches_tracked", "layer1.0.conv1.weight" }, { table.unpack(keys, 1, 7) })
    local r50 = wick.models.resnet50():state_dict()
    assert.same({ 256, 64, 1, 1 }, r50["layer1.0.downsample.0.weight"].shape)
    assert.same({ 1000, 2048 }, r50["fc.weight"].shape)
    local mb = wick.models.mobilenet_v2():state_dict()
    assert.same({ 32, 1, 3, 3 }, mb["features.1.conv.0.0.weight"].shape) -- depthwise
    assert.same({ 1280 }, mb["features.18.1.running_var"].shape)
    assert.same({ 1000, 1280 }, mb["classifier.1.weight"].shape)
  end)

  it("gives the logits shape and checks its options", function()
    local m = wick.models.resnet18 { num_classes = 7 }:eval()
    local y = wick.no_grad(function() return m(wick.randn(2, 3, 32, 32)) end)
    assert.same({ 2, 7 }, y.shape)
    assert.has_error(function() wick.models.resnet18 { num_class = 3 } end,
      "resnet18: unknown option 'num_class' (did you mean 'num_classes'?)")
    assert.has_error(function() wick.models.mobilenet_v2 { num_classes = 0 } end,
      "mobilenet_v2: num_classes must be a positive integer (got 0)")
    assert.has_error(function() wick.models.resnet34 { groups = 2 } end,
      "resnet34: BasicBlock only supports groups = 1 and width_per_group = 64")
  end)

  for _, c in ipairs(MODELS) do
    local name = c[1]
    it(name .. " loads a torchvision state dict (strict) and gives the same outputs", function()
      if missing ~= 0 then pending(why) return end
      local sd, ref = reference(name)
      local m = wick.models[name] { num_classes = 10 }
      local res = m:load_state_dict(sd, { strict = true })
      assert.same({}, res.missing_keys)
      assert.same({}, res.unexpected_keys)
      m:eval()
      local y = wick.no_grad(function() return m(ref.__input__) end)
      close(y, ref.__output__, name .. " eval output")
      if ref.__train_output__ then
        m:train()
        local yt = wick.no_grad(function() return m(ref.__train_input__) end)
        close(yt, ref.__train_output__, name .. " train output")
        close(m.layer1[0].bn1.running_mean, ref.__train_running_mean__, "running_mean")
        assert.are.equal(4, m.layer1[0].bn1.num_batches_tracked:item())
      end
      sd, ref, m = nil, nil, nil
      collectgarbage()
    end)
  end
  teardown(function()
    if ref_dir then os.remove(ref_dir) end
  end)
end)
