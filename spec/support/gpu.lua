-- Shared by the GPU specs (spec/gpu/): whether they can run here, the device they compare with
-- the CPU, and their it() wrappers. WICK_GPU_TWIN=cpu runs the comparisons with the CPU on both
-- sides, which checks the spec files themselves on machines without a GPU.
-- usage: local gpu = require("gpu")(_ENV)   (busted's it/pending live in the spec file's
-- environment and change while it runs, so they are looked up there when called)
return function(env)
  local function it(...) return env.it(...) end
  local function pending(...) return env.pending(...) end
  local M = {}
  M.twin = os.getenv("WICK_GPU_TWIN") == "cpu"
  M.gpu = wick.cuda.is_available()
  M.dev = M.twin and "cpu" or "cuda"

  local function seeded(name, can_run, fn)
    it(name, function()
      if not can_run() then pending("no CUDA device") return end
      wick.manual_seed(1234)
      fn()
    end)
  end

  -- it() for a comparison with the CPU twin: runs on a GPU, or with WICK_GPU_TWIN=cpu.
  function M.cit(name, fn) seeded(name, function() return M.gpu or M.twin end, fn) end
  -- it() for a test of the device itself: runs on a GPU only.
  function M.git(name, fn) seeded(name, function() return M.gpu end, fn) end

  -- Inside a test: true when a CUDA device (and, with nccl, wick's NCCL backend) is there;
  -- otherwise marks the test pending and returns false.
  function M.need_cuda(nccl)
    if not M.gpu then pending("no CUDA device") return false end
    if nccl and not require("wick.core")._pg.nccl then pending("wick was built without NCCL") return false end
    return true
  end

  function M.max_diff(a, b) return (a:cpu() - b:cpu()):abs():max():item() end
  return M
end
