-- wick.models.gpt2{n_layer, n_head, n_embd, vocab_size, block_size}: GPT-2 with Hugging Face's
-- parameter names (transformer.wte/wpe/h.<i>.ln_1/attn.c_attn/attn.c_proj/ln_2/mlp.c_fc/
-- mlp.c_proj/ln_f, lm_head tied to wte), Conv1D weights stored [in, out] as HF does, tanh GELU,
-- causal attention and HF's initialisation, so a GPT-2 safetensors checkpoint loads and gives
-- HF's logits. model:generate(idx, n, {temperature}) samples continuations.
local wick = require("wick")
local class = require("wick.class")
local nn = require("wick.nn")
local F = nn.functional
local check_options = require("wick.util").check_options

local M = {}

-- HF's Conv1D: y = x @ weight + bias, weight [nx, nf].
local Conv1D = class("models.gpt2.Conv1D", nn.Module)
function Conv1D:__init(nf, nx, std)
  nn.Module.__init(self)
  self.nf = nf
  self.weight = nn.Parameter(wick.empty(nx, nf))
  self.bias = nn.Parameter(wick.zeros(nf))
  nn.init.normal_(self.weight, 0.0, std)
end
function Conv1D:forward(x) return x:matmul(self.weight) + self.bias end
function Conv1D:extra_repr() return ("nf=%d, nx=%d"):format(self.nf, self.weight:size(0)) end
M.Conv1D = Conv1D

local Attention = class("models.gpt2.Attention", nn.Module)
function Attention:__init(cfg)
  nn.Module.__init(self)
  self.n_head, self.n_embd, self.dropout_p = cfg.n_head, cfg.n_embd, cfg.dropout
  self.c_attn = Conv1D(3 * cfg.n_embd, cfg.n_embd, 0.02)
  self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd, 0.02 / math.sqrt(2 * cfg.n_layer))
  self.attn_dropout = nn.Dropout(cfg.dropout)
  self.resid_dropout = nn.Dropout(cfg.dropout)
