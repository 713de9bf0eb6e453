-- wick.config: YAML configs (load, loads, dump; parsing and emitting are C, src/io/yaml.c) and
-- the merge policy of `wick run`: defaults <- --config files <- key.sub=value overrides.
--
-- YAML null loads as nil, so a map key whose value is null is absent, unless {keep_null = true}
-- keeps it as the sentinel wick.config.null (the recipe runner does, to know every key the
-- defaults declare). In sequences null is always wick.config.null, which keeps positions.
-- Map keys that are plain integers load as Lua integers ({0: cat} -> t[0]); any other scalar key
-- loads as the string written (true: x -> t["true"]).
local core = require("wick.core")

local config = {}
config.null = core.config_null

local util = require("wick.util")
-- the one option checker and its suggestion rule live in wick.util (kept here for callers)
config.suggest, config.check_options = util.suggest, util.check_options

-- wick.config.loads(text, {keep_null, name}): the value of one YAML document (nil when empty).
function config.loads(text, opts)
  opts = util.check_options("config.loads", opts, { "keep_null", "name" })
  if type(text) ~= "string" then error("config.loads: expected a string (got " .. type(text) .. ")", 0) end
  return core.config_loads(text, opts.name, opts.keep_null)
end

-- wick.config.load(path, {keep_null}): raises when the file is missing or malformed; messages
-- name the file, line and column.
function config.load(path, opts)
  opts = util.check_options("config.load", opts, { "keep_null" })
  if type(path) ~= "string" then error("config.load: expected a path (got " .. type(path) .. ")", 0) end
  return core.config_load(path, opts.keep_null)
end

-- wick.config.dump(value) -> block-style YAML, keys sorted; a table with keys 1..n is a
-- sequence, an empty table is {}; config.load(path) of the text gives the value back.
function config.dump(value)
  return core.config_dump(value)
end

-- ---- merging ----

