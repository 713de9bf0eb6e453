-- Small helpers shared by wick's Lua modules: shell quoting, whole-file reads, the one option
-- checker (with the "did you mean" rule every error about a name uses), and errors that add
-- context yet keep their traceback.
local util = {}

-- s as one single-quoted shell word (embedded quotes escaped).
function util.shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The whole content of the file at path, or nil when it cannot be opened.
function util.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Damerau-Levenshtein distance between strings a and b (a swap of neighbours is one edit).
function util.edit_distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

-- The candidate closest to name (within a third of its length, at least 2 edits; ties go to
-- the first in alphabetical order), else the shortest candidate that name begins (--nproc ->
-- --nproc-per-node), or nil.
function util.suggest(name, candidates)
  local best, bestd = nil, math.max(2, #name // 3) + 1
  for _, c in ipairs(candidates) do
    local dd = util.edit_distance(name, c)
    if dd < bestd or (dd == bestd and best and c < best) then best, bestd = c, dd end
  end
  if best or #name < 3 then return best end
  for _, c in ipairs(candidates) do
    if c:sub(1, #name) == name and (not best or #c < #best) then best = c end
  end
  return best
end

-- "a", "a or b", "a, b or c"
local function one_of(names)
  if #names == 1 then return names[1] end
  return table.concat(names, ", ", 1, #names - 1) .. " or " .. names[#names]
end

-- util.check_options(fn, opts, allowed) -> opts, or {} when opts is nil. allowed lists the
-- option names (an array, or a set {name = true}). Every options table of wick is checked
-- here, the C bindings' too (src/lua/l_aux.c: l_checkoptions), so one rule and one wording:
--   "<fn>: options must be a table (got number)"
--   "<fn>: unexpected positional value in the options table"
--   "<fn>: unknown option 'x' (did you mean 'y'?)", or without a close name
--   "<fn>: unknown option 'x' (expected a, b or c)"
function util.check_options(fn, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(("%s: options must be a table (got %s)"):format(fn, type(opts)), 0) end
  local names, known = allowed, {}
  if allowed[1] == nil then -- a set
    names = {}
    for k in pairs(allowed) do names[#names + 1] = k end
    table.sort(names)
  end
  for _, k in ipairs(names) do known[k] = true end
  for k in pairs(opts) do
    if type(k) ~= "string" then error(fn .. ": unexpected positional value in the options table", 0) end
    if not known[k] then
      local s = util.suggest(k, names)
      local hint = s and ("did you mean '" .. s .. "'?") or #names > 0 and ("expected " .. one_of(names))
      error(("%s: unknown option '%s'%s"):format(fn, k, hint and " (" .. hint .. ")" or ""), 0)
    end
  end
  return opts
end

-- ---- context for errors of a callee (torch/nn Container.lua: rethrowErrors) ----

-- Where the message handler leaves the traceback of an error at the point it was raised; the
-- host (src/host/main.c: msghandler) prints it for an error rethrown with that message.
local TRACEBACK_KEY = "wick.error_traceback"

-- Runs before the stack unwinds. A rethrow by an inner call_in keeps the traceback it has.
local function keep_traceback(e)
  if type(e) ~= "string" then return e end
  local reg = debug.getregistry()
  local last = reg[TRACEBACK_KEY]
  if last and last.rethrown and last.msg == e then
    last.rethrown = false
  else
    reg[TRACEBACK_KEY] = { msg = e, traceback = debug.traceback(nil, 2) }
  end
  return e
end

-- util.call_in(wrap, f, ...) returns f(...)'s first result; an error message e raised inside is
-- raised again as wrap(e) ("Sequential[2] (Linear): " .. e), and an uncaught one still shows the
-- traceback of where e was raised. Error objects and Ctrl-C pass through untouched.
function util.call_in(wrap, f, ...)
  local ok, y = xpcall(f, keep_traceback, ...)
  if ok then return y end
  if type(y) ~= "string" or y:sub(-12) == "interrupted!" then error(y, 0) end
  local msg = wrap(y)
  local last = debug.getregistry()[TRACEBACK_KEY]
  if last and last.msg == y then last.msg, last.rethrown = msg, true end
  error(msg, 0)
end

return util
