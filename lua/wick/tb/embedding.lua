-- SummaryWriter:add_embedding: files for TensorBoard's projector (tensors.tsv, metadata.tsv,
-- sprite.png under <log_dir>/<step %05d>/<tag>, and projector_config.pbtxt), as PyTorch writes.
local core = require("wick.core")
local check = require("wick.tb.check")

local tb = core._tb

local function write_file(op, path, bytes)
  local f, e = io.open(path, "wb")
  if not f then error(op .. ": " .. e, 0) end
  f:write(bytes)
  f:close()
end

-- urllib.parse.quote(s, safe=""): what PyTorch names the tag's directory
local function quote(s)
  return (s:gsub("[^%w_%.%-~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function pbtxt_string(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

return function(SummaryWriter)
  -- add_embedding(mat, {metadata, label_img, global_step = 0, tag = "default", metadata_header}),
  -- also in PyTorch's other forms: all keywords, add_embedding{mat = m, metadata = labels, ...},
  -- and positional, add_embedding(mat, metadata, label_img, global_step, tag, metadata_header).
  local POSITIONAL = { "metadata", "label_img", "global_step", "tag", "metadata_header" }
  function SummaryWriter:add_embedding(mat, opts, ...)
    local op = "add_embedding"
    if type(mat) == "table" and opts == nil then -- add_embedding{mat = ..., ...}
      opts = {}
      for k, v in pairs(mat) do if k ~= "mat" then opts[k] = v end end
      mat = mat.mat
    elseif select("#", ...) > 0 or (type(opts) == "table" and opts[1] ~= nil) then -- positional
      local args = { opts, ... }
      opts = {}
      for i, name in ipairs(POSITIONAL) do opts[name] = args[i] end
    end
    opts = check.options(op, opts, { "metadata", "label_img", "global_step", "tag", "metadata_header" })
    if not core.is_tensor(mat) or #mat.shape ~= 2 then
      error(op .. ": mat must be a 2-D tensor [N, D] (the number of points, then their dimension)", 0)
    end
    local n, dim = mat.shape[1], mat.shape[2]
    local step = check.step(op, opts.global_step)
    local tag = check.tag(op, opts.tag or "default")
    local meta, header, img = opts.metadata, opts.metadata_header, opts.label_img
    local meta_lines
    if meta ~= nil then
      if type(meta) ~= "table" or #meta ~= n then
        error(("%s: metadata must be a table of %d labels, one per point (got %s)"):format(op, n,
          type(meta) == "table" and #meta or type(meta)), 0)
      end
      meta_lines = {}
      if header ~= nil then
        if type(header) ~= "table" then error(op .. ": metadata_header must be a table of column names", 0) end
        meta_lines[1] = table.concat(header, "\t")
        for i, row in ipairs(meta) do
          if type(row) ~= "table" or #row ~= #header then
            error(("%s: metadata row %d must have %d columns like metadata_header"):format(op, i, #header), 0)
          end
          local cells = {}
          for j, c in ipairs(row) do cells[j] = tostring(c) end
          meta_lines[#meta_lines + 1] = table.concat(cells, "\t")
        end
      else
        for i, x in ipairs(meta) do meta_lines[i] = tostring(x) end
      end
    end
    if img ~= nil and (not core.is_tensor(img) or #img.shape ~= 4 or img.shape[1] ~= n) then
      error(("%s: label_img must be a [N, C, H, W] tensor with N = %d"):format(op, n), 0)
    end
    local values = tb.values(op, mat)
    local sprite
    if img ~= nil then sprite = tb.png(op, img, "NCHW", math.ceil(math.sqrt(n)), true) end
    if not self._active then return end
    self:_file_writer() -- the projector only looks in runs that hold an event file
    local subdir = ("%05d/%s"):format(step, quote(tag))
    local dir = self.log_dir .. "/" .. subdir
    tb.mkdirs(dir)
    local rows = {}
    for i = 0, n - 1 do
      local cells = {}
      for j = 1, dim do cells[j] = ("%.9g"):format(values[i * dim + j]) end
      rows[#rows + 1] = table.concat(cells, "\t") .. "\n"
    end
    write_file(op, dir .. "/tensors.tsv", table.concat(rows))
    if meta_lines then write_file(op, dir .. "/metadata.tsv", table.concat(meta_lines, "\n") .. "\n") end
    if sprite then write_file(op, dir .. "/sprite.png", sprite) end
    local e = { "embeddings {", "  tensor_name: " .. pbtxt_string(("%s:%05d"):format(tag, step)),
      "  tensor_path: " .. pbtxt_string(subdir .. "/tensors.tsv") }
    if meta_lines then e[#e + 1] = "  metadata_path: " .. pbtxt_string(subdir .. "/metadata.tsv") end
    if sprite then
      e[#e + 1] = "  sprite {"
      e[#e + 1] = "    image_path: " .. pbtxt_string(subdir .. "/sprite.png")
      e[#e + 1] = "    single_image_dim: " .. img.shape[4]
      e[#e + 1] = "    single_image_dim: " .. img.shape[3]
      e[#e + 1] = "  }"
    end
    e[#e + 1] = "}"
    self._embeddings = self._embeddings or {}
    self._embeddings[#self._embeddings + 1] = table.concat(e, "\n") .. "\n"
    -- rewritten whole with every embedding so far, as PyTorch does
    write_file(op, self.log_dir .. "/projector_config.pbtxt", table.concat(self._embeddings))
  end
end