local function is_list(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

-- "integer", "float", "string", "boolean", "null", "list", "map", "empty" (an empty table).
function config.kind(v)
  if v == config.null then return "null" end
  local t = type(v)
  if t == "number" then return math.type(v) end
  if t == "table" then
    if next(v) == nil then return "empty" end
    return is_list(v) and "list" or "map"
  end
  return t
end

function config.copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = config.copy(x) end
  return c
end

-- Removes wick.config.null values from maps (their keys become absent), recursively.
function config.strip_nulls(v)
  if type(v) ~= "table" then return v end
  local list = is_list(v)
  local c = {}
  for k, x in pairs(v) do
    if list or x ~= config.null then c[k] = config.strip_nulls(x) end
  end
  return c
end

local function describe(v)
  local k = config.kind(v)
  if k == "string" then return string.format("string '%s'", v) end
  if k == "integer" then return "integer " .. v end
  if k == "float" then return "number " .. tostring(v) end
  if k == "boolean" then return "boolean " .. tostring(v) end
  if k == "empty" then return "an empty table" end
  return k
end

local function mismatch(path, expects, v)
  error(string.format("config key '%s' expects %s, got %s", path, expects, describe(v)), 0)
end

local function join(prefix, k)
  return prefix == "" and tostring(k) or prefix .. "." .. tostring(k)
end

local function map_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

local function unknown(path, prefix, key, defaults)
  local keys = map_keys(defaults)
  local s = util.suggest(tostring(key), keys)
  error(string.format("unknown config key '%s'%s", path,
    s and string.format(" (did you mean '%s'?)", join(prefix, s)) or ""), 0)
end

local merge

-- Keys the defaults declare are the schema: a table of defaults that is empty or null (or
-- anything under one) is open and takes any keys.
local function is_open(schema)
  local k = config.kind(schema)
  return schema == nil or k == "null" or k == "empty"
end

local function sub_schema(schema, k)
  if is_open(schema) or type(schema) ~= "table" then return nil end
  return schema[k]
end

-- The value to store for `path` when `v` is given where the current value is `d`. Only what is
-- clearly wrong is an error: an integer is fine for a float (it becomes a float), a number for
-- a string is its text (`raw` when it came from the command line), null is fine anywhere.
local function coerce(path, d, v, raw, schema)
  local dk, vk = config.kind(d), config.kind(v)
  if d == nil or dk == "null" or vk == "null" then return config.copy(v) end
  if dk == "float" then
    if vk == "integer" then return v + 0.0 end
    if vk ~= "float" then mismatch(path, "a number", v) end
    return v
  elseif dk == "integer" then
    if vk == "float" and math.tointeger(v) then return math.tointeger(v) end
    if vk ~= "integer" then mismatch(path, "an integer", v) end
    return v
  elseif dk == "boolean" then
    if vk ~= "boolean" then mismatch(path, "a boolean", v) end
    return v
  elseif dk == "string" then
    if vk == "integer" or vk == "float" or vk == "boolean" then return raw or tostring(v) end
    if vk ~= "string" then mismatch(path, "a string", v) end
    return v
  elseif dk == "list" then
    if vk ~= "list" and vk ~= "empty" then mismatch(path, "a list", v) end
    return config.copy(v)
  elseif dk == "map" then
    if vk ~= "map" and vk ~= "empty" then mismatch(path, "a table", v) end
    return merge(d, v, path, schema)
  elseif dk == "empty" then
    if type(v) ~= "table" then mismatch(path, "a table", v) end
    return config.copy(v)
  end
  return config.copy(v)
end

-- The key of map t that the text segment names: an integer key when t has one.
local function find_key(t, seg)
  local i = math.tointeger(tonumber(seg))
  if i and tostring(i) == seg and t[i] ~= nil then return i end
  return seg
end

-- A new table: base deep-merged with over (maps merge, lists and scalars are replaced). Keys
-- the schema does not declare are errors, with a suggestion.
function merge(base, over, prefix, schema)
  local out = config.copy(base)
  local open = is_open(schema)
  local keys = {}
  for k in pairs(over) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local path = join(prefix, k)
    if not open and schema[k] == nil then unknown(path, prefix, k, schema) end
    out[k] = coerce(path, base[k], over[k], nil, sub_schema(schema, k))
  end
  return out
end

-- config.merge(base, over, schema) -> a merged copy; schema (the defaults, default base)
-- says which keys exist. Errors are plain messages naming the dotted key.
function config.merge(base, over, schema)
  if over == nil or over == config.null then return config.copy(base) end
  if config.kind(over) ~= "map" and config.kind(over) ~= "empty" then
    error("a config must be a mapping of keys to values, got " .. describe(over), 0)
  end
  if schema == nil then schema = base end
  return merge(base, over, "", schema)
end

-- Splits "a.b=text" into "a.b", the YAML-typed value and the raw text.
function config.parse_override(s)
  local key, text = s:match("^([^=]+)=(.*)$")
  if not key or key:find("^%.") or key:find("%.$") or key:find("%.%.") or key:find("%s") then
    error(string.format("bad override '%s' (expected key=value, e.g. lr=0.1 or optim.momentum=0.9)", s), 0)
  end
  local ok, v = pcall(config.loads, text, { keep_null = true })
  if not ok then error(string.format("override '%s': %s", s, v), 0) end
  if v == nil then v = config.null end
  return key, v, text
end

-- Sets the dotted key of cfg in place, checked like merge against schema (default cfg).
function config.set(cfg, key, value, raw, schema)
  if schema == nil then schema = cfg end
  local t, s, prefix = cfg, schema, ""
  local segs = {}
  for seg in key:gmatch("[^.]+") do segs[#segs + 1] = seg end
  for i = 1, #segs do
    local k = find_key(t, segs[i])
    local path = join(prefix, k)
    if not is_open(s) and s[k] == nil then unknown(path, prefix, k, s) end
    if i == #segs then
      t[k] = coerce(path, t[k], value, raw, sub_schema(s, k))
      break
    end
    local sub, sk = t[k], config.kind(t[k])
    if sub == nil or sk == "null" or sk == "empty" then
      sub = {}
      t[k] = sub
    elseif sk ~= "map" then
      error(string.format("config key '%s' is %s, not a table (cannot set '%s')", path, describe(sub), key), 0)
    end
    t, s, prefix = sub, sub_schema(s, k), path
  end
  return cfg
end

return config
