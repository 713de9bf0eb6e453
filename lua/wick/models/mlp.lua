-- wick.models.mlp{784, 256, 128, 10}: Linear layers with an activation between them, named as
-- torch.nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) would be (0.weight, 0.bias,
-- 2.weight, ...). An input with more than 2 dims is flattened from dim 1 inside forward
-- (not by an nn.Flatten child, which would shift every name by one).
local class = require("wick.class")
local nn = require("wick.nn")

local MLP = class("MLP", nn.Sequential)

function MLP:forward(x)
  if x:dim() > 2 then x = x:flatten(1) end
  return nn.Sequential.forward(self, x)
end

local ACTIVATIONS = { relu = nn.ReLU, gelu = nn.GELU, tanh = nn.Tanh, sigmoid = nn.Sigmoid, silu = nn.SiLU }

-- mlp{sizes..., activation = "relu" | a module class, dropout = 0, bias = true, dtype, device}:
-- with dropout > 0, a Dropout follows each activation (and the names count it, as in torch).
return function(spec)
  if type(spec) ~= "table" or #spec < 2 then
    error("mlp: expected layer sizes {in, hidden..., out} (at least two)", 0)
  end
  local opts = {}
  for k, v in pairs(spec) do if math.type(k) ~= "integer" then opts[k] = v end end
  require("wick.util").check_options("mlp", opts, { "activation", "dropout", "bias", "dtype", "device" })
  local act = spec.activation or "relu"
  if type(act) == "string" then
    act = ACTIVATIONS[act] or error("mlp: unknown activation '" .. act .. "' (expected relu, gelu, tanh, sigmoid or silu)", 0)
  end
  local model = MLP()
  for i = 1, #spec - 1 do
    model:append(nn.Linear(spec[i], spec[i + 1], { bias = spec.bias, dtype = spec.dtype, device = spec.device }))
    if i < #spec - 1 then
      model:append(act())
      if spec.dropout and spec.dropout > 0 then model:append(nn.Dropout(spec.dropout)) end
    end
  end
  return model
end
