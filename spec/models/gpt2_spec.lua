-- wick.models.gpt2: Hugging Face's GPT-2 parameter names and layout, and the same logits as a
-- PyTorch GPT-2 written from HF's modeling_gpt2 (spec/ref/gpt2_ref.py) from the same
-- safetensors weights, saved in the hub's layout (no "transformer." prefix, attn.bias buffers).
local wick = require("wick")
local helpers = require("helpers")
local err = helpers.err

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/models"
local root = here:gsub("/?spec/models$", "")
if root == "" then root = "." end
local python = os.getenv("WICK_TORCH_PYTHON") or "/usr/bin/python3"
local pydeps = os.getenv("WICK_PYDEPS") or (root .. "/build/pydeps")
local _, missing = helpers.run(("PYTHONPATH=%q %q -c %q 2>/dev/null"):format(pydeps, python,
  "import importlib.util as u, sys; sys.exit(not (u.find_spec('torch') and u.find_spec('safetensors')))"))
local why = ("needs %s with torch (python3-torch) and safetensors (python3 -m pip install --target %s "
  .. "safetensors, or set WICK_PYDEPS)"):format(python, pydeps)

describe("wick.models.gpt2", function()
  it("has Hugging Face's parameter names and shapes, lm_head tied to wte", function()
    local m = wick.models.gpt2 { n_layer = 2, n_head = 2, n_embd = 8, vocab_size = 13, block_size = 6 }
    local sd = m:state_dict()
    local shapes = {
      ["transformer.wte.weight"] = { 13, 8 }, ["transformer.wpe.weight"] = { 6, 8 },
      ["transformer.h.1.attn.c_attn.weight"] = { 8, 24 }, ["transformer.h.1.attn.c_attn.bias"] = { 24 },
      ["transformer.h.0.attn.c_proj.weight"] = { 8, 8 }, ["transformer.h.0.mlp.c_fc.weight"] = { 8, 32 },
      ["transformer.h.0.mlp.c_proj.weight"] = { 32, 8 }, ["transformer.h.1.ln_2.bias"] = { 8 },
      ["transformer.ln_f.weight"] = { 8 }, ["lm_head.weight"] = { 13, 8 },
    }
    for k, s in pairs(shapes) do assert.are.same(s, sd[k].shape, k) end
    local n = 0
    for _ in pairs(sd) do n = n + 1 end
    assert.are.equal(2 + 2 * 12 + 2 + 1, n)
    assert.are.equal(#m:parameters(), n - 1) -- the tied weight is one parameter
    m.lm_head.weight:detach():zero_()
    assert.are.equal(0, m.transformer.wte.weight:abs():sum():item())
    assert.are.equal("gpt2: cannot forward a sequence of length 7, block size is only 6",
      err(function() return m(wick.zeros(1, 7, { dtype = "i64" })) end))
    assert.are.equal("gpt2: unknown option 'n_layers' (did you mean 'n_layer'?)", err(wick.models.gpt2, { n_layers = 2 }))
    assert.are.equal("gpt2: n_embd must be divisible by n_head", err(wick.models.gpt2, { n_embd = 10, n_head = 3 }))
    local out = m:generate(wick.zeros(2, 1, { dtype = "i64" }), 9) -- longer than block_size: a sliding window
    assert.are.same({ 2, 10 }, out.shape)
    assert.is_true(m.training)
  end)

  it("gives PyTorch's logits from the same safetensors checkpoint", function()
    if missing ~= 0 then pending(why) return end
    local dir = helpers.tmpdir()
    local out, code = helpers.run(("PYTHONPATH=%q %q %q %q"):format(pydeps, python, root .. "/spec/ref/gpt2_ref.py", dir))
    assert.are.equal(0, code, "gpt2_ref.py failed")
    local cfg = assert(load(out))()
    local m = wick.models.gpt2(cfg)
    m:eval()
    local r = m:load_state_dict(wick.load(dir .. "/model.safetensors"))
    assert.are.same({ missing_keys = {}, unexpected_keys = {} }, r)
    local io = wick.load(dir .. "/io.safetensors")
    local logits = m(io.idx)
    assert.are.same(io.logits.shape, logits.shape)
    local d = (logits - io.logits):abs():max():item()
    local scale = io.logits:abs():max():item()
    assert.is_true(d <= 1e-5 * scale, ("max |wick - torch| = %g (max |logit| %g)"):format(d, scale))
    -- and its own state dict round-trips (prefixed keys, lm_head.weight included)
    local m2 = wick.models.gpt2(cfg)
    m2:load_state_dict(m:state_dict())
    m2:eval()
    assert.is_true(m2(io.idx):equal(logits))
  end)
end)
