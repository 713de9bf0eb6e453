-- wick.tb's pr_curves, custom_scalars and mesh summaries and add_embedding's projector files, as
-- TensorBoard's reader (and its projector config parser) sees them; pr curves equal PyTorch's.
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/plugins_spec%.lua$") or "spec/tb") .. "/peer.lua")

local tmp = helpers.tmpdir()
local err = require("helpers").err
local function f32(x) return (string.unpack("f", string.pack("f", x))) end
local function close_to(a, b, what)
  assert.are.equal(#a, #b, what)
  for i = 1, #a do assert.is_true(math.abs(a[i] - b[i]) <= 1e-6 * math.max(1, math.abs(a[i])), what .. " at " .. i) end
end

local d = tmp .. "/logs"
local w = wick.tb.SummaryWriter(d)
local labels = { 1, 0, 1, 1, 0, 0, 1, 0, 1, 1 }
local preds = { 0.9, 0.1, 0.6, 0.4, 0.3, 0.55, 0.99, 0.0, 1.0, 0.5 }
local weights = { 1, 2, 1, 0.5, 1, 1, 3, 1, 1, 1 }
w:add_pr_curve("pr/default", wick.tensor(labels), wick.tensor(preds), 3)
w:add_pr_curve("pr/small", labels, preds, 4, { num_thresholds = 7, weights = weights })
w:add_custom_scalars({ Losses = { ["train v val"] = { "Multiline", { "loss/train", "loss/val" } },
                                  band = { "Margin", { "m", "m_lo", "m_hi" } } } })
local verts = wick.tensor({ { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0.5, 0.25, 1 } } })
local faces = wick.tensor({ { { 0, 1, 2 }, { 1, 2, 3 } } }, { dtype = "i32" })
local colors = wick.tensor({ { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 9, 9, 9 } } }, { dtype = "u8" })
w:add_mesh("mesh", verts, 2, { faces = faces, colors = colors, config_dict = { camera = { fov = 75 }, lights = { 1, 2 } } })
w:add_mesh("cloud", verts, 2)
-- PyTorch's keyword forms, as a direct port writes them
w:add_mesh("kw", { vertices = verts, colors = colors, faces = faces, global_step = 3 })
w:add_mesh("kw2", verts, { colors = colors, global_step = 4.0 })
local mat = wick.tensor({ { 1.5, -2 }, { 0.1, 3 }, { 4, 5 }, { 6, 7 }, { 8, 9 } })
local lab = wick.arange(5):float():reshape(5, 1, 1, 1) * 0.2 -- 1-channel 1x1 label images
w:add_embedding(mat, { metadata = { "a", "b", "c", "d", "e" }, label_img = lab, global_step = 2, tag = "my emb/1" })
w:add_embedding(mat, { metadata = { { "a", 1 }, { "b", 2 }, { "c", 3 }, { "d", 4 }, { "e", 5 } },
                       metadata_header = { "name", "id" } })
w:add_embedding { mat = mat, metadata = { "a", "b", "c", "d", "e" }, global_step = 5, tag = "kw" }
w:add_embedding(mat, { "v", "w", "x", "y", "z" }, nil, 6, "pos")
local nn = wick.nn
w:add_graph(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), wick.randn(5, 4))
w:close()
local got
local function read()
  if not peer.have_tb then pending(peer.why); return nil end
  if not got then peer.want("read", d, function(r) got = r["."] end); peer.run_wanted() end
  return got
end

