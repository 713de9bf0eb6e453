-- Subclassing wick.models.resnet.ResNet as torchvision's is subclassed: PyTorch's model-parallel
-- ResNet-50 tutorial, ported line by line (both halves on the CPU here), gets torchvision's
-- defaults from the constructor (it used to fail with internal nil errors).
local nn, resnet = wick.nn, wick.models.resnet
local err = require("helpers").err

local ModelParallelResNet50 = wick.class("ModelParallelResNet50", resnet.ResNet)
function ModelParallelResNet50:__init(num_classes)
  resnet.ResNet.__init(self, resnet.Bottleneck, { 3, 4, 6, 3 }, { num_classes = num_classes })
  self.seq1 = nn.Sequential(self.conv1, self.bn1, self.relu, self.maxpool, self.layer1, self.layer2):to("cpu")
  self.seq2 = nn.Sequential(self.layer3, self.layer4, self.avgpool):to("cpu")
  self.fc:to("cpu")
end
function ModelParallelResNet50:forward(x)
  x = self.seq2(self.seq1(x):to("cpu"))
  return self.fc(x:view(x:size(0), -1))
end

describe("wick.models.resnet.ResNet", function()
  it("builds the tutorial's model-parallel ResNet-50 with resnet50's weights and outputs", function()
    wick.manual_seed(0)
    local mp = ModelParallelResNet50(10)
    wick.manual_seed(0)
    local ref = wick.models.resnet50 { num_classes = 10 }
    local a, b = mp:state_dict(), ref:state_dict()
    for k, v in pairs(b) do assert.is_true(v:equal(a[k]), k) end
    assert.are.equal(161, #mp:parameters()) -- the Sequentials share the ResNet's own layers
    mp:eval()
    ref:eval()
    local x = wick.randn(2, 3, 32, 32)
    assert.is_true(mp(x):allclose(ref(x), { atol = 1e-5 }))
    assert.are.same({ 2, 10 }, mp(x).shape)
  end)

  it("fills torchvision's defaults and attributes, and checks block and layers", function()
    local m = resnet.ResNet(resnet.BasicBlock, { 1, 1, 1, 1 })
    assert.are.same({ 1000, 512 }, m.fc.weight.shape)
    assert.are.same({ 512, 64, 1, 1 }, { m.inplanes, m.base_width, m.groups, m.dilation })
    assert.are.equal("ResNet: block must be a block class such as wick.models.resnet.Bottleneck (got nil)",
      err(resnet.ResNet, nil, { 3, 4, 6, 3 }))
    assert.are.equal("ResNet: layers must be 4 block counts such as {3, 4, 6, 3} (got nil)",
      err(resnet.ResNet, resnet.Bottleneck))
    assert.are.equal("ResNet: unknown option 'num_class' (did you mean 'num_classes'?)",
      err(resnet.ResNet, resnet.Bottleneck, { 3, 4, 6, 3 }, { num_class = 10 }))
    -- a block built by hand, as torchvision's BasicBlock(inplanes, planes)
    assert.are.same({ 1, 8, 4, 4 }, resnet.BasicBlock(8, 8)(wick.randn(1, 8, 4, 4)).shape)
  end)
end)
