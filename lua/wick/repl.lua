-- The REPL's policy (src/host/repl.c does the terminal): compiling input and spotting incomplete
-- statements, showing values, completion candidates, prompts, banner and history location.
local M = {}

-- How values are shown: nesting depth, entries per table, line width.
M.options = { max_depth = 4, max_items = 100, width = 80 }

-- help(f) in the REPL: the function's section of docs/ (wick.help)
if rawget(_G, "help") == nil then rawset(_G, "help", function(f) return require("wick.help").help(f) end) end

function M.banner()
  local wick = require("wick")
  return string.format("wick %s (%s) — tensors, autograd, distributed training. Ctrl-D to exit.",
    wick.__version__, _VERSION)
end

-- _PROMPT / _PROMPT2 override the prompts, as in lua.c.
function M.prompt(continuation)
  local p = rawget(_G, continuation and "_PROMPT2" or "_PROMPT")
  if p ~= nil then return tostring(p) end
  return continuation and ">> " or "> "
end

-- The history file: $WICK_HISTORY (empty: no history file), else ~/.wick_history; nil when
-- there is no home directory to keep it in.
function M.history_path(getenv)
  getenv = getenv or os.getenv
  local p = getenv("WICK_HISTORY")
  if p ~= nil then return p ~= "" and p or nil end
  local home = getenv("HOME")
  if home == nil or home == "" then return nil end
  return (home:gsub("/+$", "")) .. "/.wick_history"
end

-- Compiles a statement like lua.c: as an expression first (so its value is shown), then as a
-- statement. Returns the function, or nil, message, incomplete (true when more lines may
-- complete it: the parser stopped at the end of the input).
function M.compile(src, chunkname)
  chunkname = chunkname or "=stdin"
  local fn = load("return " .. src, chunkname, "t")
  if fn then return fn end
  local err
  fn, err = load(src, chunkname, "t")
  if fn then return fn end
  if err:sub(-5) == "<eof>" then return nil, err, true end
  return nil, err
end

-- ---- showing values ----

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[s]
end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local KEY_ORDER = { number = 1, string = 2, boolean = 3 }
local function key_less(a, b)
  local ta, tb = KEY_ORDER[type(a)] or 4, KEY_ORDER[type(b)] or 4
  if ta ~= tb then return ta < tb end
  if ta <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local repr

