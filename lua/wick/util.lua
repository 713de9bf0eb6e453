-- Small helpers shared by wick's Lua modules: shell quoting, whole-file reads, the edit
-- distance behind "did you mean" suggestions, and errors that add context yet keep their
-- traceback.
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
