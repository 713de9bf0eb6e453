-- nn.Embedding: a lookup table of num_embeddings rows, N(0, 1) initialised, the padding_idx row
-- zeroed (and kept out of the gradient by the kernel).
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local Embedding = class("nn.Embedding", Module)

local function check_padding(n, padding_idx)
  if padding_idx == nil then return nil end
  if math.type(padding_idx) ~= "integer" or padding_idx >= n or padding_idx < -n then
    error("Embedding: padding_idx must be within num_embeddings", 0)
  end
  return padding_idx < 0 and n + padding_idx or padding_idx
end

-- Embedding(num_embeddings, embedding_dim, {padding_idx, dtype, device})
function Embedding:__init(num_embeddings, embedding_dim, opts)
  Module.__init(self)
  opts = util.options("Embedding", opts, { "padding_idx", "dtype", "device", "_weight" })
  self.num_embeddings = util.positive("Embedding", "num_embeddings", num_embeddings)
  self.embedding_dim = util.positive("Embedding", "embedding_dim", embedding_dim)
  self.padding_idx = check_padding(num_embeddings, opts.padding_idx)
  if opts._weight then
    self.weight = Module.Parameter(opts._weight)
  else
    self.weight = Module.Parameter(wick.empty({ num_embeddings, embedding_dim }, util.factory(opts)))
    self:reset_parameters()
  end
end

function Embedding:reset_parameters()
  local init = require("wick.nn.init_fns")
  init.normal_(self.weight)
  if self.padding_idx then
    wick.no_grad(function() self.weight[self.padding_idx]:fill_(0) end)
  end
end

function Embedding:forward(indices)
  return F.embedding(indices, self.weight, { padding_idx = self.padding_idx })
end

function Embedding:extra_repr()
  local f = { { nil, self.num_embeddings }, { nil, self.embedding_dim } }
  if self.padding_idx then f[#f + 1] = { "padding_idx", self.padding_idx } end
  return repr.fields(f)
end

-- Embedding.from_pretrained(weight, {freeze = true, padding_idx}): shares weight's memory.
function Embedding.from_pretrained(weight, opts)
  opts = util.options("Embedding.from_pretrained", opts, { "freeze", "padding_idx" })
  if not wick.is_tensor(weight) or weight:dim() ~= 2 then
    error("Embedding.from_pretrained: embeddings parameter is expected to be 2-dimensional", 0)
  end
  local e = Embedding(weight:size(0), weight:size(1), { _weight = weight, padding_idx = opts.padding_idx })
  e.weight:requires_grad_(opts.freeze == false)
  return e
end

return Embedding
