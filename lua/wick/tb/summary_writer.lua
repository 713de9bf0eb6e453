-- wick.tb.SummaryWriter: torch.utils.tensorboard.SummaryWriter's API over C event files. Method
-- names and argument order are PyTorch's; optional keyword arguments go in a trailing table.
local core = require("wick.core")
local class = require("wick.class")
local check = require("wick.tb.check")

local tb = core._tb
local SummaryWriter = class("SummaryWriter")

-- Only rank 0 writes: the rank comes from wick.dist when it is initialised, else from $RANK.
local function rank()
  local dist = package.loaded["wick.dist"]
  if type(dist) == "table" and dist.is_initialized and dist.is_initialized() then return dist.get_rank() end
  local r = os.getenv("RANK")
  return r and tonumber(r) or 0
end

-- SummaryWriter(log_dir, {comment, purge_step, max_queue = 10, flush_secs = 120, filename_suffix,
-- all_ranks = false})
function SummaryWriter:__init(log_dir, opts)
  local op = "SummaryWriter"
  if type(log_dir) == "table" and opts == nil then log_dir, opts = nil, log_dir end
  opts = check.options(op, opts, { "comment", "purge_step", "max_queue", "flush_secs", "filename_suffix",
    "all_ranks" })
  local comment = opts.comment or ""
  if type(comment) ~= "string" then error(op .. ": comment must be a string (got " .. type(comment) .. ")", 0) end
  if log_dir == nil then -- PyTorch: runs/<%b%d_%H-%M-%S>_<host><comment>
    log_dir = "runs/" .. os.date("%b%d_%H-%M-%S") .. "_" .. tb.hostname() .. comment
  elseif type(log_dir) ~= "string" or log_dir == "" then
    error(op .. ": log_dir must be a non-empty string (got " .. (type(log_dir) == "string" and '""' or type(log_dir)) .. ")", 0)
  end
  local mq, fs = opts.max_queue or 10, opts.flush_secs or 120
  if math.type(mq) ~= "integer" or mq < 1 then error(op .. ": max_queue must be a positive integer (got " .. tostring(mq) .. ")", 0) end
  if type(fs) ~= "number" or not (fs > 0) or fs == math.huge then
    error(op .. ": flush_secs must be a positive number (got " .. tostring(fs) .. ")", 0)
  end
  local suffix = opts.filename_suffix or ""
  if type(suffix) ~= "string" or suffix:find("/", 1, true) then
    error(op .. ": filename_suffix must be a string without '/' (got " .. tostring(suffix) .. ")", 0)
  end
  if opts.all_ranks ~= nil and type(opts.all_ranks) ~= "boolean" then
    error(op .. ": all_ranks must be a boolean (got " .. type(opts.all_ranks) .. ")", 0)
  end
  -- all_ranks: every rank writes, each into its own sub-directory <log_dir>/rank<k>
  local r = rank()
  if opts.all_ranks then log_dir = log_dir .. "/rank" .. r end
  self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix = log_dir, mq, fs, suffix
  self.purge_step = opts.purge_step ~= nil and check.step(op, opts.purge_step) or nil
  self._active = opts.all_ranks or r == 0
  self._children = {} -- add_scalars' sub-runs: directory -> FileWriter
  self._child_dirs = {}
  if self._active then self:_file_writer() end
end

-- The main FileWriter; after close() the next add_* opens a new file in the same directory,
-- as PyTorch does.
function SummaryWriter:_file_writer()
  local fw = self._fw
  if fw and not fw:closed() then return fw end
  local now = tb.now()
  fw = tb.open(self.log_dir, self.filename_suffix, self.max_queue, self.flush_secs, now)
  self._fw = fw
  if self.purge_step then -- file_version + START at purge_step: readers drop steps >= it
    fw:add_event_bytes(3, "brain.Event:2", self.purge_step, now)
    fw:add_session_log(1, self.purge_step, now)
    self.purge_step = nil
  end
  return fw
end

function SummaryWriter:get_logdir() return self.log_dir end

-- Writes one Event{summary{values}} to the main run (a no-op on ranks other than 0).
function SummaryWriter:_write(values, step, walltime)
  if self._active then self:_file_writer():add_summary(values, step, walltime) end
end

local function common(op, step, opts, allowed)
  opts = check.options(op, opts, allowed or { "walltime" })
  return check.step(op, step), check.walltime(op, opts.walltime), opts
end

-- add_scalar(tag, scalar_value, global_step, {walltime, new_style})
function SummaryWriter:add_scalar(tag, value, step, opts)
  -- the common call (string tag, Lua number, integer step) is checked and written in C; the
  -- rest (options, tensors, bad arguments, a writer to reopen) takes the checks below
  local fw = self._fw
  if opts == nil and fw and self._active and fw:add_scalar(tag, value, step) then return end
  local op = "add_scalar"
  check.tag(op, tag)
  value = check.number(op, value, "scalar_value")
  local wt
  step, wt, opts = common(op, step, opts, { "walltime", "new_style" })
  local bytes
  if opts.new_style then -- rank-0 DT_FLOAT tensor with plugin "scalars"
    bytes = tb.tensor(tag, { dtype = 1, shape = {}, values = { value } }, "scalars", "", 1)
  else
    bytes = tb.scalar(tag, value)
  end
  self:_write(bytes, step, wt)
end

