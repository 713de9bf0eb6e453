-- bench/gpu on the CPU with toy sizes: the benchmark's Lua (and PyTorch's side, where
-- Debian's python3-torch is installed) runs and prints every metric, so that the GPU run of
-- spec/gpu/run.sh does not find a broken script. Timings here mean nothing.
local helpers = require("helpers")
local root = require("spec.support.wick_run").root

describe("bench/gpu", function()
  it("gpu.lua --device cpu --size tiny prints every metric with a positive value", function()
    local out, err, code = helpers.wick(("%q --device cpu --size tiny"):format(root .. "/bench/gpu/gpu.lua"))
    assert.are.equal(0, code, err)
    local seen = {}
    for name, value, unit in out:gmatch("([%w_]+)\t([%d%.eE%+%-]+)\t([%w/]+)\n") do
      assert.is_true(tonumber(value) > 0, name)
      seen[#seen + 1] = name .. " " .. unit
    end
    assert.are.same({ "copy GB/s", "add GB/s", "mul GB/s", "gelu GB/s", "sum GB/s", "softmax GB/s",
      "sgemm TFLOP/s", "bf16_gemm TFLOP/s", "cnn_step ms", "gpt_step ms" }, seen)
  end)

  it("gpu.lua --only picks metrics and rejects bad arguments", function()
    local out, _, code = helpers.wick(("%q --device cpu --size tiny --only sum,gpt_step"):format(root .. "/bench/gpu/gpu.lua"))
    assert.are.equal(0, code)
    assert.matches("^sum\t[%d.eE+-]+\tGB/s\ngpt_step\t[%d.eE+-]+\tms\n$", out)
    local _, err, code2 = helpers.wick(("%q --size huge"):format(root .. "/bench/gpu/gpu.lua"))
    assert.are_not.equal(0, code2)
    assert.matches("bench/gpu/gpu.lua: --size must be full or tiny", err, 1, true)
  end)

  it("run.sh joins wick's side with PyTorch's into ratios (or says torch is missing)", function()
    local out, code = helpers.run(("PYTHON=/usr/bin/python3 %q %q --device cpu --size tiny --only copy,add,cnn_step 2>&1")
      :format(root .. "/bench/gpu/run.sh", helpers.wick_bin()))
    assert.are.equal(0, code, out)
    if out:find("torch not available", 1, true) then
      assert.matches("\nadd +[%d.]+ GB/s +%- +%-", out)
    else
      assert.matches("\nadd +[%d.]+ GB/s +[%d.]+ +[%d.]+ +%d+%% +%d+%%\n", out)
      assert.matches("\ncnn_step +[%d.]+ ms +[%d.]+ +[%d.]+", out)
    end
    for _, m in ipairs({ "copy", "add", "cnn_step" }) do assert.matches("\n" .. m .. " ", out, 1, true) end
    assert.is_nil(out:find("\nsum ", 1, true))
  end)
end)
