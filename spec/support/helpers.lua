-- Helpers shared by the specs: where the wick binary is, running commands, temp files.
local M = {}
local assert = require("luassert")

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
