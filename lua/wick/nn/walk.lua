-- Module methods that walk the tree: children, modules (pre-order, PyTorch's dotted names),
-- parameters and buffers by kind, train/eval and apply.
local list = require("wick.nn.list")

return function(Module)
  local state = Module._state

  function Module:named_children()
    local s, out = state(self), {}
    for _, n in ipairs(s.module_names) do out[#out + 1] = { n, s.modules[n] } end
    return list.pairs(out)
  end

  function Module:children()
    local s, out = state(self), {}
    for _, n in ipairs(s.module_names) do out[#out + 1] = s.modules[n] end
    return list.values(out)
  end

  -- Pre-order, each module once (a shared module keeps its first name); the root is named "".
  function Module:named_modules(prefix)
    local out, seen = {}, {}
    local function walk(m, p)
      if seen[m] then return end
      seen[m] = true
      out[#out + 1] = { p, m }
      local s = state(m)
      for _, n in ipairs(s.module_names) do walk(s.modules[n], p == "" and n or (p .. "." .. n)) end
    end
    walk(self, prefix or "")
    return list.pairs(out)
  end

  function Module:modules()
    local out = {}
    for _, item in ipairs(self:named_modules()) do out[#out + 1] = item[2] end
    return list.values(out)
  end

  -- {name, tensor} of kind "params" or "buffers", each tensor once, in registration order.
  function Module:_named(kind, recurse, persistent_only)
    local out, seen = {}, {}
    local mods = recurse == false and { { "", self } } or self:named_modules()
    for _, item in ipairs(mods) do
      local prefix, s = item[1], state(item[2])
      for _, n in ipairs(s[kind == "params" and "param_names" or "buffer_names"]) do
        local t = s[kind][n]
        if not seen[t] and not (persistent_only and s.nonpersistent[n]) then
          seen[t] = true
          out[#out + 1] = { prefix == "" and n or (prefix .. "." .. n), t }
        end
      end
    end
    return out
  end

  function Module:named_buffers(opts)
    return list.pairs(self:_named("buffers", not (opts and opts.recurse == false)))
  end

  function Module:buffers(opts)
    local out = {}
    for _, item in ipairs(self:named_buffers(opts)) do out[#out + 1] = item[2] end
    return list.values(out)
  end

  -- train(mode = true) / eval(): sets `training` on every module; returns self.
  function Module:train(mode)
    if mode == nil then mode = true end
    if type(mode) ~= "boolean" then error("train: mode must be a boolean (got " .. type(mode) .. ")", 0) end
    -- BatchNorm layers frozen with freeze(..., {bn_eval = true}) stay in eval mode.
    for m in self:modules() do state(m).attrs.training = mode and not state(m).attrs._bn_eval end
    return self
  end

  function Module:eval() return self:train(false) end

  -- apply(fn): fn(m) for every child (recursively), then self, as PyTorch; returns self.
  function Module:apply(fn)
    for c in self:children() do c:apply(fn) end
    fn(self)
    return self
  end

  -- get_submodule("layer1.0.conv1"): the module at a dotted path ("" is self).
  function Module:get_submodule(target)
    local m = self
    if target == "" then return m end
    for part in (target .. "."):gmatch("([^.]*)%.") do
      local child = state(m).modules[part]
      if not child then
        error(("get_submodule: %s has no attribute '%s' (in '%s')"):format(m:type_name(), part, target), 0)
      end
      m = child
    end
    return m
  end

  -- get_parameter("layer1.0.conv1.weight")
  function Module:get_parameter(target)
    local path, name = target:match("^(.*)%.([^.]*)$")
    local m = self:get_submodule(path or "")
    local p = state(m).params[name or target]
    if not p then error(("get_parameter: %s has no parameter '%s'"):format(m:type_name(), name or target), 0) end
    return p
  end
end
