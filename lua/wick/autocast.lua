-- wick.autocast(dtype, fn, ...): inside fn, matmul (and so nn.Linear and attention) casts its
-- f32 operands to dtype ("bf16" or "f16") and computes there, like torch.autocast; gradients
-- flow back to the f32 parameters. wick.autocast(false, fn) turns it off inside fn. The flag is
-- per thread and restored when fn returns or raises. docs/cuda.md lists what differs from PyTorch.
local core = require("wick.core")

return function(dtype, fn, ...)
  if dtype ~= false and type(dtype) ~= "string" then
    error("autocast: expected a dtype ('bf16' or 'f16') or false, then a function", 0)
  end
  if type(fn) ~= "function" then error("autocast: expected a function after the dtype", 0) end
  local prev = core._autocast_set(dtype or nil)
  local res = table.pack(pcall(fn, ...))
  core._autocast_set(prev)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end
