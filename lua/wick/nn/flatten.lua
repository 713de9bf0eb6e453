-- nn.Flatten (dims start_dim..end_dim into one; start_dim = 1 keeps the batch), nn.Unflatten
-- and nn.Identity.
local class = require("wick.class")
local Module = require("wick.nn.module")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local M = {}

-- Flatten(start_dim = 1, end_dim = -1) or Flatten({start_dim, end_dim})
local Flatten = class("nn.Flatten", Module)
function Flatten:__init(start_dim, end_dim)
  Module.__init(self)
  if type(start_dim) == "table" then
    local o = util.options("Flatten", start_dim, { "start_dim", "end_dim" })
    start_dim, end_dim = o.start_dim, o.end_dim
  end
  self.start_dim, self.end_dim = start_dim or 1, end_dim or -1
end
function Flatten:forward(x) return x:flatten(self.start_dim, self.end_dim) end
function Flatten:extra_repr()
  return repr.fields { { "start_dim", self.start_dim }, { "end_dim", self.end_dim } }
end
M.Flatten = Flatten

-- Unflatten(dim, sizes): dim becomes the dims in sizes (one may be -1).
local Unflatten = class("nn.Unflatten", Module)
function Unflatten:__init(dim, sizes)
  Module.__init(self)
  if math.type(dim) ~= "integer" or type(sizes) ~= "table" then
    error("Unflatten: expected a dim and a table of sizes", 0)
  end
  self.dim, self.unflattened_size = dim, sizes
end
function Unflatten:forward(x)
  local shape, d = x.shape, self.dim
  if d < 0 then d = d + #shape end
  local out = {}
  for i = 1, d do out[#out + 1] = shape[i] end
  for _, s in ipairs(self.unflattened_size) do out[#out + 1] = s end
  for i = d + 2, #shape do out[#out + 1] = shape[i] end
  return x:reshape(out)
end
function Unflatten:extra_repr()
  return repr.fields { { "dim", self.dim }, { "unflattened_size", self.unflattened_size } }
end
M.Unflatten = Unflatten

-- Identity(...): arguments are accepted and ignored, as PyTorch's.
local Identity = class("nn.Identity", Module)
function Identity:__init() Module.__init(self) end
function Identity:forward(x) return x end
M.Identity = Identity

return M
