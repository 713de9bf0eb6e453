-- recipes/char_lm.lua, bounded: a small GPT trained for a few hundred steps on Debian's fortunes
-- ends with a validation loss well below the unigram entropy of its text, samples text, and
-- writes train/val loss to TensorBoard in its run directory; under `wick run -n 2` it trains
-- with DDP. Pending without the fortunes package.
local helper = require("wick_run")
local text = "/usr/share/games/fortunes/computers"

local f = io.open(text)
local have = f ~= nil
if f then f:close() end
local why = "needs Debian's fortunes package (" .. text .. ")"

describe("recipes/char_lm.lua", function()
  local dir
  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmdir(dir) end)

  it("learns: the validation loss falls well below the unigram entropy", function()
    if not have then pending(why) return end
    local r = helper.run({ "run", "--run-dir", dir .. "/run", "recipes/char_lm.lua", "steps=400",
      "block_size=32", "eval_every=200", "sample_chars=120", "threads=1" })
    assert.are.equal(0, r.code, r.err)
    local val, entropy = r.out:match("char_lm: val loss ([%d.]+) nats/char, unigram entropy ([%d.]+)")
    assert.is_not_nil(val, r.out)
    val, entropy = tonumber(val), tonumber(entropy)
    assert.is_true(entropy > 3, r.out) -- the text's characters: about 3.3 nats
    assert.is_true(val < 0.85 * entropy, ("val loss %g is not well below the unigram entropy %g"):format(val, entropy))
    local sample = r.out:match("%-%-%-%- sample %-%-%-%-\n(.-)\n%-%-%-%-\n")
    assert.is_not_nil(sample, r.out)
    assert.is_true(#sample >= 120)
    local p = io.popen("cat " .. helper.quote(dir) .. "/run/events.out.tfevents.*")
    local events = p:read("a")
    p:close()
    assert.is_truthy(events:find("train/loss", 1, true), "no train/loss in the event file")
    assert.is_truthy(events:find("val/loss", 1, true), "no val/loss in the event file")
    assert.is_true(io.open(dir .. "/run/model.safetensors") ~= nil)
  end)

  it("trains with DDP under wick run -n 2", function()
    if not have then pending(why) return end
    local r = helper.run({ "run", "-n", "2", "--run-dir", dir .. "/ddp", "recipes/char_lm.lua", "steps=6",
      "block_size=16", "n_embd=16", "eval_every=3", "eval_batches=1", "sample_chars=10" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("6 steps of 32 x 16 per rank, 2 ranks", r.out)
    assert.matches("step 6/6  train loss [%d.]+  val loss [%d.]+", r.out)
  end)

  it("says which text file it cannot read", function()
    local r = helper.run({ "run", "--run-dir", dir .. "/bad", "recipes/char_lm.lua", "data_dir=" .. dir, "files=[nope]" })
    assert.are.equal(1, r.code)
    assert.matches("char_lm: cannot read " .. dir:gsub("%p", "%%%0") .. "/nope %(", r.err)
  end)
end)
