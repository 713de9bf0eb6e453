-- wick.recipe{config = "x.yaml" | {defaults}, main = function(cfg) ... end}: a recipe object, and
-- how it resolves its config (defaults <- --config files <- key=value overrides) and runs.
local config = require("wick.config")

local recipe = {}
local Recipe = { __name = "wick.Recipe" }
Recipe.__index = Recipe
recipe.Recipe = Recipe

local fields = { "config", "main", "description" }

-- `level` is the caller's stack level as seen from here (errors and the source dir point there).
local function new(spec, level)
  if type(spec) ~= "table" then
    error("wick.recipe: expected a table {config = ..., main = function(cfg) ... end}", 0)
  end
  for k in pairs(spec) do
    local known = false
    for _, f in ipairs(fields) do known = known or f == k end
    if not known then
      local s = type(k) == "string" and require("wick.util").suggest(k, fields)
      error(string.format("wick.recipe: unknown field '%s'%s", tostring(k),
        s and string.format(" (did you mean '%s'?)", s) or ""), 0)
    end
  end
  if type(spec.main) ~= "function" then
    error("wick.recipe: 'main' must be a function (got " .. type(spec.main) .. ")", 0)
  end
  local c = spec.config
  if c ~= nil and type(c) ~= "string" and type(c) ~= "table" then
    error("wick.recipe: 'config' must be a YAML file name or a table of defaults (got " .. type(c) .. ")", 0)
  end
  -- a relative config file is beside the recipe file: remember where the caller lives (the
  -- runner sets dir from the path it ran, which also covers recipes built by helpers)
  -- (none when `return wick.recipe{...}` was a tail call from a main chunk)
  local info = debug.getinfo(level, "S")
  local src = info and info.source or "=?"
  local dir = src:sub(1, 1) == "@" and (src:sub(2):match("^(.*)/[^/]*$") or ".") or "."
  return setmetatable({ config = c, main = spec.main, description = spec.description, dir = dir }, Recipe)
end

function recipe.is_recipe(v)
  return getmetatable(v) == Recipe
end

function Recipe:__tostring()
  return string.format("wick.Recipe(config = %s)", type(self.config) == "string" and self.config or type(self.config))
end

-- The path of the defaults file (nil when the defaults are a table or absent).
function Recipe:config_path()
  local c = self.config
  if type(c) ~= "string" then return nil end
  return c:sub(1, 1) == "/" and c or (self.dir .. "/" .. c)
end

-- The default config: a fresh table, YAML nulls kept as wick.config.null so that they stay keys.
function Recipe:defaults()
  local c = self.config
  if c == nil then return {} end
  if type(c) == "table" then return config.copy(c) end
  local path = self:config_path()
  local d = config.load(path, { keep_null = true })
  if d == nil then return {} end
  local k = config.kind(d)
  if k ~= "map" and k ~= "empty" then
    error(string.format("%s: a config must be a mapping of keys to values, got %s", path, k), 0)
  end
  return d
end

-- Defaults <- each file of `configs` (maps merge deeply, lists are replaced) <- each "key=value"
-- of `overrides` (YAML-typed values). Unknown keys and clearly wrong types are errors.
function Recipe:resolve(configs, overrides)
  local defaults = self:defaults()
  local cfg = config.copy(defaults)
  for _, path in ipairs(configs or {}) do
    local over = config.load(path, { keep_null = true })
    local ok, merged = pcall(config.merge, cfg, over, defaults)
    if not ok then error(string.format("%s: %s", path, merged), 0) end
    cfg = merged
  end
  for _, s in ipairs(overrides or {}) do
    local key, value, raw = config.parse_override(s)
    config.set(cfg, key, value, raw, defaults)
  end
  return cfg
end

-- Prints the resolved config (a header line, then YAML) and calls main(cfg) with nulls removed
-- (a key set to null is absent, as with config.load). Returns what main returns.
function Recipe:start(cfg, name)
  io.stdout:write(string.format("# resolved config of %s\n", name or "recipe"), config.dump(cfg))
  io.stdout:flush()
  return self.main(config.strip_nulls(cfg))
end

-- resolve + start; opts: configs, overrides, name (for the header).
function Recipe:run(opts)
  opts = opts or {}
  return self:start(self:resolve(opts.configs, opts.overrides), opts.name)
end

-- wick.recipe.report{accuracy = 0.9, ...}: final metrics of the run in progress (docs/runs.md).
function recipe.report(metrics)
  return require("wick.runs").report(metrics)
end

-- Checkpoints of the run in progress, for `wick run --resume DIR` (docs/runs.md):
-- wick.recipe.checkpoint(state, {epoch = e, step = k}) saves to the run's checkpoint.safetensors
-- (rank 0; nothing outside `wick run`); wick.recipe.resume(state) loads it into state and
-- returns its counters when the run is resumed, else nil; wick.recipe.resumed() tells which.
function recipe.checkpoint(state, counters) return require("wick.runs").checkpoint(state, counters) end
function recipe.resume(state) return require("wick.runs").resume(state) end
function recipe.resumed() return require("wick.runs").resumed() end

-- wick.recipe.prepare{model, optimizer, scheduler, train, eval, ...}: DDP, samplers,
-- checkpoints and logging composed in one call (wick/recipe/prepare.lua, docs/reference.md).
function recipe.prepare(spec) return require("wick.recipe.prepare").new(spec) end
-- wick.recipe.log{name = value, ...} (, step): metric history in the run directory and
-- TensorBoard (wick/recipe/log.lua); `wick runs` shows its last values.
function recipe.log(metrics, step) return require("wick.recipe.log").log(metrics, step) end

-- wick.recipe{...} and recipe.new{...} build a recipe (not tail calls: the caller stays level 3).
function recipe.new(spec)
  local r = new(spec, 3)
  return r
end

return setmetatable(recipe, {
  __call = function(_, spec)
    local r = new(spec, 3)
    return r
  end,
})
