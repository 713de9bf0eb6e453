-- nn.Pipeline with CUDA stages: all on cuda:0, and cpu and cuda:0 mixed in both orders; the
-- outputs and gradients equal the unsplit sequential model's on the CPU.
local nn = wick.nn

local gpu = require("gpu")(_ENV)
local need_cuda, max_diff = gpu.need_cuda, gpu.max_diff

local function stages()
  wick.manual_seed(5)
  return { nn.Linear(8, 64), nn.GELU(), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 5) }
end


describe("nn.Pipeline on CUDA", function()
  it("defaults each stage's device to where it is; stages without parameters follow their neighbour", function()
    if not need_cuda() then return end
    local pipe = nn.Pipeline(nn.Sequential(nn.ReLU(), nn.Linear(3, 3):cuda(), nn.Tanh(), nn.Linear(3, 3)), { chunks = 2 })
    assert.are.same({ "cuda:0", "cuda:0", "cuda:0", "cpu" }, pipe.devices)
    assert.are.equal("cpu", pipe(wick.randn({ 4, 3 })).device)
  end)

  local layouts = {
    { "cuda:0", "cuda:0", "cuda:0", "cuda:0", "cuda:0" },
    { "cpu", "cpu", "cuda:0", "cuda:0", "cuda:0" },
    { "cuda:0", "cuda:0", "cpu", "cpu", "cpu" },
    { "cpu", "cuda:0", "cpu", "cuda:0", "cpu" },
  }
  for _, devices in ipairs(layouts) do
    for _, chunks in ipairs({ 1, 3, 4 }) do
      it(table.concat(devices, ",") .. " with chunks = " .. chunks .. " matches the CPU model", function()
        if not need_cuda() then return end
        local x = wick.randn({ 10, 8 }, { requires_grad = true })
        local ref = nn.Sequential(stages())
        local want = ref(x)
        want:pow(2):sum():backward()
        local want_x = x.grad:clone()
        x.grad = nil
        local pipe = nn.Pipeline(stages(), { devices = devices, chunks = chunks })
        for _, item in ipairs(pipe:named_parameters()) do
          local stage = math.tointeger(tonumber(item[1]:match("^(%d+)%.")))
          assert.are.equal(devices[stage + 1], item[2].device, item[1])
        end
        local got = pipe(x)
        assert.are.equal(devices[#devices], got.device)
        assert.is_true(max_diff(want, got) < 1e-4)
        got:pow(2):sum():backward()
        assert.is_true(max_diff(want_x, x.grad) < 1e-4)
        local rp = ref:named_parameters()
        for i, item in ipairs(pipe:named_parameters()) do
          assert.are.equal(rp[i][1], item[1])
          assert.is_true(max_diff(rp[i][2].grad, item[2].grad) < 1e-3, item[1])
        end
      end)
    end
  end
end)
