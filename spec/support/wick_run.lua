-- Runs the real wick program as a subprocess for the CLI specs: finds it (WICK_BIN, else the
-- host running the specs, through /proc) and returns its stdout, stderr and exit code.
local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)$") or ""
M.root = here:match("^(.*)/spec/support/[^/]*$") or "."

local helpers = require("helpers")
local quote = helpers.quote
M.quote = quote
M.bin = helpers.wick_bin

-- run({"run", "recipes/hello.lua", "lr=0.1"}, {cwd = dir, env = {NAME = value}}) -> {out, err, code}
function M.run(args, opts)
  opts = opts or {}
  local errfile = os.tmpname()
  local parts = { "cd", quote(opts.cwd or M.root), "&&" }
  local names = {}
  for k in pairs(opts.env or {}) do names[#names + 1] = k end
  table.sort(names)
  if #names > 0 then parts[#parts + 1] = "env" end
  for _, k in ipairs(names) do parts[#parts + 1] = quote(k .. "=" .. opts.env[k]) end
  -- a spec that picks its working directory expects run directories under it
  if opts.cwd and opts.cwd ~= M.root then for _, w in ipairs { "env", "-u", "WICK_RUNS_DIR" } do parts[#parts + 1] = w end end
  parts[#parts + 1] = quote(M.bin())
  for _, a in ipairs(args) do parts[#parts + 1] = quote(a) end
  parts[#parts + 1] = "2>" .. quote(errfile)
  parts[#parts + 1] = "</dev/null"
  local p = io.popen(table.concat(parts, " "), "r")
  local out = p:read("a")
  local _, _, code = p:close()
  local err = helpers.read_file(errfile) or ""
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

M.write = helpers.write

return M
