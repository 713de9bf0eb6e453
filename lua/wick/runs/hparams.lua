-- A run's config as TensorBoard hparams (dotted keys, scalar values) with its final metrics,
-- written to the run's hparams/ session.
local config = require("wick.config")

local M = {}

-- The config as hparams: dotted keys, scalar values; a list becomes its flow-style YAML text.
function M.flatten(t, prefix, out)
  out = out or {}
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local v, name = t[k], prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    local kind = type(v) == "table" and config.kind(v)
    if kind == "map" then M.flatten(v, name, out)
    elseif kind then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = type(x) == "table" and "..." or tostring(x) end
      out[name] = "[" .. table.concat(parts, ", ") .. "]"
    elseif type(v) == "number" or type(v) == "string" or type(v) == "boolean" then
      out[name] = v
    end
  end
  return out
end

-- The numeric fields of t (metrics reported or returned by main), into out.
function M.numeric_metrics(t, out)
  out = out or {}
  if type(t) == "table" then
    for k, v in pairs(t) do
      if type(k) == "string" and type(v) == "number" then out[k] = v end
    end
  end
  return out
end

-- The hparams session of the run in dir: its config and final metrics.
function M.write(dir, cfg, metrics)
  local tb = require("wick.tb")
  local w = tb.SummaryWriter(dir .. "/hparams")
  w:add_hparams(M.flatten(config.strip_nulls(cfg)), metrics, { run_name = "." })
  w:close()
end

return M