end
function Attention:forward(x)
  local B, T, C = x:size(0), x:size(1), x:size(2)
  local H = self.n_head
  local qkv = self.c_attn(x):split(C, 2)
  local function heads(t) return t:reshape(B, T, H, C // H):transpose(1, 2) end
  local q, k, v = heads(qkv[1]), heads(qkv[2]), heads(qkv[3])
  local p = self.training and self.dropout_p or 0
  local y = F.scaled_dot_product_attention(q, k, v, { is_causal = true, dropout_p = p })
  y = y:transpose(1, 2):reshape(B, T, C)
  return self.resid_dropout(self.c_proj(y))
end

local MLP = class("models.gpt2.MLP", nn.Module)
function MLP:__init(cfg)
  nn.Module.__init(self)
  self.c_fc = Conv1D(4 * cfg.n_embd, cfg.n_embd, 0.02)
  self.c_proj = Conv1D(cfg.n_embd, 4 * cfg.n_embd, 0.02 / math.sqrt(2 * cfg.n_layer))
  self.dropout = nn.Dropout(cfg.dropout)
end
function MLP:forward(x)
  return self.dropout(self.c_proj(F.gelu(self.c_fc(x), { approximate = "tanh" })))
end

local Block = class("models.gpt2.Block", nn.Module)
function Block:__init(cfg)
  nn.Module.__init(self)
  self.ln_1 = nn.LayerNorm(cfg.n_embd, { eps = cfg.layer_norm_epsilon })
  self.attn = Attention(cfg)
  self.ln_2 = nn.LayerNorm(cfg.n_embd, { eps = cfg.layer_norm_epsilon })
  self.mlp = MLP(cfg)
end
function Block:forward(x)
  x = x + self.attn(self.ln_1(x))
  return x + self.mlp(self.ln_2(x))
end
M.Block = Block

local Transformer = class("models.gpt2.GPT2Model", nn.Module)
function Transformer:__init(cfg)
  nn.Module.__init(self)
  self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
  self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
  nn.init.normal_(self.wte.weight, 0.0, 0.02)
  nn.init.normal_(self.wpe.weight, 0.0, 0.02)
  self.drop = nn.Dropout(cfg.dropout)
  local blocks = {}
  for i = 1, cfg.n_layer do blocks[i] = Block(cfg) end
  self.h = nn.ModuleList(blocks)
  self.ln_f = nn.LayerNorm(cfg.n_embd, { eps = cfg.layer_norm_epsilon })
end

local GPT2 = class("models.GPT2", nn.Module)
M.GPT2 = GPT2

local OPTS = { n_layer = 12, n_head = 12, n_embd = 768, vocab_size = 50257, block_size = 1024,
  dropout = 0.1, layer_norm_epsilon = 1e-5 }

function GPT2:__init(cfg)
  nn.Module.__init(self)
  local c = {}
  for k, v in pairs(check_options("gpt2", cfg, OPTS)) do c[k] = v end
  for k, v in pairs(OPTS) do if c[k] == nil then c[k] = v end end
  for _, k in ipairs({ "n_layer", "n_head", "n_embd", "vocab_size", "block_size" }) do
    if math.type(c[k]) ~= "integer" or c[k] <= 0 then
      error(("gpt2: %s must be a positive integer (got %s)"):format(k, tostring(c[k])), 0)
    end
  end
  if c.n_embd % c.n_head ~= 0 then error("gpt2: n_embd must be divisible by n_head", 0) end
  self.config = c
  self.transformer = Transformer(c)
  self.lm_head = nn.Linear(c.n_embd, c.vocab_size, { bias = false })
  self.lm_head.weight = self.transformer.wte.weight -- tied, as in GPT-2
end

-- idx: i64 [B, T] token ids -> logits [B, T, vocab_size]
function GPT2:forward(idx)
  local T = idx:size(-1)
  if T > self.config.block_size then
    error(("gpt2: cannot forward a sequence of length %d, block size is only %d"):format(T, self.config.block_size), 0)
  end
  local tr = self.transformer
  local pos = wick.arange(T, { device = idx.device })
  local x = tr.drop(tr.wte(idx) + tr.wpe(pos))
  for i = 0, self.config.n_layer - 1 do x = tr.h[i](x) end
  return self.lm_head(tr.ln_f(x))
end

-- Hugging Face checkpoints name their keys with or without "transformer." and may carry
-- lm_head.weight (tied) and the attention-mask buffers attn.bias / attn.masked_bias.
function GPT2:load_state_dict(sd, opts)
  local fixed = {}
  for k, v in pairs(sd) do
    if not k:match("%.attn%.bias$") and not k:match("%.attn%.masked_bias$") then
      if k ~= "lm_head.weight" and not k:match("^transformer%.") then k = "transformer." .. k end
      fixed[k] = v
    end
  end
  if fixed["lm_head.weight"] == nil then fixed["lm_head.weight"] = fixed["transformer.wte.weight"] end
  return nn.Module.load_state_dict(self, fixed, opts)
end

-- Appends max_new_tokens sampled tokens to idx [B, T] (no autograd, eval mode, then restored).
function GPT2:generate(idx, max_new_tokens, opts)
  opts = check_options("gpt2.generate", opts, { "temperature" })
  local temperature = opts.temperature or 1.0
  local was_training = self.training
  self:eval()
  local out = wick.no_grad(function()
    for _ = 1, max_new_tokens do
      local T = idx:size(1)
      local ctx = T > self.config.block_size and idx:narrow(1, T - self.config.block_size, self.config.block_size) or idx
      local logits = self(ctx):select(1, ctx:size(1) - 1) / temperature -- [B, V]
      local next_id = logits:softmax(1):multinomial(1)
      idx = wick.cat({ idx, next_id }, 1)
    end
    return idx
  end)
  if was_training then self:train() end
  return out
end

function M.gpt2(cfg) return GPT2(cfg) end

return M
