-- The wick module: the C core (tensors, kernels) plus the Lua policy built on it.
local core = require("wick.core")

local wick = {}
for k, v in pairs(core) do wick[k] = v end

wick.__version__ = core.build_info().version

-- dtype names, also as constants like torch.float32
local dtypes = {
  float32 = "f32", float = "f32", float64 = "f64", double = "f64", float16 = "f16", half = "f16",
  bfloat16 = "bf16", int64 = "i64", long = "i64", int32 = "i32", int = "i32", uint8 = "u8",
  bool = "bool",
}
for k, v in pairs(dtypes) do wick[k] = v end

-- Submodules load on first use: wick.config, wick.nn, ...
local lazy = {
  data = "wick.data",
  nn = "wick.nn", models = "wick.models", class = "wick.class",
  optim = "wick.optim",
  checkpoint = "wick.checkpoint",
  tb = "wick.tb",
  dist = "wick.dist",
  cuda = "wick.cuda", autocast = "wick.autocast",
  runs = "wick.runs", help = "wick.help",
  config = "wick.config", autograd = "wick.autograd", recipe_runner = "wick.recipe", recipe = "wick.recipe", cli = "wick.cli", repl = "wick.repl",
}
setmetatable(wick, {
  __index = function(t, k)
    local name = lazy[k]
    if name then
      local m = require(name)
      rawset(t, k, m)
      return m
    end
  end,
})

-- The directory of the run in progress under `wick run` (nil otherwise): docs/runs.md.
function wick.run_dir() return require("wick.runs").current_dir() end

package.loaded.wick = wick
require("wick.tensor")
require("wick.pointwise")
require("wick.tensor_ops")
require("wick.einsum")
return wick
