-- Checkpoint checksums (issue 15, defect 5): a flipped byte inside a tensor's data is named on
-- load, and `wick run --resume` falls back to the previous checkpoint (the last two are kept),
-- ending with the same weights as a run that was never corrupted.
local helpers = require("helpers")
local q, slurp = helpers.quote, helpers.read_file

local function wick_cmd(args) return q(helpers.wick_bin()) .. " " .. args end

-- A byte of tensor `name`'s data in the safetensors file at path, flipped in place.
local function flip(path, name, at)
  local bytes = slurp(path)
  local n = string.unpack("<I8", bytes)
  local header = bytes:sub(9, 8 + n)
  local lo = header:match('"' .. name:gsub("%p", "%%%0") .. '":%s*{[^}]-"data_offsets":%s*%[(%d+)')
  local pos = 8 + n + tonumber(lo) + (at or 0) + 1
  local f = assert(io.open(path, "wb"))
  f:write(bytes:sub(1, pos - 1), string.char(bytes:byte(pos) ~ 0x10), bytes:sub(pos + 1))
  f:close()
end

-- epochs of a deterministic update of a Linear, a checkpoint after each, the weights at the end
local RECIPE = [[
return wick.recipe {
  config = { epochs = 3 },
  main = function(cfg)
    wick.manual_seed(7)
    local model = wick.nn.Linear(8, 4)
    local opt = wick.optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
    local state = { model = model, optimizer = opt }
    local start = (wick.recipe.resume(state) or { epoch = 0 }).epoch
    for epoch = start + 1, cfg.epochs do
      opt:zero_grad()
      local x = wick.randn(16, 8)
      model(x):pow(2):mean():backward()
      opt:step()
      wick.recipe.checkpoint(state, { epoch = epoch })
    end
    wick.save(wick.run_dir() .. "/model.safetensors", model:state_dict())
  end,
}
]]

describe("checkpoint checksums", function()
  local tmp = helpers.tmpdir()
  local recipe = tmp .. "/steps.lua"
  helpers.write(recipe, RECIPE)
  teardown(function() os.execute("rm -rf " .. q(tmp)) end)

  it("names the tensor whose data changed", function()
    local path = tmp .. "/ck.safetensors"
    local model = wick.nn.Linear(8, 4)
    wick.checkpoint.save(path, { model = model, epoch = 1 })
    assert.are.same({ epoch = 1 }, wick.checkpoint.counters(path))
    flip(path, "model.weight", 5)
    local msg = helpers.err(wick.checkpoint.load, path, { model = wick.nn.Linear(8, 4) })
    assert.matches("^checkpoint%.load: '" .. path:gsub("%p", "%%%0") ..
      "': tensor 'model%.weight' is corrupt %(checksum crc32c:%x+, expected crc32c:%x+%)$", msg)
    assert.is_false(pcall(wick.checkpoint.counters, path))
    -- the model it would have been loaded into is untouched: everything is checked first
  end)

  it("resumes from the previous checkpoint when the last one is corrupt", function()
    local a, b = tmp .. "/clean", tmp .. "/corrupt"
    local out, code = helpers.run(wick_cmd(("run --run-dir %s %s 2>&1"):format(q(a), q(recipe))))
    assert.are.equal(0, code, out)
    -- b: stopped after epoch 2 (epochs=2), its last checkpoint corrupted, resumed to epoch 3
    out, code = helpers.run(wick_cmd(("run --run-dir %s %s epochs=2 2>&1"):format(q(b), q(recipe))))
    assert.are.equal(0, code, out)
    assert.are.same({ epoch = 1 }, wick.checkpoint.counters(b .. "/checkpoint.prev.safetensors"))
    flip(b .. "/checkpoint.safetensors", "optimizer.state.weight.momentum_buffer", 3)
    local err
    out, err, code = helpers.wick(("run --resume %s epochs=3"):format(q(b)))
    assert.are.equal(0, code, err)
    assert.matches("^wick run: checkpoint%.safetensors cannot be used %(checkpoint%.counters: '" ..
      (b .. "/checkpoint.safetensors"):gsub("%p", "%%%0") ..
      "': tensor 'optimizer%.state%.weight%.momentum_buffer' is corrupt %(checksum crc32c:%x+, expected crc32c:%x+%)%): " ..
      "resuming from checkpoint%.prev%.safetensors\n$", err)
    assert.is_truthy(out:find("from checkpoint.prev.safetensors (epoch 1)\n", 1, true), out)
    local wa, wb = wick.load(a .. "/model.safetensors"), wick.load(b .. "/model.safetensors")
    for k, t in pairs(wa) do assert.is_true(t:equal(wb[k]), k) end
  end)
end)
