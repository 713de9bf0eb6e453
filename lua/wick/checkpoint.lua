-- wick.checkpoint.save/load: model + optimizer + scheduler + counters + RNG states in one
-- safetensors file (tensors, and a YAML description in the metadata), written atomically, with
-- a CRC-32C of every tensor checked on load. The layout is documented in docs/checkpoints.md.
local wick = require("wick")
local config = require("wick.config")

local M = {}

local FORMAT = "wick.checkpoint"
local VERSION = "1"
local RESERVED = { model = true, optimizer = true, scheduler = true, loader = true, generators = true }

local is_tensor = wick.is_tensor

local function fail(op, fmt, ...) error(op .. ": " .. fmt:format(...), 0) end

-- The checksum of a tensor's data: "crc32c:" and 8 hex digits (a string to YAML, whatever the digits).
local function checksum(t)
  if t.device ~= "cpu" then t = t:to("cpu") end
  return string.format("crc32c:%08x", wick._crc32c(t))
end

-- tensor -> parameter name in the model (the name is what optimizer state is keyed by, so that
-- it survives a reordering of the parameters or of the optimizer's list).
local function model_names(model)
  local names = {}
  if model then
    for _, item in ipairs(model:named_parameters()) do
      if names[item[2]] == nil then names[item[2]] = item[1] end
    end
  end
  return names
end

-- The identity of each optimizer parameter: its model name, else the optimizer's own name for
-- it (named param groups), else "#<position>" (PyTorch's packing over all groups).
local function idents(opt, model)
  local names, keys, out = model_names(model), opt:_param_keys(), {}
  for p, key in pairs(keys) do
    out[p] = names[p] or (type(key) == "string" and key) or ("#" .. tostring(key))
  end
  return out, keys
end

local function check_generator(op, what, g)
  if type(g) ~= "userdata" or not pcall(function() return g.get_state end) or not g.get_state then
    fail(op, "%s must be a wick.Generator (got %s)", what, type(g))
  end
  return g
end

-- name -> generator for the RNG states beyond the default generator's.
local function generators(op, spec)
  local out = {}
  if spec.loader ~= nil then
    local loader = spec.loader
    if type(loader) ~= "table" then fail(op, "loader must be a DataLoader (got %s)", type(loader)) end
    if loader.generator then out.loader = check_generator(op, "loader.generator", loader.generator) end
    local s = loader.sampler
    if type(s) == "table" and s.generator and not rawequal(s.generator, loader.generator) then
      out.sampler = check_generator(op, "loader.sampler.generator", s.generator)
    end
  end
  if spec.generators ~= nil then
    if type(spec.generators) ~= "table" then fail(op, "generators must be a table name -> wick.Generator (got %s)", type(spec.generators)) end
    for k, g in pairs(spec.generators) do
      if type(k) ~= "string" then fail(op, "generators must be a table name -> wick.Generator") end
      if out[k] then fail(op, "generators: '%s' is already taken by the loader's generator", k) end
      out[k] = check_generator(op, "generators." .. k, g)
    end
  end
  return out
end

-- save(path, {model, optimizer, scheduler, loader, generators, epoch, step, ...}): any other
-- field must be a number, a string or a boolean and comes back from load as a counter.
function M.save(path, spec)
  local op = "checkpoint.save"
  if type(path) ~= "string" then fail(op, "path must be a string (got %s)", type(path)) end
  if type(spec) ~= "table" then fail(op, "expected a table {model = ..., optimizer = ..., epoch = ...} (got %s)", type(spec)) end
  local tensors, meta = {}, { counters = {}, rng = {} }
  for k, v in pairs(spec) do
    if not RESERVED[k] then
      if type(k) ~= "string" then fail(op, "counter names must be strings (got a %s key)", type(k)) end
      local t = type(v)
      if t ~= "number" and t ~= "string" and t ~= "boolean" then
        fail(op, "'%s' must be a number, a string or a boolean (got %s)", k, is_tensor(v) and "a tensor" or t)
      end
      meta.counters[k] = v
    end
  end
  if spec.model ~= nil then
    local keys = {}
    local sd = spec.model:state_dict()
    for _, k in ipairs(sd:keys()) do
      tensors["model." .. k] = sd[k]
      keys[#keys + 1] = k
    end
    meta.model = keys
  end
  if spec.optimizer ~= nil then
    local opt = spec.optimizer
    local ids, keys = idents(opt, spec.model)
    local sd = opt:state_dict()
    local by_key = {}
    for p, key in pairs(keys) do by_key[key] = ids[p] end
    local o = { groups = {}, state = {} }
    for i, g in ipairs(opt.param_groups) do
      local out = {}
      for k, v in pairs(sd.param_groups[i]) do if k ~= "params" then out[k] = v end end
      local params = {}
      for j, p in ipairs(g.params) do params[j] = ids[p] end
      out.params = params
      o.groups[i] = out
    end
    for key, s in pairs(sd.state) do
      local id = by_key[key]
      local entry = { tensors = {}, values = {} }
      for k, v in pairs(s) do
        if is_tensor(v) then
          tensors["optimizer.state." .. id .. "." .. k] = v
          entry.tensors[#entry.tensors + 1] = k
        else
          entry.values[k] = v
        end
      end
      table.sort(entry.tensors)
      o.state[id] = entry
    end
    meta.optimizer = o
  end
  if spec.scheduler ~= nil then meta.scheduler = spec.scheduler:state_dict() end
  tensors["rng.default"] = wick.get_rng_state()
  meta.rng[1] = "default"
  for name, g in pairs(generators(op, spec)) do
    tensors["rng." .. name] = g:get_state()
    meta.rng[#meta.rng + 1] = name
  end
  meta.checksums = {}
  for name, t in pairs(tensors) do meta.checksums[name] = checksum(t) end
  wick.save(path, tensors, { metadata = { format = FORMAT, version = VERSION, [FORMAT] = config.dump(meta) } })
  return path
end

local function restore_optimizer(op, opt, model, o, tensors)
  local ids, keys = idents(opt, model)
  local by_id = {}
  for p, id in pairs(ids) do by_id[id] = p end
  if #o.groups ~= #opt.param_groups then
    fail(op, "the checkpoint's optimizer has %d parameter group(s), this one has %d", #o.groups, #opt.param_groups)
  end
  local sd = { state = {}, param_groups = {} }
  for i, g in ipairs(opt.param_groups) do
    local saved = o.groups[i]
    local want = {}
    for _, id in ipairs(saved.params) do want[id] = true end
    local params = {}
    for j, p in ipairs(g.params) do
      if not want[ids[p]] then
        fail(op, "parameter '%s' of optimizer group %d is not in the checkpoint's group", ids[p], i - 1)
      end
      params[j] = keys[p]
    end
    if #saved.params ~= #g.params then
      fail(op, "optimizer group %d has %d parameters, the checkpoint's has %d", i - 1, #g.params, #saved.params)
    end
    local out = {}
    for k, v in pairs(saved) do if k ~= "params" then out[k] = v end end
    out.params = params
    sd.param_groups[i] = out
  end
  for id, entry in pairs(o.state) do
    local p = by_id[id]
    if p == nil then fail(op, "the checkpoint has optimizer state for parameter '%s', which the optimizer does not have", id) end
    local s = {}
    for k, v in pairs(entry.values or {}) do s[k] = v end
    for _, k in ipairs(entry.tensors or {}) do
      local t = tensors["optimizer.state." .. id .. "." .. k]
      if not t then fail(op, "the checkpoint lacks tensor 'optimizer.state.%s.%s'", id, k) end
      s[k] = t
    end
    sd.state[keys[p]] = s
  end
  opt:load_state_dict(sd)
end

-- The tensors and the description of the checkpoint at path, checked.
local function read(op, path)
  local tensors, md = wick.load(path)
  if not md or md.format ~= FORMAT or not md[FORMAT] then
    fail(op, "'%s' is not a wick checkpoint (no '%s' metadata)", path, FORMAT)
  end
  if md.version ~= VERSION then fail(op, "'%s' has checkpoint version %s (this wick reads %s)", path, tostring(md.version), VERSION) end
  local ok, meta = pcall(config.loads, md[FORMAT])
  if not ok or type(meta) ~= "table" then fail(op, "'%s' has an unreadable '%s' description", path, FORMAT) end
  -- every tensor against its checksum (checkpoints written before checksums have none), in name
  -- order so that the first corrupt tensor named is always the same
  if type(meta.checksums) == "table" then
    local names = {}
    for name in pairs(tensors) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local want = meta.checksums[name]
      if want == nil then fail(op, "'%s': tensor '%s' has no checksum", path, name) end
      local got = checksum(tensors[name])
      if got ~= tostring(want) then
        fail(op, "'%s': tensor '%s' is corrupt (checksum %s, expected %s)", path, name, got, tostring(want))
      end
    end
  end
  return tensors, meta
end

-- counters(path) -> the counters saved in the checkpoint at path (epoch, step, ...), after
-- reading and checking the whole file (`wick run --resume` checks its checkpoint with it).
function M.counters(path)
  if type(path) ~= "string" then fail("checkpoint.counters", "path must be a string (got %s)", type(path)) end
  local _, meta = read("checkpoint.counters", path)
  return meta.counters or {}
end

-- load(path, {model, optimizer, scheduler, loader, generators, strict = true, rng = true}) ->
-- the counters (epoch, step and the other plain values given to save).
function M.load(path, spec)
  local op = "checkpoint.load"
  if type(path) ~= "string" then fail(op, "path must be a string (got %s)", type(path)) end
  spec = spec or {}
  if type(spec) ~= "table" then fail(op, "expected a table {model = ..., optimizer = ...} (got %s)", type(spec)) end
  for k in pairs(spec) do
    if not RESERVED[k] and k ~= "strict" and k ~= "rng" then
      fail(op, "unknown field '%s' (expected model, optimizer, scheduler, loader, generators, strict, rng)", tostring(k))
    end
  end
  local tensors, meta = read(op, path)
  local gens = generators(op, spec)
  -- check everything that can be checked before changing anything
  local function need(what) if meta[what] == nil then fail(op, "'%s' holds no %s state", path, what) end end
  if spec.optimizer ~= nil then need("optimizer") end
  if spec.scheduler ~= nil then need("scheduler") end
  for name in pairs(gens) do
    if not tensors["rng." .. name] then fail(op, "'%s' holds no RNG state '%s'", path, name) end
  end
  if spec.model ~= nil then
    need("model")
    local sd = {}
    for _, k in ipairs(meta.model) do
      sd[k] = tensors["model." .. k] or fail(op, "the checkpoint lacks tensor 'model.%s'", k)
    end
    spec.model:load_state_dict(sd, { strict = spec.strict ~= false })
  end
  if spec.optimizer ~= nil then restore_optimizer(op, spec.optimizer, spec.model, meta.optimizer, tensors) end
  if spec.scheduler ~= nil then spec.scheduler:load_state_dict(meta.scheduler) end
  if spec.rng ~= false then
    wick.set_rng_state(tensors["rng.default"])
    for name, g in pairs(gens) do g:set_state(tensors["rng." .. name]) end
  end
  return meta.counters or {}
end

return M
