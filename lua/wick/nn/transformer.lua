-- nn.TransformerEncoderLayer / DecoderLayer / Encoder / Decoder with PyTorch's parameter names
-- (self_attn.*, multihead_attn.*, linear1, linear2, norm1..3, layers.<i>.*), post-norm by
-- default or norm_first, relu/gelu activation. Encoder/Decoder clone the given layer
-- num_layers times with the same initial weights, as PyTorch's deepcopy does.
local class = require("wick.class")
local Module = require("wick.nn.module")
local Linear = require("wick.nn.linear")
local LayerNorm = require("wick.nn.layernorm")
local Dropout = require("wick.nn.dropout")
local MHA = require("wick.nn.attention")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local container = require("wick.nn.container")

local M = {}
local LAYER_OPTS = { "dim_feedforward", "dropout", "activation", "layer_norm_eps", "batch_first",
  "norm_first", "dtype", "device" }

local function activation_fn(name, a)
  if a == nil or a == "relu" then return F.relu end
  if a == "gelu" then return F.gelu end
  if type(a) == "function" or (type(a) == "table" and getmetatable(a) and getmetatable(a).__call) then return a end
  error(("%s: activation should be relu/gelu, not %s"):format(name, tostring(a)), 0)
end

-- The parts both layers share; `n_norms` LayerNorms and dropouts.
local function build(self, name, d_model, nhead, opts, n_norms, cross)
  Module.__init(self)
  opts = util.options(name, opts, LAYER_OPTS)
  self._args = { d_model, nhead, opts }
  local f = { dtype = opts.dtype, device = opts.device }
  local p = opts.dropout or 0.1
  local mha = { dropout = p, batch_first = opts.batch_first, dtype = opts.dtype, device = opts.device }
  self.self_attn = MHA(d_model, nhead, mha)
  if cross then self.multihead_attn = MHA(d_model, nhead, mha) end
  local ff = opts.dim_feedforward or 2048
  self.linear1 = Linear(d_model, ff, f)
  self.dropout = Dropout(p)
  self.linear2 = Linear(ff, d_model, f)
  self.norm_first = opts.norm_first == true
  local eps = opts.layer_norm_eps or 1e-5
  for i = 1, n_norms do
    self["norm" .. i] = LayerNorm(d_model, { eps = eps, dtype = opts.dtype, device = opts.device })
  end
  for i = 1, n_norms do self["dropout" .. i] = Dropout(p) end
  self.activation = activation_fn(name, opts.activation)
end

local function ff_block(self, x, drop)
  return drop(self.linear2(self.dropout(self.activation(self.linear1(x)))))
end

local function attn_block(self, attn, x, mem, mask, kpm, causal, drop)
  local y = attn(x, mem, mem, { attn_mask = mask, key_padding_mask = kpm, need_weights = false,
                                is_causal = causal and mask == nil or nil })
  return drop(y)
end

local Enc = class("nn.TransformerEncoderLayer", Module)
-- TransformerEncoderLayer(d_model, nhead, {dim_feedforward = 2048, dropout = 0.1,
--   activation = "relu", layer_norm_eps = 1e-5, batch_first = false, norm_first = false})
function Enc:__init(d_model, nhead, opts) build(self, "TransformerEncoderLayer", d_model, nhead, opts, 2) end
-- forward(src, {src_mask, src_key_padding_mask, is_causal})
function Enc:forward(src, opts)
  opts = util.options("TransformerEncoderLayer", opts, { "src_mask", "src_key_padding_mask", "is_causal" })
  local x, m, kpm = src, opts.src_mask, opts.src_key_padding_mask
  if self.norm_first then
    local h = self.norm1(x)
    x = x + attn_block(self, self.self_attn, h, h, m, kpm, opts.is_causal, self.dropout1)
    x = x + ff_block(self, self.norm2(x), self.dropout2)
  else
    x = self.norm1(x + attn_block(self, self.self_attn, x, x, m, kpm, opts.is_causal, self.dropout1))
    x = self.norm2(x + ff_block(self, x, self.dropout2))
  end
  return x