-- add_scalars(main_tag, tag_scalar_dict, global_step, {walltime}): one sub-run per key, in
-- <log_dir>/<main_tag with '/' -> '_'>_<key>, each with tag main_tag (PyTorch's layout).
function SummaryWriter:add_scalars(main_tag, dict, step, opts)
  local op = "add_scalars"
  check.tag(op, main_tag, "main_tag")
  local keys = check.sorted_keys(op, dict, "tag_scalar_dict")
  local values = {}
  for i, k in ipairs(keys) do values[i] = check.number(op, dict[k], "tag_scalar_dict['" .. k .. "']") end
  local wt
  step, wt = common(op, step, opts)
  if not self._active then return end
  for i, k in ipairs(keys) do
    local dir = self.log_dir .. "/" .. main_tag:gsub("/", "_") .. "_" .. k
    local fw = self._children[dir]
    if not fw or fw:closed() then
      fw = tb.open(dir, self.filename_suffix, self.max_queue, self.flush_secs, tb.now())
      if not self._children[dir] then self._child_dirs[#self._child_dirs + 1] = dir end
      self._children[dir] = fw
    end
    fw:add_summary(tb.scalar(main_tag, values[i]), step, wt)
  end
end

-- add_histogram(tag, values, global_step, {bins = "tensorflow", walltime, max_bins}):
-- values a tensor or a table of numbers; bins "tensorflow" (PyTorch's default ladder of
-- edges), a number of equal bins over [min, max], or a table of edges.
function SummaryWriter:add_histogram(tag, values, step, opts)
  local op = "add_histogram"
  check.tag(op, tag)
  local wt
  step, wt, opts = common(op, step, opts, { "bins", "walltime", "max_bins" })
  local bins = opts.bins == nil and "tensorflow" or opts.bins
  local mb = opts.max_bins
  if mb ~= nil and (math.type(mb) ~= "integer" or mb < 1) then
    error(op .. ": max_bins must be a positive integer (got " .. tostring(mb) .. ")", 0)
  end
  self:_write(tb.histogram(tag, values, bins, mb), step, wt)
end

-- add_histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
-- global_step, {walltime})
function SummaryWriter:add_histogram_raw(tag, min, max, num, sum, sum_squares, limits, counts, step, opts)
  local op = "add_histogram_raw"
  check.tag(op, tag)
  local args = { min = min, max = max, num = num, sum = sum, sum_squares = sum_squares }
  for _, k in ipairs({ "min", "max", "num", "sum", "sum_squares" }) do check.number(op, args[k], k) end
  local wt
  step, wt = common(op, step, opts)
  self:_write(tb.histogram_raw(tag, min, max, num, sum, sum_squares, limits, counts), step, wt)
end

local function image(self, op, default_format, tag, img, step, opts)
  check.tag(op, tag)
  local wt
  step, wt, opts = common(op, step, opts, { "walltime", "dataformats" })
  local fmt = opts.dataformats or default_format
  if type(fmt) ~= "string" then error(op .. ": dataformats must be a string (got " .. type(fmt) .. ")", 0) end
  self:_write((tb.image(op, tag, img, fmt:upper())), step, wt)
end

-- add_image(tag, img_tensor, global_step, {walltime, dataformats = "CHW"}): floats in [0, 1]
-- (scaled by 255) or u8; 1-channel and HW images become RGB; PNG-encoded.
function SummaryWriter:add_image(tag, img, step, opts)
  image(self, "add_image", "CHW", tag, img, step, opts)
end

-- add_images(tag, img_tensor, global_step, {walltime, dataformats = "NCHW"}): a batch tiled
-- 8 images per row, as PyTorch's make_grid does.
function SummaryWriter:add_images(tag, img, step, opts)
  image(self, "add_images", "NCHW", tag, img, step, opts)
end

-- add_text(tag, text_string, global_step, {walltime}): Markdown, shown by the text plugin.
function SummaryWriter:add_text(tag, text, step, opts)
  local op = "add_text"
  check.tag(op, tag)
  if type(text) ~= "string" then error(op .. ": text_string must be a string (got " .. type(text) .. ")", 0) end
  if not utf8.len(text) then error(op .. ": text_string is not valid UTF-8", 0) end
  local wt
  step, wt = common(op, step, opts)
  self:_write(tb.tensor(tag .. "/text_summary", { dtype = 7, shape = { 1 }, values = { text } }, "text"), step, wt)
end

-- flush(): everything added so far is on disk (written and fsync'ed), sub-runs included.
function SummaryWriter:flush()
  if self._fw then self._fw:flush() end
  for _, dir in ipairs(self._child_dirs) do self._children[dir]:flush() end
end

-- close(): flush and close every file; closing twice is fine.
function SummaryWriter:close()
  local err
  local function close(fw)
    local ok, e = pcall(fw.close, fw)
    if not ok and not err then err = e end
  end
  if self._fw then close(self._fw) end
  for _, dir in ipairs(self._child_dirs) do close(self._children[dir]) end
  if err then error(err, 0) end
end

SummaryWriter.__close = SummaryWriter.close

function SummaryWriter:__tostring()
  return ("wick.tb.SummaryWriter(%q%s)"):format(self.log_dir, self._active and "" or ", inactive rank")
end

require("wick.tb.hparams")(SummaryWriter)
require("wick.tb.plugins")(SummaryWriter)
require("wick.tb.graph")(SummaryWriter)
return SummaryWriter
