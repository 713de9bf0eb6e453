-- Module:summary(input_size | tensor, {dtype, depth, print = true}): one forward pass (eval
-- mode, no_grad, zeros as input) records each layer's output shape; returns and prints a
-- torchinfo-like table of layers, output shapes, parameter counts, trainable vs frozen totals.
-- depth = d shows modules d levels down, each at the limit with its children's parameters.
local wick = require("wick")

local M = {}

local function shape_str(v)
  if wick.is_tensor(v) then return "[" .. table.concat(v.shape, ", ") .. "]" end
  if type(v) == "table" and wick.is_tensor(v[1]) then return shape_str(v[1]) .. ", ..." end
  return "--"
end

local function commas(n)
  local s = tostring(n)
  while true do
    local r, k = s:gsub("^(-?%d+)(%d%d%d)", "%1,%2")
    s = r
    if k == 0 then return s end
  end
end

local function pad(s, w) return s .. string.rep(" ", math.max(w - #s, 1)) end

local function render(t)
  local w1, w2, w3 = 40, 24, 12
  for _, r in ipairs(t.rows) do w1 = math.max(w1, #r.label + 2) end
  local width = w1 + w2 + w3 + 9
  local out = { string.rep("-", width), pad("Layer (type)", w1) .. pad("Output Shape", w2) .. pad("Param #", w3) .. "Trainable",
                string.rep("=", width) }
  for _, r in ipairs(t.rows) do
    local trainable = r.params == 0 and "--" or (r.trainable == r.params and "yes" or r.trainable == 0 and "no" or "partial")
    out[#out + 1] = pad(r.label, w1) .. pad(r.output_shape, w2) .. pad(r.params == 0 and "--" or commas(r.params), w3) .. trainable
  end
  out[#out + 1] = string.rep("=", width)
  out[#out + 1] = "Total params: " .. commas(t.total_params)
  out[#out + 1] = "Trainable params: " .. commas(t.trainable_params)
  out[#out + 1] = "Frozen params: " .. commas(t.frozen_params)
  out[#out + 1] = string.rep("-", width)
  return table.concat(out, "\n")
end

local Summary = { __tostring = render, __name = "nn.Summary" }

function M.summary(self, input, opts)
  if type(input) == "table" and not wick.is_tensor(input) and input[1] == nil and opts == nil then
    input, opts = nil, input
  end
  opts = require("wick.nn.util").options("summary", opts, { "dtype", "device", "depth", "print" })
  local mods = self:named_modules()
  local shapes, hooks = {}, {}
  if input ~= nil then
    if not wick.is_tensor(input) then
      local p = self:parameters()[1]
      input = wick.zeros(input, { dtype = opts.dtype or (p and p.dtype) or "f32", device = opts.device })
    end
    local modes = {}
    for _, item in ipairs(mods) do
      local m = item[2]
      modes[m] = m.training
      hooks[#hooks + 1] = m:register_forward_hook(function(_, _, out) shapes[m] = shapes[m] or shape_str(out) end)
    end
    self:eval()
    local ok, err = pcall(wick.no_grad, function() return self(input) end)
    for _, h in ipairs(hooks) do h.remove() end
    for m, mode in pairs(modes) do m.training = mode end
    if not ok then error("summary: forward failed: " .. tostring(err), 0) end
  end
  local t = setmetatable({ rows = {}, total_params = 0, trainable_params = 0, frozen_params = 0,
                           input_shape = input and input.shape }, Summary)
  for _, item in ipairs(mods) do
    local name, m = item[1], item[2]
    local depth = name == "" and 0 or select(2, name:gsub("%.", "")) + 1
    local limit = opts.depth or math.huge
    if depth <= limit then
      -- a row whose children are not shown (at the depth limit) counts their parameters too,
      -- as torchinfo does; with its children shown, only its own
      local params, trainable = 0, 0
      for _, p in ipairs(m:_named("params", depth == limit)) do
        params = params + p[2]:numel()
        if p[2].requires_grad then trainable = trainable + p[2]:numel() end
      end
      local label = string.rep("  ", depth) .. (name == "" and m:type_name() or (name .. " (" .. m:type_name() .. ")"))
      t.rows[#t.rows + 1] = { name = name, type = m:type_name(), depth = depth, label = label,
                              output_shape = shapes[m] or "--", params = params, trainable = trainable }
    end
  end
  for p in self:parameters() do
    t.total_params = t.total_params + p:numel()
    if p.requires_grad then t.trainable_params = t.trainable_params + p:numel() end
  end
  t.frozen_params = t.total_params - t.trainable_params
  t.output_shape = shapes[self]
  if opts.print ~= false then print(render(t)) end
  return t
end

return function(Module) Module.summary = M.summary end