end
M.TransformerEncoderLayer = Enc

local Dec = class("nn.TransformerDecoderLayer", Module)
-- TransformerDecoderLayer(d_model, nhead, {same options as the encoder layer})
function Dec:__init(d_model, nhead, opts) build(self, "TransformerDecoderLayer", d_model, nhead, opts, 3, true) end
local DEC_FWD = { "tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask",
  "tgt_is_causal", "memory_is_causal" }
-- forward(tgt, memory, {tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal})
function Dec:forward(tgt, memory, opts)
  opts = util.options("TransformerDecoderLayer", opts, DEC_FWD)
  local x = tgt
  if self.norm_first then
    local h = self.norm1(x)
    x = x + attn_block(self, self.self_attn, h, h, opts.tgt_mask, opts.tgt_key_padding_mask, opts.tgt_is_causal, self.dropout1)
    x = x + attn_block(self, self.multihead_attn, self.norm2(x), memory, opts.memory_mask,
                       opts.memory_key_padding_mask, opts.memory_is_causal, self.dropout2)
    x = x + ff_block(self, self.norm3(x), self.dropout3)
  else
    x = self.norm1(x + attn_block(self, self.self_attn, x, x, opts.tgt_mask, opts.tgt_key_padding_mask,
                                  opts.tgt_is_causal, self.dropout1))
    x = self.norm2(x + attn_block(self, self.multihead_attn, x, memory, opts.memory_mask,
                                  opts.memory_key_padding_mask, opts.memory_is_causal, self.dropout2))
    x = self.norm3(x + ff_block(self, x, self.dropout3))
  end
  return x
end
M.TransformerDecoderLayer = Dec

-- num_layers copies of layer, each with layer's current weights.
local function clones(name, layer, n)
  local cls = getmetatable(layer)
  if cls ~= Enc and cls ~= Dec then
    error(name .. ": expected a TransformerEncoderLayer or TransformerDecoderLayer to clone", 0)
  end
  util.positive(name, "num_layers", n)
  local sd = layer:state_dict()
  local list = {}
  for i = 1, n do
    local c = cls(table.unpack(layer._args))
    c:load_state_dict(sd)
    list[i] = c
  end
  return container.ModuleList(list)
end

local TEnc = class("nn.TransformerEncoder", Module)
-- TransformerEncoder(encoder_layer, num_layers, {norm})
function TEnc:__init(layer, num_layers, opts)
  Module.__init(self)
  opts = util.options("TransformerEncoder", opts, { "norm", "enable_nested_tensor", "mask_check" })
  self.layers = clones("TransformerEncoder", layer, num_layers)
  self.num_layers = num_layers
  if opts.norm then self.norm = opts.norm end
end
-- forward(src, {mask, src_key_padding_mask, is_causal})
function TEnc:forward(src, opts)
  opts = util.options("TransformerEncoder", opts, { "mask", "src_key_padding_mask", "is_causal" })
  local x = src
  for i = 0, self.num_layers - 1 do
    x = self.layers[i](x, { src_mask = opts.mask, src_key_padding_mask = opts.src_key_padding_mask,
                            is_causal = opts.is_causal })
  end
  if self.norm then x = self.norm(x) end
  return x
end
M.TransformerEncoder = TEnc

local TDec = class("nn.TransformerDecoder", Module)
-- TransformerDecoder(decoder_layer, num_layers, {norm})
function TDec:__init(layer, num_layers, opts)
  Module.__init(self)
  opts = util.options("TransformerDecoder", opts, { "norm" })
  self.layers = clones("TransformerDecoder", layer, num_layers)
  self.num_layers = num_layers
  if opts.norm then self.norm = opts.norm end
end
function TDec:forward(tgt, memory, opts)
  opts = util.options("TransformerDecoder", opts, DEC_FWD)
  local x = tgt
  for i = 0, self.num_layers - 1 do x = self.layers[i](x, memory, opts) end
  if self.norm then x = self.norm(x) end
  return x
end
M.TransformerDecoder = TDec

return M
