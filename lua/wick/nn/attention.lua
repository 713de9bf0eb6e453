-- nn.MultiheadAttention with PyTorch's parameter names (in_proj_weight [3E, E], in_proj_bias,
-- out_proj.weight/bias), initialisation order and masks: a bool attn_mask or key_padding_mask
-- marks positions NOT attended (true = masked), a float mask is added to the scores.
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local Linear = require("wick.nn.linear")
local F = require("wick.nn.functional")
local init = require("wick.nn.init_fns")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local MHA = class("nn.MultiheadAttention", Module)

-- MultiheadAttention(embed_dim, num_heads, {dropout = 0, bias = true, batch_first = false, dtype, device})
function MHA:__init(embed_dim, num_heads, opts)
  Module.__init(self)
  opts = util.options("MultiheadAttention", opts,
    { "dropout", "bias", "batch_first", "kdim", "vdim", "add_bias_kv", "add_zero_attn", "dtype", "device" })
  self.embed_dim = util.positive("MultiheadAttention", "embed_dim", embed_dim)
  self.num_heads = util.positive("MultiheadAttention", "num_heads", num_heads)
  if embed_dim % num_heads ~= 0 then error("MultiheadAttention: embed_dim must be divisible by num_heads", 0) end
  if (opts.kdim and opts.kdim ~= embed_dim) or (opts.vdim and opts.vdim ~= embed_dim) or opts.add_bias_kv
     or opts.add_zero_attn then
    error("MultiheadAttention: kdim/vdim other than embed_dim, add_bias_kv and add_zero_attn are not supported", 0)
  end
  self.head_dim = embed_dim // num_heads
  self.dropout = opts.dropout or 0.0
  self.batch_first = opts.batch_first == true
  local f = util.factory(opts)
  self.in_proj_weight = Module.Parameter(wick.empty({ 3 * embed_dim, embed_dim }, f))
  if opts.bias ~= false then self.in_proj_bias = Module.Parameter(wick.empty({ 3 * embed_dim }, f)) end
  -- PyTorch builds out_proj (drawing its Linear init) before resetting the in-projection
  self.out_proj = Linear(embed_dim, embed_dim, { bias = opts.bias ~= false, dtype = opts.dtype, device = opts.device })
  self:_reset_parameters()
end

function MHA:_reset_parameters()
  init.xavier_uniform_(self.in_proj_weight)
  if self.in_proj_bias then
    init.constant_(self.in_proj_bias, 0.0)
    init.constant_(self.out_proj.bias, 0.0)
  end
end

-- A mask as an additive float tensor (bool true -> -inf), or nil.
local function additive(mask, dtype)
  if mask == nil then return nil end
  if mask.dtype == "bool" then
    return wick.zeros(mask.shape, { dtype = dtype, device = mask.device }):masked_fill(mask, -math.huge)
  end
  return mask:to(dtype)
end

-- forward(query, key, value, {key_padding_mask, need_weights = true, attn_mask,
--   average_attn_weights = true, is_causal}) -> output, weights (nil unless need_weights)
function MHA:forward(query, key, value, opts)
  opts = util.options("MultiheadAttention", opts,
    { "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights", "is_causal" })
  local batched = query:dim() == 3
  if not batched then
    query, key, value = query:unsqueeze(1), key:unsqueeze(1), value:unsqueeze(1)
    if opts.key_padding_mask then opts.key_padding_mask = opts.key_padding_mask:unsqueeze(0) end
  elseif self.batch_first then
    query, key, value = query:transpose(0, 1), key:transpose(0, 1), value:transpose(0, 1)
  end
  -- now [L, N, E] and [S, N, E]
  local L, N, E = query:size(0), query:size(1), self.embed_dim
  local S, H, hd = key:size(0), self.num_heads, self.head_dim
  if query:size(2) ~= E then
    error(("MultiheadAttention: was expecting embedding dimension of %d, but got %d"):format(E, query:size(2)), 0)
  end
  local w = self.in_proj_weight:chunk(3, 0)
  local b = self.in_proj_bias and self.in_proj_bias:chunk(3, 0) or {}
  local q = F.linear(query, w[1], b[1])
  local k = F.linear(key, w[2], b[2])
  local v = F.linear(value, w[3], b[3])
  -- [L, N, E] -> [N, H, L, hd]
  local function heads(t, len) return t:reshape(len, N, H, hd):permute(1, 2, 0, 3) end
  q, k, v = heads(q, L), heads(k, S), heads(v, S)
  local mask = opts.attn_mask
  if mask == nil and opts.is_causal then
    mask = wick.arange(L):unsqueeze(1):lt(wick.arange(S)) -- true above the diagonal
  end
  mask = additive(mask, q.dtype)
  if mask ~= nil then
    if mask:dim() == 2 then mask = mask:reshape(1, 1, L, S)
    else mask = mask:reshape(N, H, L, S) end
  end
  local kpm = additive(opts.key_padding_mask, q.dtype)
  if kpm ~= nil then
    kpm = kpm:reshape(N, 1, 1, S)
    mask = mask and (mask + kpm) or kpm
  end
  local att = q:matmul(k:transpose(-2, -1)) / math.sqrt(hd)
  if mask ~= nil then att = att + mask end
  att = att:softmax(-1)
  if self.dropout > 0 and self.training then att = F.dropout(att, self.dropout, true) end
  local out = att:matmul(v)                           -- [N, H, L, hd]
  out = out:permute(2, 0, 1, 3):reshape(L, N, E)     -- [L, N, E]
  out = self.out_proj(out)
  if not batched then out = out:squeeze(1)
  elseif self.batch_first then out = out:transpose(0, 1) end
  if opts.need_weights == false then return out, nil end
  local weights = att
  if opts.average_attn_weights ~= false then weights = att:mean(1) end
  if not batched then weights = weights:squeeze(0) end
  return out, weights
end

function MHA:extra_repr()
  return repr.fields { { "embed_dim", self.embed_dim }, { "num_heads", self.num_heads },
                       { "batch_first", self.batch_first } }
end

return MHA
