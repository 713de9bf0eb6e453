-- End to end: the TensorBoard server itself (its Rust data server, the stricter of its two
-- loaders) serves what wick.tb wrote: runs, scalars, histograms, images, text, pr curves, mesh,
-- graph and hparams sessions, asked over HTTP (spec/ref/tb_read.py serve).
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/server_spec%.lua$") or "spec/tb") .. "/peer.lua")

describe("TensorBoard's server", function()
  it("shows every kind of summary wick wrote", function()
    if not peer.have_tb then pending(peer.why); return end
    local d = helpers.tmpdir() .. "/logs"
    local w = wick.tb.SummaryWriter(d)
    for i = 0, 4 do w:add_scalar("loss", 1 / (i + 1), i) end
    w:add_scalar("acc", 0.5, 1, { new_style = true })
    w:add_scalars("lr", { a = 1, b = 2 }, 3)
    w:add_histogram("h", { 0.5, -0.25, 0, 1, 3 }, 1)
    w:add_image("im", wick.rand(3, 4, 5), 1)
    w:add_images("ims", wick.rand(3, 3, 4, 5), 1)
    w:add_text("t", "hello", 2)
    w:add_pr_curve("pr", { 1, 0, 1 }, { 0.9, 0.2, 0.6 }, 1)
    w:add_mesh("m", wick.rand(1, 4, 3), 1, { faces = wick.tensor({ { { 0, 1, 2 } } }) })
    w:add_graph(wick.nn.Sequential(wick.nn.Linear(2, 2), wick.nn.ReLU()), wick.randn(1, 2))
    w:add_hparams({ lr = 0.1, opt = "sgd" }, { acc = 0.75 }, { run_name = "trial" })
    w:close()
    local errf = os.tmpname()
    local out, code = helpers.run(("PYTHONPATH=%q %q %q serve %q 2>%q"):format(peer.pydeps, peer.python,
      peer.script, d, errf))
    local e = peer.slurp(errf)
    os.remove(errf)
    assert.are.equal(0, code, e)
    local s = assert(load(out))()
    table.sort(s.runs)
    assert.are.same({ ".", "lr_a", "lr_b", "trial" }, s.runs)
    local loss = {}
    for i, p in ipairs(s.scalars[".|loss"]) do loss[i] = { p[2], p[3] } end
    assert.are.same({ { 0, 1 }, { 1, 0.5 }, { 2, (string.unpack("f", string.pack("f", 1 / 3))) }, { 3, 0.25 },
      { 4, (string.unpack("f", string.pack("f", 0.2))) } }, loss)
    assert.are.same({ 1, 0.5 }, { s.scalars[".|acc"][1][2], s.scalars[".|acc"][1][3] })
    assert.are.same({ 3, 2 }, { s.scalars["lr_b|lr"][1][2], s.scalars["lr_b|lr"][1][3] })
    local total = 0
    for _, b in ipairs(s.histograms[".|h"][1][3]) do total = total + b[3] end
    assert.are.equal(5, total)
    assert.are.equal(1, s.images["."].im.samples)
    assert.is_not_nil(s.images["."].ims)
    assert.are.same({ "t/text_summary" }, s.text["."])
    assert.is_not_nil(s.pr_curves["."].pr)
    assert.is_not_nil(s.mesh["."])
    assert.are.same({ "." }, s.graph_runs)
    assert.are.same({ { name = "trial", hparams = { lr = 0.1, opt = "sgd" }, metrics = { acc = 0.75 } } }, s.session_groups)
  end)
end)
