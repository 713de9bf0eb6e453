-- Helpers shared by the specs: numbers within tolerance, errors, where the wick binary is,
-- running commands, temp files.
local M = {}
local assert = require("luassert")

-- near(got, want, tol, what): numbers (or nested lists of them) equal within tol relative to
-- max(1, |want|); NaN matches NaN and infinities match themselves. Raises naming the first
-- element that differs.
function M.near(a, b, tol, what, path)
  tol = tol or 1e-6
  if type(b) == "table" then
    if type(a) ~= "table" or #a ~= #b then
      error(("%s%s: %s elements, expected %d"):format(what or "", path or "", type(a) == "table" and #a or type(a), #b), 2)
    end
    for i = 1, #b do M.near(a[i], b[i], tol, what, (path or "") .. "[" .. (i - 1) .. "]") end
    return
  end
  local ok
  if b ~= b then ok = a ~= a
  elseif b == math.huge or b == -math.huge then ok = a == b
  else ok = type(a) == "number" and math.abs(a - b) <= tol * math.max(1, math.abs(b)) end
  local function show(v) return type(v) == "number" and ("%.12g"):format(v) or tostring(v) end
  if not ok then error(("%s%s: %s vs %s"):format(what or "", path or "", show(a), show(b)), 2) end
end

-- Calls fn(...), asserts that it raised, and returns the error message.
function M.err(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return msg
end

-- The wick binary under test: $WICK_BIN (set by ctest), else the running host itself.
function M.wick_bin()
  local env = os.getenv("WICK_BIN")
  if env and env ~= "" then return env end
  local p = io.popen("readlink /proc/" .. M.pid() .. "/exe")
  local exe = p:read("l")
  p:close()
  return exe
end

function M.pid()
  local f = io.open("/proc/self/stat")
  local pid = f:read("n")
  f:close()
  return pid
end

function M.build_dir()
  return (M.wick_bin():gsub("/[^/]*$", ""))
end

-- Runs a shell command; returns stdout, and the exit code.
function M.run(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- Runs wick with the given shell-quoted argument string; returns stdout, stderr, exit code.
function M.wick(args, stdin)
  local err = os.tmpname()
  local cmd = ("%q %s 2>%q"):format(M.wick_bin(), args, err)
  if stdin then
    local inp = os.tmpname()
    local f = io.open(inp, "w"); f:write(stdin); f:close()
    cmd = cmd .. (" <%q"):format(inp)
  end
  local out, code = M.run(cmd)
  local f = io.open(err); local e = f:read("a"); f:close()
  os.remove(err)
  return out, e, code
end

-- s as one single-quoted shell word; the whole content of a file (nil when it cannot be opened).
M.quote = require("wick.util").shell_quote
M.read_file = require("wick.util").read_file

function M.tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute(("mkdir -p %q"):format(d)))
  return d
end

function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

return M
