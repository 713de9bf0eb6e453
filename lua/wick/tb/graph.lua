-- SummaryWriter:add_graph: runs the model once and writes its autograd graph as a GraphDef
-- (Event.graph_def) for TensorBoard's graph dashboard: one node per op, named with PyTorch-style
-- module scopes (Sequential/Linear[0]/Mm_3), parameters and IO nodes, edges = data flow.
local core = require("wick.core")
local check = require("wick.tb.check")

local tb = core._tb

-- Autograd nodes are new userdata at each access but compare with ==: a list and a linear
-- search keep them (graphs of a few thousand nodes are fine).
local function index_of(nodes, n)
  for i = 1, #nodes do if nodes[i] == n then return i end end
  return nil
end

-- The AccumulateGrad node of a leaf tensor that requires grad.
local function accumulator(t)
  return core.enable_grad(function() return (t * 1).grad_fn:next_functions()[1][1] end)
end

local function shape_attr(shapes)
  local list = {}
  for i, s in ipairs(shapes) do
    local dims = {}
    for j, d in ipairs(s) do dims[j] = { 2, "msg", { { 1, "int", d } } } end
    list[i] = { 7, "msg", dims } -- ListValue.shape = 7
  end
  return { 5, "msg", { { 1, "bytes", "_output_shapes" }, { 2, "msg", { { 1, "msg", list } } } } }
end

return function(SummaryWriter)
  -- add_graph(model, input_to_model, {verbose}): input_to_model is a tensor or a table of them.
  function SummaryWriter:add_graph(model, input, opts)
    local op = "add_graph"
    local Module = require("wick.nn.module")
    opts = check.options(op, opts, { "verbose" })
    if not Module.is_module(model) then error(op .. ": model must be an nn.Module (got " .. type(model) .. ")", 0) end
    local inputs = core.is_tensor(input) and { input } or input
    if type(inputs) ~= "table" or #inputs == 0 then
      error(op .. ": input_to_model must be a tensor or a table of tensors", 0)
    end
    local nodes, defs = {}, {} -- parallel lists: autograd node, {name, op, shape}
    local function add(n, name, opname, shape)
      nodes[#nodes + 1] = n
      defs[#defs + 1] = { name = name, op = opname, shape = shape }
    end
    local args = {}
    for i, x in ipairs(inputs) do
      if not core.is_tensor(x) then error(("%s: input_to_model[%d] must be a tensor (got %s)"):format(op, i, type(x)), 0) end
      args[i] = x:detach()
      if args[i]:is_floating_point() then
        args[i]:requires_grad_(true)
        add(accumulator(args[i]), "input/input." .. i, "IO Node", args[i].shape)
      end
    end
    -- module scopes (pre-order: a parent before its children), parameters named after them
    local scopes, by_name, hooks = {}, {}, {}
    for _, item in ipairs(model:named_modules()) do
      local name, m = item[1], item[2]
      local tname = Module.type_name(m)
      local scope = tname
      if name ~= "" then
        scope = by_name[name:match("^(.*)%.[^.]*$") or ""] .. "/" .. tname .. "[" .. name:match("([^.]*)$") .. "]"
      end
      by_name[name], scopes[m] = scope, scope
      for _, pi in ipairs(m:named_parameters({ recurse = false })) do
        local p = pi[2]
        if p.requires_grad then
          local acc = accumulator(p)
          if not index_of(nodes, acc) then add(acc, scope .. "/" .. pi[1], "Parameter", p.shape) end
        end
      end
    end
    -- innermost module first: its forward hook runs before its parents'
    local counter = 0
    local function claim(m, out)
      if not core.is_tensor(out) or not out.grad_fn then return end
      local stack = { out.grad_fn }
      local first = true
      while #stack > 0 do
        local n = table.remove(stack)
        if not index_of(nodes, n) then
          counter = counter + 1
          local opname = n:name():gsub("Backward%d*$", "")
          add(n, ("%s/%s_%d"):format(scopes[m], opname, counter), opname, first and out.shape or nil)
          for _, e in ipairs(n:next_functions()) do if e[1] then stack[#stack + 1] = e[1] end end
        end
        first = false
      end
    end
    for m in pairs(scopes) do
      hooks[#hooks + 1] = m:register_forward_hook(function(mod, _, out) claim(mod, out) end)
    end
    local ok, out = pcall(core.enable_grad, function() return model(table.unpack(args)) end)
    for _, h in ipairs(hooks) do h.remove() end
    if not ok then error(op .. ": the model's forward failed: " .. tostring(out), 0) end
    if not core.is_tensor(out) then error(op .. ": the model must return a tensor (got " .. type(out) .. ")", 0) end
    -- edges, then GraphDef{node = 1 repeated NodeDef{name, op, input, attr}, versions = 4{producer 22}}
    local graph = {}
    for i, n in ipairs(nodes) do
      local nd = { { 1, "bytes", defs[i].name }, { 2, "bytes", defs[i].op } }
      if defs[i].op ~= "IO Node" and defs[i].op ~= "Parameter" then
        for _, e in ipairs(n:next_functions()) do
          local j = e[1] and index_of(nodes, e[1])
          if j then nd[#nd + 1] = { 3, "bytes", defs[j].name } end
        end
      end
      if defs[i].shape then nd[#nd + 1] = shape_attr({ defs[i].shape }) end
      graph[#graph + 1] = { 1, "msg", nd }
    end
    local j = out.grad_fn and index_of(nodes, out.grad_fn)
    local onode = { { 1, "bytes", "output/output.1" }, { 2, "bytes", "IO Node" } }
    if j then onode[3] = { 3, "bytes", defs[j].name } end
    onode[#onode + 1] = shape_attr({ out.shape })
    graph[#graph + 1] = { 1, "msg", onode }
    graph[#graph + 1] = { 4, "msg", { { 1, "int", 22 } } }
    if opts.verbose then
      for _, d in ipairs(defs) do print(d.op, d.name) end
    end
    if self._active then self:_file_writer():add_event_bytes(4, tb.encode(graph), 0, tb.now()) end
  end
end
