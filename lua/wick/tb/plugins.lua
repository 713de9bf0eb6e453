-- SummaryWriter methods of the pr_curves, custom_scalars and mesh plugins (as PyTorch writes
-- them: tensorboard/plugins/{pr_curve,custom_scalar,mesh}) and add_embedding.
local core = require("wick.core")
local check = require("wick.tb.check")
local json = require("wick.tb.json")

local tb = core._tb
local DT_FLOAT, DT_STRING = 1, 7

local function f32(x) return (string.unpack("f", string.pack("f", x))) end

-- PyTorch's compute_curve: bucket = floor(f32(prediction * (T - 1))), weighted TP/FP counts per
-- bucket, reverse cumulative sums; rows TP, FP, TN, FN, precision, recall.
local function compute_curve(op, labels, preds, T, weights)
  local tpb, fpb = {}, {}
  for j = 1, T do tpb[j], fpb[j] = 0, 0 end
  for i = 1, #preds do
    local wi = weights and weights[i] or 1.0
    local b = math.floor(f32(f32(preds[i]) * (T - 1)))
    if b >= 0 and b <= T - 1 then -- np.histogram over [0, T-1]: outside values are not counted
      tpb[b + 1] = tpb[b + 1] + labels[i] * wi
      fpb[b + 1] = fpb[b + 1] + (1.0 - labels[i]) * wi
    end
  end
  local tp, fp = {}, {}
  local st, sf = 0, 0
  for j = T, 1, -1 do
    st, sf = st + tpb[j], sf + fpb[j]
    tp[j], fp[j] = st, sf
  end
  local rows = { {}, {}, {}, {}, {}, {} }
  for j = 1, T do
    local tn, fn = fp[1] - fp[j], tp[1] - tp[j]
    rows[1][j], rows[2][j], rows[3][j], rows[4][j] = tp[j], fp[j], tn, fn
    rows[5][j] = tp[j] / math.max(1e-7, tp[j] + fp[j])
    rows[6][j] = tp[j] / math.max(1e-7, tp[j] + fn)
  end
  local flat = {}
  for r = 1, 6 do for j = 1, T do flat[#flat + 1] = rows[r][j] end end
  return flat
end

local function values(op, x, what)
  if not core.is_tensor(x) and type(x) ~= "table" then
    error(("%s: %s must be a tensor or a table of numbers (got %s)"):format(op, what, type(x)), 0)
  end
  return tb.values(op, x)
end

-- A Lua table {category = {title = {"Multiline", {tags}} | {"Margin", {value, lower, upper}}}}
-- as a tensorboard Layout (keys sorted: Lua tables have no order).
local function layout_proto(op, layout)
  local cats = {}
  for _, cat in ipairs(check.sorted_keys(op, layout, "layout")) do
    local charts = {}
    local v = layout[cat]
    for _, title in ipairs(check.sorted_keys(op, v, "layout['" .. cat .. "']")) do
      local c = v[title]
      local where = ("layout['%s']['%s']"):format(cat, title)
      if type(c) ~= "table" or (c[1] ~= "Multiline" and c[1] ~= "Margin") or type(c[2]) ~= "table" then
        error(("%s: %s must be {\"Multiline\", {tags}} or {\"Margin\", {value, lower, upper}}"):format(op, where), 0)
      end
      local tags = c[2]
      for i, t in ipairs(tags) do check.tag(op, t, where .. " tag " .. i) end
      local content
      if c[1] == "Margin" then
        if #tags ~= 3 then error(("%s: %s: a Margin chart needs exactly 3 tags (got %d)"):format(op, where, #tags), 0) end
        content = { 3, "msg", { { 1, "msg", { { 1, "bytes", tags[1] }, { 2, "bytes", tags[2] }, { 3, "bytes", tags[3] } } } } }
      else
        local t = {}
        for i, tag in ipairs(tags) do t[i] = { 1, "bytes", tag } end
        content = { 2, "msg", t }
      end
      charts[#charts + 1] = { 2, "msg", { { 1, "bytes", title }, content } }
    end
    local cm = { { 1, "bytes", cat } }
    for _, ch in ipairs(charts) do cm[#cm + 1] = ch end
    cats[#cats + 1] = { 2, "msg", cm }
  end
  return tb.encode(cats)
end

return function(SummaryWriter)
  local function common(op, step, opts, allowed)
    opts = check.options(op, opts, allowed)
    return check.step(op, step), check.walltime(op, opts.walltime), opts
  end

  -- add_pr_curve(tag, labels, predictions, global_step, {num_thresholds = 127, weights, walltime}):
  -- a [6, T] float tensor with plugin pr_curves; T is capped at 127 like PyTorch's.
  function SummaryWriter:add_pr_curve(tag, labels, predictions, step, opts)
    local op = "add_pr_curve"
    check.tag(op, tag)
    local wt
    step, wt, opts = common(op, step, opts, { "num_thresholds", "weights", "walltime" })
    local T = opts.num_thresholds or 127
    if math.type(T) ~= "integer" or T < 2 then
      error(op .. ": num_thresholds must be an integer >= 2 (got " .. tostring(T) .. ")", 0)
    end
    T = math.min(T, 127)
    local l, p = values(op, labels, "labels"), values(op, predictions, "predictions")
    if #l ~= #p then error(("%s: labels and predictions differ in size (%d != %d)"):format(op, #l, #p), 0) end
    local w = opts.weights ~= nil and values(op, opts.weights, "weights") or nil
    if w and #w ~= #p then error(("%s: weights and predictions differ in size (%d != %d)"):format(op, #w, #p), 0) end
    local data = compute_curve(op, l, p, T, w)
    local content = tb.encode({ { 2, "int", T } }) -- PrCurvePluginData{version 0, num_thresholds}
    self:_write(tb.tensor(tag, { dtype = DT_FLOAT, shape = { 6, T }, values = data }, "pr_curves", content), step, wt)
  end

  -- add_custom_scalars(layout): the custom scalars dashboard's layout (once per writer).
  function SummaryWriter:add_custom_scalars(layout)
    local bytes = layout_proto("add_custom_scalars", layout)
    self:_write(tb.tensor("custom_scalars__config__", { dtype = DT_STRING, shape = {}, values = { bytes } },
      "custom_scalars"), 0, tb.now())
  end

  function SummaryWriter:add_custom_scalars_multilinechart(tags, opts)
    opts = check.options("add_custom_scalars_multilinechart", opts, { "category", "title" })
    self:add_custom_scalars({ [opts.category or "default"] = { [opts.title or "untitled"] = { "Multiline", tags } } })
  end

  function SummaryWriter:add_custom_scalars_marginchart(tags, opts)
    opts = check.options("add_custom_scalars_marginchart", opts, { "category", "title" })
    self:add_custom_scalars({ [opts.category or "default"] = { [opts.title or "untitled"] = { "Margin", tags } } })
  end

  -- add_mesh(tag, vertices, global_step, {colors, faces, config_dict, walltime}): [B, N, 3]
  -- tensors as <tag>_VERTEX, <tag>_FACE, <tag>_COLOR with plugin mesh, at one step. PyTorch's
  -- keyword form also works: add_mesh(tag, {vertices = v, colors = c, faces = f, global_step = 2})
  -- or add_mesh(tag, v, {colors = c, global_step = 2}).
  function SummaryWriter:add_mesh(tag, vertices, step, opts)
    local op = "add_mesh"
    check.tag(op, tag)
    if type(vertices) == "table" and step == nil and opts == nil then -- add_mesh(tag, {vertices = ...})
      local kw = vertices
      vertices, opts = kw.vertices, {}
      for k, v in pairs(kw) do if k ~= "vertices" then opts[k] = v end end
    end
    if type(step) == "table" and opts == nil then step, opts = nil, step end -- add_mesh(tag, v, {...})
    if opts and opts.global_step ~= nil then
      if step ~= nil then error(op .. ": give global_step as an argument or an option, not both", 0) end
      step = opts.global_step
      local rest = {}
      for k, v in pairs(opts) do if k ~= "global_step" then rest[k] = v end end
      opts = rest
    end
    local wt
    step, wt, opts = common(op, step, opts, { "colors", "faces", "config_dict", "walltime" })
    local parts = { { vertices, 1, "VERTEX", "vertices" }, { opts.faces, 2, "FACE", "faces" }, { opts.colors, 3, "COLOR", "colors" } }
    local present, components = {}, 0
    for _, part in ipairs(parts) do
      local t = part[1]
      if t ~= nil then
        if not core.is_tensor(t) then error(("%s: %s must be a tensor (got %s)"):format(op, part[4], type(t)), 0) end
        local s = t.shape
        if #s ~= 3 or s[3] ~= 3 then
          error(("%s: %s must have shape [B, N, 3] (got [%s])"):format(op, part[4], table.concat(s, ", ")), 0)
        end
        present[#present + 1] = part
        components = components | (1 << part[2])
      elseif part[2] == 1 then
        error(op .. ": vertices must be a tensor (got nil)", 0)
      end
    end
    local cfg = opts.config_dict == nil and "{}" or json.encode(op, opts.config_dict)
    local vals = {}
    for _, part in ipairs(present) do
      local s = part[1].shape
      -- MeshPluginData{version 0, name, content_type, json_config, shape, components}
      local content = tb.encode({ { 2, "bytes", tag }, { 3, "int", part[2] }, { 5, "bytes", cfg },
        { 6, "packed_int", s }, { 7, "int", components } })
      vals[#vals + 1] = tb.tensor(tag .. "_" .. part[3], { dtype = DT_FLOAT, shape = s, values = part[1] }, "mesh", content)
    end
    self:_write(table.concat(vals), step, wt)
  end

  require("wick.tb.embedding")(SummaryWriter)
end
