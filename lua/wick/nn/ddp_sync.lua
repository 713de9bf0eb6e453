-- DDP's construction-time collectives: the check that every rank has the same trainable
-- parameters, and coalesced broadcasts of parameters and buffers from one rank.
local wick = require("wick")

local M = {}
local FN = "DistributedDataParallel"

local function dist() return require("wick.dist") end

-- "name\tdtype\tshape" per parameter, one line each.
local function describe(names, params)
  local lines = {}
  for i, p in ipairs(params) do
    lines[i] = names[i] .. "\t" .. p.dtype .. "\t[" .. table.concat(p.shape, ", ") .. "]"
  end
  return table.concat(lines, "\n")
end

local function to_bytes(s, n)
  local t = {}
  for i = 1, n do t[i] = i <= #s and s:byte(i) or 0 end
  return wick.tensor(t, { dtype = "u8" })
end

local function from_bytes(t, n)
  local l, parts = t:tolist(), {}
  for i = 1, n, 4096 do parts[#parts + 1] = string.char(table.unpack(l, i, math.min(n, i + 4095))) end
  return table.concat(parts)
end

local function split_lines(s)
  local out = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do
    local name, dtype, shape = line:match("^(.-)\t(.-)\t(.*)$")
    out[#out + 1] = { name = name, dtype = dtype, shape = shape }
  end
  return out
end

-- Raises on every rank when a rank's trainable parameters differ from the group's first rank
-- (PyTorch's _verify_param_shape_across_processes): the first such rank, and its first
-- differing parameter.
function M.verify_shapes(names, params, world, gopts)
  local d = dist()
  local desc = describe(names, params)
  local len = wick.tensor({ #desc }, { dtype = "i64" })
  local lens = {}
  for i = 1, world do lens[i] = wick.zeros({ 1 }, { dtype = "i64" }) end
  d.all_gather(lens, len, gopts)
  local max = 1
  for i = 1, world do max = math.max(max, lens[i]:item()) end
  local bufs = {}
  for i = 1, world do bufs[i] = wick.zeros({ max }, { dtype = "u8" }) end
  d.all_gather(bufs, to_bytes(desc, max), gopts)
  local ref = split_lines(from_bytes(bufs[1], lens[1]:item()))
  for r = 2, world do
    local other = split_lines(from_bytes(bufs[r], lens[r]:item()))
    if #other ~= #ref then
      error(("%s: DDP expects same model across all ranks, but rank %d has %d params, while rank 0 has "
        .. "inconsistent %d params."):format(FN, r - 1, #other, #ref), 0)
    end
    for i, a in ipairs(ref) do
      local b = other[i]
      if a.shape ~= b.shape or a.dtype ~= b.dtype then
        error(("%s: DDP expects same model across all ranks, but rank %d's parameter %d ('%s') has shape "
          .. "%s (%s), while rank 0's ('%s') has shape %s (%s)."):format(FN, r - 1, i - 1, b.name, b.shape,
          b.dtype, a.name, a.shape, a.dtype), 0)
      end
    end
  end
end

-- Overwrites every tensor with src's copy: one broadcast per dtype of all of them flattened.
function M.broadcast(tensors, src, gopts)
  local d = dist()
  local by_dtype, order = {}, {}
  for _, t in ipairs(tensors) do
    if not by_dtype[t.dtype] then by_dtype[t.dtype] = {} order[#order + 1] = t.dtype end
    table.insert(by_dtype[t.dtype], t)
  end
  wick.no_grad(function()
    for _, dt in ipairs(order) do
      local list, flat = by_dtype[dt], {}
      for i, t in ipairs(list) do flat[i] = t:detach():reshape({ -1 }) end
      local buf = #flat == 1 and flat[1]:contiguous() or wick.cat(flat, 0)
      d.broadcast(buf, src, gopts)
      local off = 0
      for _, t in ipairs(list) do
        local n = t:numel()
        t:detach():copy_(buf:narrow(0, off, n):view(t:size()))
        off = off + n
      end
    end
  end)
end

return M
