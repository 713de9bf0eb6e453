-- wick.cuda: devices, memory statistics, streams and events (docs/cuda.md). The functions are
-- core._cuda (src/lua/l_cuda.c); this adds what is policy: stream contexts and names.
local core = require("wick.core")
local C = core._cuda

local M = {}
for k, v in pairs(C) do
  if k ~= "built" then M[k] = v end
end

-- true when this build of wick has the CUDA backend (a device may still be missing)
function M.is_built() return C.built end

function M.get_device_name(device) return C.get_device_properties(device).name end

-- stream(s, fn, ...): runs fn with s as the current stream of its device, then restores the
-- stream that was current before, also when fn raises (torch.cuda.stream as a context).
function M.stream(s, fn, ...)
  if type(fn) ~= "function" then error("stream: expected a stream and a function", 0) end
  local prev = C.current_stream(s:get_device())
  C.set_stream(s)
  local res = table.pack(pcall(fn, ...))
  C.set_stream(prev)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Device lines for `wick info`: {"cuda:0 NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB, 132 SMs)", ...}
function M.describe()
  local lines = {}
  for i = 0, C.device_count() - 1 do
    local p = C.get_device_properties(i)
    lines[#lines + 1] = string.format("cuda:%d %s (sm_%d%d, %.1f GiB, %d SMs)", i, p.name, p.major, p.minor,
      p.total_memory / 2 ^ 30, p.multi_processor_count)
  end
  return lines
end

return M
