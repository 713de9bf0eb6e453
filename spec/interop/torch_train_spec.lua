-- Numerics against PyTorch (Debian's python3-torch): from the same initial weights, a few SGD
-- and Adam steps of mlp and small_cnn on a fixed batch give the same loss at every step and the
-- same parameters afterwards, within 1e-4 relative. spec/ref/train_ref.py writes the weights,
-- the batch and the results as safetensors (PyPI's package, from $WICK_PYDEPS).
local wick = require("wick")
local helpers = require("helpers")

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/interop"
local root = here:gsub("/?spec/interop$", "")
if root == "" then root = "." end
local python = os.getenv("WICK_TORCH_PYTHON") or os.getenv("WICK_PYTHON") or "/usr/bin/python3"
local pydeps = os.getenv("WICK_PYDEPS") or (root .. "/build/pydeps")
local RTOL = 1e-4

local _, missing = helpers.run(("PYTHONPATH=%q %q -c %q 2>/dev/null"):format(pydeps, python,
  "import importlib.util as u, sys; sys.exit(not (u.find_spec('torch') and u.find_spec('safetensors')))"))
local why = ("needs %s with torch (python3-torch) and safetensors (python3 -m pip install --target %s "
  .. "safetensors, or set WICK_PYDEPS)"):format(python, pydeps)

local dir, cases
local function reference()
  if cases then return cases end
  dir = helpers.tmpdir()
  local errf = dir .. "/stderr"
  local out, code = helpers.run(("PYTHONPATH=%q %q %q %q 2>%q"):format(pydeps, python,
    root .. "/spec/ref/train_ref.py", dir, errf))
  if code ~= 0 then
    local f = io.open(errf)
    error("train_ref.py failed: " .. (f and f:read("a") or "?"), 0)
  end
  cases = assert(load(out, "train_ref.py"))()
  return cases
end

local function build(name)
  if name == "mlp" then return wick.models.mlp { 784, 256, 128, 10 } end
  return wick.models.small_cnn { num_classes = 10 }
end

-- ||wick - torch|| <= RTOL * ||torch|| per tensor (L2 norms). Elementwise relative error is not
-- a fair measure here: Adam moves a weight by about lr * g / (|g| + eps), so the few weights
-- whose gradient is a near-cancelling sum of ~1e-9 (where the two libraries' float summation
-- orders differ by ~1e-9) move by visibly different amounts, though every gradient agrees to
-- ~1e-8 absolute; over a whole tensor those few weights are far below 1e-4.
local function check_tensor(name, got, want)
  assert.same(want.shape, got.shape, name)
  local d = got:double() - want:double()
  local num = math.sqrt((d * d):sum():item())
  local den = math.sqrt((want:double() * want:double()):sum():item())
  if num > RTOL * den then
    error(string.format("%s: ||wick - torch|| = %.3g, ||torch|| = %.3g (relative %.3g > %g), max |diff| %.3g",
      name, num, den, num / den, RTOL, d:abs():max():item()), 2)
  end
end

describe("interop: training steps match PyTorch", function()
  for _, model_name in ipairs({ "mlp", "small_cnn" }) do
    for _, opt_name in ipairs({ "sgd", "sgd_nesterov", "adam", "adamw" }) do
      it(model_name .. " with " .. opt_name, function()
        if missing ~= 0 then pending(why) return end
        local case
        for _, c in ipairs(reference()) do
          if c.model == model_name and c.optimizer == opt_name then case = c end
        end
        assert.is_table(case, "no reference for " .. model_name .. " " .. opt_name)
        local batch = wick.load(dir .. "/batch.safetensors")
        local model = build(model_name)
        model:load_state_dict(wick.load(dir .. "/" .. model_name .. "_init.safetensors"))
        local opt = wick.optim[case.kind](model:parameters(), case.opts)
        for step, want in ipairs(case.losses) do
          opt:zero_grad()
          local loss = wick.nn.functional.cross_entropy(model(batch.x), batch.y)
          loss:backward()
          opt:step()
          local got = loss:item()
          if math.abs(got - want) > RTOL * math.abs(want) then
            error(string.format("step %d: loss %.9g, PyTorch %.9g", step, got, want))
          end
        end
        local final = wick.load(dir .. "/" .. model_name .. "_" .. opt_name .. ".safetensors")
        local n = 0
        for name, p in pairs(model:state_dict()) do
          assert.is_not_nil(final[name], "PyTorch has no " .. name)
          check_tensor(name, p, final[name])
          n = n + 1
        end
        assert.is_true(n >= 6)
      end)
    end
  end

  teardown(function()
    if dir then os.execute(("rm -rf %q"):format(dir)) end
  end)
end)