-- Lays items out on lines of the given width. Items come with absolute indentation on their
-- continuation lines; one with a newline gets lines of its own.
local function block(items, indent)
  local pad = string.rep(" ", indent + 2)
  local width = M.options.width
  local lines, cur = {}, nil
  for _, it in ipairs(items) do
    local text = it .. ","
    if text:find("\n") then
      if cur then lines[#lines + 1] = cur; cur = nil end
      lines[#lines + 1] = pad .. text
    elseif cur and #cur + 1 + #text <= width then
      cur = cur .. " " .. text
    else
      if cur then lines[#lines + 1] = cur end
      cur = pad .. text
    end
  end
  if cur then lines[#lines + 1] = cur end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. string.rep(" ", indent) .. "}"
end

local function table_repr(t, indent, depth, path, col)
  if path[t] then return "<cycle>" end
  if next(t) == nil then return "{}" end
  if depth >= M.options.max_depth then return "{...}" end
  path[t] = true
  local items, max = {}, M.options.max_items
  local n = rawlen(t)
  local shown = 0
  for i = 1, n do
    if shown == max then break end
    items[#items + 1] = repr(rawget(t, i), indent + 2, depth + 1, path, indent + 2)
    shown = shown + 1
  end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  for _, k in ipairs(keys) do
    if shown == max then break end
    local ks = (is_identifier(k) and k or "[" .. repr(k, indent + 2, depth + 1, path, indent + 3) .. "]") .. " = "
    items[#items + 1] = ks .. repr(rawget(t, k), indent + 2, depth + 1, path, indent + 2 + #ks)
    shown = shown + 1
  end
  local total = n + #keys
  if total > shown then items[#items + 1] = string.format("... (%d more)", total - shown) end
  path[t] = nil
  local line = "{" .. table.concat(items, ", ") .. "}"
  if not line:find("\n") and col + #line <= M.options.width then return line end
  return block(items, indent)
end

-- v shown at column `col` of a line indented by `indent`: nested tables lay themselves out
-- from `indent`, other multi-line text (a tensor) is shifted to line up under its start.
function repr(v, indent, depth, path, col)
  local tv = type(v)
  if tv == "string" then return quote(v) end
  if has_tostring(v) then
    local ok, s = pcall(tostring, v)
    if not ok or type(s) ~= "string" then return "<error in __tostring: " .. tostring(s) .. ">" end
    return col > 0 and (s:gsub("\n", "\n" .. string.rep(" ", col))) or s
  end
  if tv == "table" then return table_repr(v, indent, depth, path, col) end
  return (tostring(v):gsub("\n", "\n" .. string.rep(" ", col)))
end

-- One value as the REPL shows it: strings as they are (like lua.c's print), everything else
-- as a readable literal; tensors through their __tostring.
function M.show(v)
  if type(v) == "string" then return v end
  return repr(v, 0, 0, {}, 0)
end

-- A value as a readable literal (strings quoted).
function M.repr(v) return repr(v, 0, 0, {}, 0) end

-- The line printed for a statement's results, or nil when there are none.
function M.format_results(...)
  local n = select("#", ...)
  if n == 0 then return nil end
  local out = {}
  for i = 1, n do out[i] = M.show((select(i, ...))) end
  return table.concat(out, "\t")
end

-- ---- completion ----

local TENSOR_PROPERTIES = { "shape", "dtype", "device", "ndim", "T", "is_cuda" }

local function safe_index(v, k)
  if type(v) == "table" then
    local r = rawget(v, k)
    if r ~= nil then return r end
  end
  local ok, r = pcall(function() return v[k] end)
  if ok then return r end
end

-- Names reachable from v with "." (or ":" when methods_only).
local function field_names(v, methods_only)
  local names = {}
  local function add(k, val)
    if type(k) == "string" and (not methods_only or type(val) == "function") then names[k] = true end
  end
  local function add_table(t, depth)
    for k, val in next, t do add(k, val) end
    local mt = getmetatable(t)
    if depth < 5 and type(mt) == "table" and type(rawget(mt, "__index")) == "table" then
      add_table(rawget(mt, "__index"), depth + 1)
    end
  end
  local wick = package.loaded.wick
  if type(v) == "table" then
    add_table(v, 0)
    -- an instance whose class looks fields up with a function (nn.Module): the methods of the
    -- class and its parents, and a module's parameters, buffers, children and attributes
    local mt = getmetatable(v)
    if type(mt) == "table" and rawget(mt, "__name") and type(rawget(mt, "__index")) == "function" then
      local c = mt
      while type(c) == "table" do
        add_table(c, 5)
        c = rawget(c, "super")
      end
      local Module = package.loaded["wick.nn.module"]
      if Module and Module.is_module(v) then
        local s = Module._state(v)
        for _, map in ipairs { s.params, s.buffers, s.modules, s.attrs } do
          for k, val in pairs(map) do add(k, val) end
        end
        for _, k in ipairs { "Parameter", "is_module", "type_name", "glob_matches" } do names[k] = nil end -- not methods
      end
    end
    names.super = nil -- the class chain's link, not an API
  elseif type(v) == "string" then
    add_table(string, 0)
  elseif wick and wick.is_tensor and wick.is_tensor(v) then
    add_table(wick.Tensor, 0)
    if not methods_only then
      for _, p in ipairs(TENSOR_PROPERTIES) do names[p] = true end
      if type(wick._tensor_getters) == "table" then
        for k in pairs(wick._tensor_getters) do add(k, true) end
      end
    end
  else
    local mt = getmetatable(v)
    if type(mt) == "table" and type(rawget(mt, "__index")) == "table" then
      add_table(rawget(mt, "__index"), 0)
    end
  end
  return names
end

-- Completion of the word before the cursor: returns the candidates (whole words, sorted) and
-- the word they replace. "wick.ze" -> {"wick.zeros", "wick.zeros_like"}, "wick.ze".
function M.complete(line, env)
  env = env or _G
  local word = line:match("[%w_%.:]*$")
  if word == "" and line:match("^%s*$") then return { "  " }, "" end -- Tab indents
  if word:match("^[%d%.:]") then return {}, word end
  local prefix, sep, partial = word:match("^(.-)([%.:])([%w_]*)$")
  local names, show_private
  if not prefix then
    partial = word
    names = field_names(env, false)
    for k in pairs(KEYWORDS) do names[k] = true end
  else
    if prefix:find(":") then return {}, word end
    local v = env
    for part in (prefix .. "."):gmatch("(.-)%.") do
      if not is_identifier(part) then return {}, word end
      v = safe_index(v, part)
      if v == nil then return {}, word end
    end
    names = field_names(v, sep == ":")
  end
  show_private = partial:sub(1, 1) == "_"
  local out = {}
  for k in pairs(names) do
    if k:sub(1, #partial) == partial and k:match("^[%a_][%w_]*$")
      and (show_private or k:sub(1, 1) ~= "_") then
      out[#out + 1] = prefix and (prefix .. sep .. k) or k
    end
  end
  table.sort(out)
  return out, word
end

-- Candidates laid out in columns for a terminal `width` wide.
function M.columns(cands, width)
  width = (width and width > 0) and width or M.options.width
  local w = 0
  for _, c in ipairs(cands) do w = math.max(w, #c) end
  w = w + 2
  local ncol = math.max(1, width // w)
  local nrow = (#cands + ncol - 1) // ncol
  local lines = {}
  for r = 1, nrow do
    local cells = {}
    for c = 1, ncol do
      local s = cands[(c - 1) * nrow + r]
      if s then cells[#cells + 1] = s .. string.rep(" ", w - #s) end
    end
    lines[r] = (table.concat(cells):gsub("%s+$", ""))
  end
  return table.concat(lines, "\n")
end

return M
