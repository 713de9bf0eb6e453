-- wick.tb.SummaryWriter's summaries as TensorBoard's own reader sees them (spec/ref/tb_read.py):
-- scalars, add_scalars sub-runs, histograms (bins equal to torch.utils.tensorboard's for the
-- same values), images (pixels decoded by PIL), text, hparams; argument errors word for word.
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/summary_spec%.lua$") or "spec/tb") .. "/peer.lua")

local tmp = helpers.tmpdir()
local err = require("helpers").err
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

-- Everything is written first, read back in one python start, then checked test by test.
local d = tmp .. "/logs"
local w = wick.tb.SummaryWriter(d)
local hist_cases = {
  { "0.5,-0.25,0,1,3", "tensorflow", "" },
  { "0.5,-0.25,0,1,3,1e-13,-7,250,250,1e25", "tensorflow", "" },
  { "1,2,2,3", "4", "" },
  { "5,5,5", "3", "" },
  { "0.1,0.2,0.35,0.9,1.0,-1", "0,0.25,0.5,1", "" },
  { "-3,-2.5,-1,0,0.001,2,7,1e6", "tensorflow", "100" },
}
local function csv_values(s)
  local t = {}
  for x in s:gmatch("[^,]+") do t[#t + 1] = tonumber(x) end
  return t
end
for i, c in ipairs(hist_cases) do
  local bins = c[2] == "tensorflow" and "tensorflow" or (c[2]:find(",") and csv_values(c[2]) or math.tointeger(tonumber(c[2])))
  w:add_histogram("h" .. (i - 1), csv_values(c[1]), 1, { bins = bins, max_bins = c[3] ~= "" and tonumber(c[3]) or nil })
end
w:add_histogram("ht", wick.tensor({ { 0.5, -0.25 }, { 0, 1 } }):t(), 2) -- strided tensor input
for i = 0, 4 do w:add_scalar("loss", 1 / (i + 1), i * 10, { walltime = 1700000000 + i }) end
w:add_scalar("acc", wick.tensor({ 0.75 }), 3, { new_style = true })
w:add_scalar("nan", 0 / 0, 1)
-- the call the C fast path takes (string tag, Lua number, integer or nil step, no options),
-- next to one it leaves to the Lua checks (an integral float step)
local t_fast = os.time()
w:add_scalar("fast/ünï✓", 0.25, 5)
w:add_scalar("fast/ünï✓", 2)
w:add_scalar("fast/ünï✓", 0.75, 6.0)
w:add_scalar("fast/ünï✓", 0.5, 7.9) -- a float step is truncated, as PyTorch's int(global_step)
w:add_scalars("train/lr", { a = 1, b = 2.5 }, 7)
w:add_scalars("train/lr", { a = 3 }, 8)
-- 2x3 image, CHW floats: scaled by 255, clipped, truncated
local img = wick.tensor({
  { { 0, 0.5, 1 }, { 1.2, -0.1, 0.25 } },
  { { 1, 1, 1 }, { 0, 0, 0 } },
  { { 0.1, 0.2, 0.3 }, { 0.4, 0.6, 0.999 } },
})
w:add_image("img/chw", img, 1)
w:add_image("img/hwc", img:permute(1, 2, 0), 1, { dataformats = "HWC" })
w:add_image("img/hw_u8", wick.tensor({ { 0, 7, 255 } }, { dtype = "u8" }), 1, { dataformats = "HW" })
w:add_image("img/rgba", wick.ones(4, 1, 2) * 0.5, 1)
w:add_images("img/batch", wick.arange(10):float():reshape(10, 1, 1, 1) / 255, 1) -- 8 per row
w:add_text("notes", "# Title\n*ünïcode* ✓", 4)
w:add_hparams({ lr = 0.1, opt = "sgd", bn = true, layers = 3 }, { ["hp/acc"] = 0.9 }, { run_name = "trial1" })
w:add_hparams({ lr = 0.01 }, { ["hp/acc"] = 0.5 },
  { run_name = "trial2", hparam_domain_discrete = { lr = { 0.01, 0.1 } }, global_step = 4 })
w:close()
local got -- what TensorBoard read
local function read()
  if not peer.have_tb then pending(peer.why); return nil end
  if not got then peer.want("read", d, function(r) got = r end); peer.run_wanted() end
  return assert(got, "TensorBoard's reader returned nothing for " .. d)
end

describe("wick.tb summaries read by TensorBoard", function()
  it("add_scalar: steps, float32 values, walltime; new_style tensors; NaN", function()
    local r = read(); if not r then return end
    local loss = r["."].scalars.loss
    assert.are.equal(5, #loss)
    for i, e in ipairs(loss) do
      assert.are.same({ (i - 1) * 10, f32(1 / i), 1700000000 + i - 1.0 }, { e.step, e.value, e.wall_time })
    end
    local acc = r["."].tensors.acc[1]
    assert.are.same({ 3, 1, {}, { 0.75 } }, { acc.step, acc.dtype, acc.shape, acc.values })
    assert.are.equal("scalars", r["."].plugins.acc.plugin)
    local v = r["."].scalars.nan[1].value
    assert.is_true(v ~= v)
    local fast = r["."].scalars["fast/ünï✓"]
    assert.are.same({ { 5, 0.25 }, { 0, 2 }, { 6, 0.75 }, { 7, 0.5 } },
      { { fast[1].step, fast[1].value }, { fast[2].step, fast[2].value }, { fast[3].step, fast[3].value },
        { fast[4].step, fast[4].value } })
    for _, e in ipairs(fast) do assert.is_true(e.wall_time >= t_fast - 1 and e.wall_time < t_fast + 120) end
  end)

  it("add_scalars: one sub-run per key, <main_tag with / -> _>_<key>, tag main_tag", function()
    local r = read(); if not r then return end
    local a, b = r["train_lr_a"].scalars["train/lr"], r["train_lr_b"].scalars["train/lr"]
    assert.are.same({ { 7, 1 }, { 8, 3 } }, { { a[1].step, a[1].value }, { a[2].step, a[2].value } })
    assert.are.same({ 7, 2.5 }, { b[1].step, b[1].value })
  end)

  it("add_histogram: buckets, limits and statistics equal torch.utils.tensorboard's", function()
    local r = read(); if not r then return end
    local h = r["."].histograms
    -- hand-checked: the notes' golden example (PyTorch's algorithm)
    local h0 = h.h0[1]
    assert.are.same({ -0.25, 3, 5, 4.25, 10.3125, 581 }, { h0.min, h0.max, h0.num, h0.sum, h0.sum_squares, #h0.limits })
    assert.are.equal(-0.2656936063469233, h0.limits[1])
    assert.are.equal(3.1665833053880363, h0.limits[581])
    assert.are.same({ 0, 1, 0, 2, 1 }, h.h2[1].counts)
    assert.are.same({ 1, 1.5, 2, 2.5, 3 }, h.h2[1].limits)
    local ht = h.ht[1] -- {0.5, 0, -0.25, 1} read through a transposed tensor
    assert.are.same({ 4, 1.25, -0.25, 1, h0.limits[1] }, { ht.num, ht.sum, ht.min, ht.max, ht.limits[1] })
    if not peer.have_torch_tb() then pending("torch.utils.tensorboard not importable by " .. peer.torch_python); return end
    local t = peer.torch_hist(tmp .. "/torch", hist_cases)["."].histograms
    for i = 1, #hist_cases do
      local mine, theirs = h["h" .. (i - 1)][1], t["h" .. (i - 1)][1]
      assert.are.same(theirs.limits, mine.limits, "limits of case " .. i)
      assert.are.same(theirs.counts, mine.counts, "counts of case " .. i)
      for _, k in ipairs({ "min", "max", "num", "sum", "sum_squares" }) do
        assert.is_true(math.abs(theirs[k] - mine[k]) <= 1e-12 * math.max(1, math.abs(theirs[k])), k .. " of case " .. i)
      end
    end
  end)

  it("add_image / add_images: PNG pixels as PyTorch computes them", function()
    local r = read(); if not r then return end
    local im = r["."].images
    local want = { { 0, 255, 25 }, { 127, 255, 51 }, { 255, 255, 76 }, { 255, 0, 102 }, { 0, 0, 153 }, { 63, 0, 254 } }
    for _, tag in ipairs({ "img/chw", "img/hwc" }) do
      local e = im[tag][1]
      assert.are.same({ 1, 3, 2, "RGB" }, { e.step, e.width, e.height, e.mode })
      assert.are.same(want, e.pixels, tag)
    end
    assert.are.same({ { 0, 0, 0 }, { 7, 7, 7 }, { 255, 255, 255 } }, im["img/hw_u8"][1].pixels)
    local rgba = im["img/rgba"][1]
    assert.are.same({ "RGBA", { { 127, 127, 127, 127 }, { 127, 127, 127, 127 } } }, { rgba.mode, rgba.pixels })
    local b = im["img/batch"][1]
    assert.are.same({ 8, 2 }, { b.width, b.height })
    for i = 0, 15 do
      local v = i < 10 and i or 0 -- image i at row i // 8, column i % 8; black fill
      assert.are.same({ v, v, v }, b.pixels[i + 1])
    end
  end)

  it("add_text: a DT_STRING tensor under <tag>/text_summary with plugin text", function()
    local r = read(); if not r then return end
    local t = r["."].tensors["notes/text_summary"][1]
    assert.are.same({ 4, 7, { 1 } }, { t.step, t.dtype, t.shape })
    assert.are.equal("# Title\n*ünïcode* ✓", t.values[1])
    assert.are.equal("text", r["."].plugins["notes/text_summary"].plugin)
  end)

  it("add_hparams: experiment, session start/end and metrics in a sub-run", function()
    local r = read(); if not r then return end
    local hp = r.trial1.hparams
    assert.are.same({ bn = true, layers = 3, lr = 0.1, opt = "sgd" }, hp["_hparams_/session_start_info"].session_start_info.hparams)
    assert.are.same({
      hparam_infos = {
        { name = "bn", type = "DATA_TYPE_BOOL" }, { name = "layers", type = "DATA_TYPE_FLOAT64" },
        { name = "lr", type = "DATA_TYPE_FLOAT64" }, { name = "opt", type = "DATA_TYPE_STRING" } },
      metric_infos = { { name = { tag = "hp/acc" } } },
    }, hp["_hparams_/experiment"].experiment)
    assert.are.equal("STATUS_SUCCESS", hp["_hparams_/session_end_info"].session_end_info.status)
    assert.are.same({ 0, f32(0.9) }, { r.trial1.scalars["hp/acc"][1].step, r.trial1.scalars["hp/acc"][1].value })
    local e2 = r.trial2.hparams["_hparams_/experiment"].experiment.hparam_infos[1]
    assert.are.same({ 0.01, 0.1 }, e2.domain_discrete)
    assert.are.equal(4, r.trial2.scalars["hp/acc"][1].step)
  end)
end)

describe("wick.tb argument errors", function()
  local ew = wick.tb.SummaryWriter(tmp .. "/errors")
  after_each(function() end)
  it("are raised word for word", function()
    local cases = {
      { "add_scalar: tag must be a string (got number)", ew.add_scalar, ew, 1, 1 },
      { "add_scalar: tag is not valid UTF-8", ew.add_scalar, ew, "\xff", 1 },
      { "add_scalar: tag contains a NUL byte", ew.add_scalar, ew, "a\0b", 1 },
      { "add_scalar: scalar_value must be a number (got nil)", ew.add_scalar, ew, "x" },
      { "add_scalar: scalar_value must be a number or a one-element tensor (got a tensor of 2 elements)", ew.add_scalar, ew, "x", wick.zeros(2) },
      { "add_scalar: global_step must be finite (got nan)", ew.add_scalar, ew, "x", 1, 0 / 0 },
      { "add_scalar: global_step must be finite (got inf)", ew.add_scalar, ew, "x", 1, math.huge },
      { "add_scalar: global_step must be a number (got string)", ew.add_scalar, ew, "x", 1, "1" },
      { "add_scalar: global_step must be >= 0 (got -1)", ew.add_scalar, ew, "x", 1, -1 },
      { "add_scalar: walltime must be a finite number of seconds (got nan)", ew.add_scalar, ew, "x", 1, 0, { walltime = 0 / 0 } },
      { "add_scalar: unknown option 'wall_time' (did you mean 'walltime'?)", ew.add_scalar, ew, "x", 1, 0, { wall_time = 1 } },
      { "add_histogram: the input has no element", ew.add_histogram, ew, "h", {} },
      { "add_histogram: values contain NaN (at index 1)", ew.add_histogram, ew, "h", { 1, 0 / 0 } },
      { "add_histogram: the histogram is empty (no value lies within the bins [0, 1])", ew.add_histogram, ew, "h", { 5 }, 0, { bins = { 0, 1 } } },
      { "add_histogram: bin edges must increase strictly (edge 1 = 1, edge 2 = 1)", ew.add_histogram, ew, "h", { 1 }, 0, { bins = { 0, 1, 1 } } },
      { 'add_histogram: bins "auto" is not supported (use "tensorflow", a number of bins or a table of edges)', ew.add_histogram, ew, "h", { 1 }, 0, { bins = "auto" } },
      { "add_histogram: expected a tensor or a table of numbers (got string)", ew.add_histogram, ew, "h", "1" },
      { "add_histogram: element 2 of the table is not a number (got string)", ew.add_histogram, ew, "h", { 1, "x" } },
      { "add_histogram: max_bins must be a positive integer (got 0)", ew.add_histogram, ew, "h", { 1 }, 0, { max_bins = 0 } },
      { 'add_image: dataformats "CHW" needs a 3-d tensor (got 2-d)', ew.add_image, ew, "i", wick.zeros(2, 2) },
      { 'add_image: dataformats "CXW" is not one of the letters N, C, H, W once each with H and W (e.g. "CHW", "HWC", "HW", "NCHW")', ew.add_image, ew, "i", wick.zeros(1, 2, 2), 0, { dataformats = "CXW" } },
      { "add_image: images need 1, 3 or 4 channels (got 2)", ew.add_image, ew, "i", wick.zeros(2, 2, 2) },
      { "add_images: images need 1 or 3 channels (got 4)", ew.add_images, ew, "i", wick.zeros(1, 4, 2, 2) },
      { "add_image: expected a tensor for img_tensor (got table)", ew.add_image, ew, "i", { 1 } },
      { "add_text: text_string must be a string (got number)", ew.add_text, ew, "t", 3 },
      { "add_text: text_string is not valid UTF-8", ew.add_text, ew, "t", "\xc3" },
      { "add_scalars: the keys of tag_scalar_dict must be strings (got number)", ew.add_scalars, ew, "m", { 1 } },
      { "add_scalars: tag_scalar_dict['a'] must be a number (got string)", ew.add_scalars, ew, "m", { a = "x" } },
      { "add_hparams: hparam 'f' must be a number, string, boolean or tensor (got table)", ew.add_hparams, ew, { f = {} }, {} },
      { "add_hparams: metric_dict must be a table (got nil)", ew.add_hparams, ew, { a = 1 } },
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[1], err(table.unpack(c, 2)))
    end
    ew:close()
    -- nothing but the first record was written by the failed calls
    local files = peer.files(tmp .. "/errors")
    assert.are.equal(1, #peer.records_lua(peer.slurp(files[1])))
  end)
end)
