-- Runs the real wick program as a subprocess for the CLI specs: finds it (WICK_BIN, else the
-- host running the specs, through /proc) and returns its stdout, stderr and exit code.
local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)$") or ""
M.root = here:match("^(.*)/spec/support/[^/]*$") or "."

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.quote = quote

function M.bin()
  local b = os.getenv("WICK_BIN")
  if b and b ~= "" then return b end
  local p = io.popen("readlink /proc/$PPID/exe") -- the shell's parent is this wick process
  local out = p:read("l")
  p:close()
  return out
end

-- run({"run", "recipes/hello.lua", "lr=0.1"}, {cwd = dir, stdin = text}) -> {out, err, code}
function M.run(args, opts)
  opts = opts or {}
  local errfile = os.tmpname()
  local parts = { "cd", quote(opts.cwd or M.root), "&&" }
  -- a spec that picks its working directory expects run directories under it
  if opts.cwd and opts.cwd ~= M.root then for _, w in ipairs { "env", "-u", "WICK_RUNS_DIR" } do parts[#parts + 1] = w end end
  parts[#parts + 1] = quote(M.bin())
  for _, a in ipairs(args) do parts[#parts + 1] = quote(a) end
  parts[#parts + 1] = "2>" .. quote(errfile)
  parts[#parts + 1] = "</dev/null"
  local p = io.popen(table.concat(parts, " "), "r")
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile, "r")
  local err = f and f:read("a") or ""
  if f then f:close() end
  os.remove(errfile)
  return { out = out, err = err, code = code }
end

-- A fresh temporary directory (removed by M.rmdir).
function M.tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("l")
  p:close()
  return d
end

function M.rmdir(d)
  if d and d:match("^/tmp/") then os.execute("rm -rf " .. quote(d)) end
end

function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

return M