describe("wick.tb plugins read by TensorBoard", function()
  it("add_pr_curve: a [6, T] tensor (T capped at 127) equal to torch.utils.tensorboard's", function()
    local r = read(); if not r then return end
    local t = r.tensors["pr/default"][1]
    assert.are.same({ 3, { 6, 127 } }, { t.step, t.shape })
    assert.are.same({ num_thresholds = 127 }, r.pr_curves["pr/default"])
    local s = r.tensors["pr/small"][1]
    assert.are.same({ 4, { 6, 7 } }, { s.step, s.shape })
    -- weighted TP by hand: all positives (7.5); p >= 2/6 (7.5); p >= 6/6 (only the 1.0: 1)
    assert.are.same({ 7.5, 7.5, 1 }, { s.values[1], s.values[3], s.values[7] })
    if not peer.have_torch_tb() then pending("torch.utils.tensorboard not importable by " .. peer.torch_python); return end
    local csv = function(t) local o = {} for i, x in ipairs(t) do o[i] = tostring(x) end return table.concat(o, ",") end
    local function torch(T, wts)
      local out = helpers.run(("PYTHONPATH=%q %q %q torch_pr %s %s %d %s 2>/dev/null"):format(peer.pydeps,
        peer.torch_python, peer.script, csv(labels), csv(preds), T, wts and csv(wts) or ""))
      return assert(load(out))()
    end
    local td, ts = torch(127), torch(7, weights)
    assert.are.same({ 6, 127 }, td.shape)
    close_to(td.values, t.values, "pr/default")
    close_to(ts.values, s.values, "pr/small")
  end)

  it("add_custom_scalars: the layout under custom_scalars__config__", function()
    local r = read(); if not r then return end
    assert.are.equal("custom_scalars", r.plugins["custom_scalars__config__"].plugin)
    assert.are.same({ category = { { title = "Losses", chart = {
      { title = "band", margin = { series = { { value = "m", lower = "m_lo", upper = "m_hi" } } } },
      { title = "train v val", multiline = { tag = { "loss/train", "loss/val" } } } } } } }, r.layout)
  end)

  it("add_mesh: <tag>_VERTEX/_FACE/_COLOR tensors with their MeshPluginData", function()
    local r = read(); if not r then return end
    local m = r.mesh
    local cfg = '{"camera": {"fov": 75}, "lights": [1, 2]}'
    assert.are.same({ name = "mesh", content_type = "VERTEX", json_config = cfg, shape = { 1, 4, 3 }, components = 14 }, m.mesh_VERTEX)
    assert.are.same({ name = "mesh", content_type = "FACE", json_config = cfg, shape = { 1, 2, 3 }, components = 14 }, m.mesh_FACE)
    assert.are.same({ name = "mesh", content_type = "COLOR", json_config = cfg, shape = { 1, 4, 3 }, components = 14 }, m.mesh_COLOR)
    assert.are.same({ name = "cloud", content_type = "VERTEX", json_config = "{}", shape = { 1, 4, 3 }, components = 2 }, m.cloud_VERTEX)
    assert.are.same({ 0, 0, 0, 1, 0, 0, 0, 1, 0, 0.5, 0.25, 1 }, r.tensors.mesh_VERTEX[1].values)
    assert.are.same({ 0, 1, 2, 1, 2, 3 }, r.tensors.mesh_FACE[1].values)
    assert.are.same({ 255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9 }, r.tensors.mesh_COLOR[1].values)
    assert.are.equal(2, r.tensors.mesh_COLOR[1].step)
    -- the keyword forms write the same tensors, at the global_step given among the keywords
    assert.are.same({ name = "kw", content_type = "FACE", json_config = "{}", shape = { 1, 2, 3 }, components = 14 }, m.kw_FACE)
    assert.are.same({ r.tensors.mesh_COLOR[1].values, 3 }, { r.tensors.kw_COLOR[1].values, r.tensors.kw_COLOR[1].step })
    assert.are.same({ name = "kw2", content_type = "COLOR", json_config = "{}", shape = { 1, 4, 3 }, components = 10 }, m.kw2_COLOR)
    assert.are.same({ r.tensors.mesh_VERTEX[1].values, 4 }, { r.tensors.kw2_VERTEX[1].values, r.tensors.kw2_VERTEX[1].step })
  end)

  it("add_embedding: tensors.tsv, metadata.tsv, sprite.png and projector_config.pbtxt", function()
    local r = read(); if not r then return end
    local p = r.projector
    assert.are.equal(4, #p)
    -- add_embedding{mat = ..., ...} and add_embedding(mat, metadata, label_img, global_step, tag)
    assert.are.same({ "kw:00005", { "a", "b", "c", "d", "e", "" }, p[1].values },
      { p[3].tensor_name, p[3].metadata, p[3].values })
    assert.are.same({ "pos:00006", { "v", "w", "x", "y", "z", "" } }, { p[4].tensor_name, p[4].metadata })
    assert.are.same({ "my emb/1:00002", "00002/my%20emb%2F1/tensors.tsv", "00002/my%20emb%2F1/metadata.tsv",
      { image_path = "00002/my%20emb%2F1/sprite.png", single_image_dim = { 1, 1 } } },
      { p[1].tensor_name, p[1].tensor_path, p[1].metadata_path, p[1].sprite })
    assert.are.same({ 5, 2 }, p[1].shape)
    assert.are.same({ 1.5, -2, f32(0.1), 3, 4, 5, 6, 7, 8, 9 }, p[1].values)
    assert.are.same({ "a", "b", "c", "d", "e", "" }, p[1].metadata)
    -- 5 images, ceil(sqrt(5)) = 3 per row, on a 3x3 black square canvas
    assert.are.same({ 3, 3 }, p[1].sprite_size)
    local want = { 0, 51, 102, 153, 204, 0, 0, 0, 0 }
    for i, v in ipairs(want) do
      local px = p[1].sprite_pixels[i]
      assert.is_true(math.abs(px[1] - v) <= 1 and px[1] == px[2] and px[2] == px[3], "sprite pixel " .. i)
    end
    assert.are.same({ "default:00000", "00000/default/tensors.tsv" }, { p[2].tensor_name, p[2].tensor_path })
    assert.are.same({ "name\tid", "a\t1", "b\t2", "c\t3", "d\t4", "e\t5", "" }, p[2].metadata)
  end)
end)

describe("wick.tb add_graph read by TensorBoard", function()
  it("writes the autograd graph with module scopes, parameters, IO nodes and shapes", function()
    local r = read(); if not r then return end
    local g = r.graph
    assert.are.equal(22, g.versions)
    local got = {}
    for i, n in ipairs(g.nodes) do got[i] = { n.name, n.op, n.input, n.shapes } end
    assert.are.same({
      { "input/input.1", "IO Node", {}, { { 5, 4 } } },
      { "Sequential/Linear[0]/weight", "Parameter", {}, { { 3, 4 } } },
      { "Sequential/Linear[0]/bias", "Parameter", {}, { { 3 } } },
      { "Sequential/Linear[2]/weight", "Parameter", {}, { { 2, 3 } } },
      { "Sequential/Linear[2]/bias", "Parameter", {}, { { 2 } } },
      { "Sequential/Linear[0]/Add_1", "Add", { "Sequential/Linear[0]/Mm_2", "Sequential/Linear[0]/bias" }, { { 5, 3 } } },
      { "Sequential/Linear[0]/Mm_2", "Mm", { "input/input.1", "Sequential/Linear[0]/Transpose_3" }, {} },
      { "Sequential/Linear[0]/Transpose_3", "Transpose", { "Sequential/Linear[0]/weight" }, {} },
      { "Sequential/ReLU[1]/Relu_4", "Relu", { "Sequential/Linear[0]/Add_1" }, { { 5, 3 } } },
      { "Sequential/Linear[2]/Add_5", "Add", { "Sequential/Linear[2]/Mm_6", "Sequential/Linear[2]/bias" }, { { 5, 2 } } },
      { "Sequential/Linear[2]/Mm_6", "Mm", { "Sequential/ReLU[1]/Relu_4", "Sequential/Linear[2]/Transpose_7" }, {} },
      { "Sequential/Linear[2]/Transpose_7", "Transpose", { "Sequential/Linear[2]/weight" }, {} },
      { "output/output.1", "IO Node", { "Sequential/Linear[2]/Add_5" }, { { 5, 2 } } },
    }, got)
  end)
end)

describe("wick.tb plugin argument errors", function()
  it("are raised word for word", function()
    local ew = wick.tb.SummaryWriter(tmp .. "/errors")
    local cases = {
      { "add_pr_curve: labels and predictions differ in size (2 != 3)", ew.add_pr_curve, ew, "p", { 1, 0 }, { 0.1, 0.2, 0.3 } },
      { "add_pr_curve: num_thresholds must be an integer >= 2 (got 1)", ew.add_pr_curve, ew, "p", { 1 }, { 0.1 }, 0, { num_thresholds = 1 } },
      { "add_pr_curve: predictions must be a tensor or a table of numbers (got string)", ew.add_pr_curve, ew, "p", { 1 }, "x" },
      { "add_custom_scalars: layout['c']['t']: a Margin chart needs exactly 3 tags (got 2)", ew.add_custom_scalars, ew, { c = { t = { "Margin", { "a", "b" } } } } },
      { 'add_custom_scalars: layout[\'c\'][\'t\'] must be {"Multiline", {tags}} or {"Margin", {value, lower, upper}}', ew.add_custom_scalars, ew, { c = { t = { "Lines", { "a" } } } } },
      { "add_mesh: vertices must have shape [B, N, 3] (got [4, 3])", ew.add_mesh, ew, "m", wick.zeros(4, 3) },
      { "add_mesh: vertices must be a tensor (got nil)", ew.add_mesh, ew, "m", nil },
      { "add_mesh: unknown option 'color' (did you mean 'colors'?)", ew.add_mesh, ew, "m", wick.zeros(1, 4, 3), 0, { color = 1 } },
      { "add_embedding: mat must be a 2-D tensor [N, D] (the number of points, then their dimension)", ew.add_embedding, ew, wick.zeros(3) },
      { "add_embedding: metadata must be a table of 2 labels, one per point (got 1)", ew.add_embedding, ew, wick.zeros(2, 2), { metadata = { "a" } } },
      { "add_graph: model must be an nn.Module (got string)", ew.add_graph, ew, "m", wick.zeros(1) },
      { "add_graph: input_to_model must be a tensor or a table of tensors", ew.add_graph, ew, wick.nn.ReLU(), nil },
      { "add_graph: the model's forward failed: matmul: shapes [2, 3] and [4, 2] cannot be multiplied (3 != 4)", ew.add_graph, ew, wick.nn.Linear(4, 2), wick.zeros(2, 3) },
      { "add_embedding: label_img must be a [N, C, H, W] tensor with N = 2", ew.add_embedding, ew, wick.zeros(2, 2), { label_img = wick.zeros(3, 1, 2, 2) } },
    }
    for _, c in ipairs(cases) do assert.are.equal(c[1], err(table.unpack(c, 2))) end
    ew:close()
  end)
end)
