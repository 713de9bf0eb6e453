-- nn.Dropout: zeroes elements with probability p and scales the rest by 1/(1-p) in training;
-- the identity in eval.
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local Dropout = class("nn.Dropout", Module)

-- Dropout(p = 0.5) or Dropout({p = 0.5, inplace = false})
function Dropout:__init(p, opts)
  Module.__init(self)
  if type(p) == "table" then p, opts = nil, p end
  opts = util.options("Dropout", opts, { "p", "inplace" })
  p = p or opts.p or 0.5
  if type(p) ~= "number" or p < 0 or p > 1 then
    error("Dropout: dropout probability has to be between 0 and 1, but got " .. tostring(p), 0)
  end
  self.p = p
  self.inplace = opts.inplace == true
end

function Dropout:forward(x) return F.dropout(x, self.p, self.training) end

function Dropout:extra_repr() return repr.fields { { "p", self.p }, { "inplace", self.inplace } } end

return Dropout
