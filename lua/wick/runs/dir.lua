-- A run directory's name and the facts recorded when a run starts: new_dir, name_of, the
-- command line (command.txt) and the first meta.yaml.
local core = require("wick.core")
local util = require("wick.util")
local files = require("wick.runs.files")
local quote = util.shell_quote

local M = {}

-- A new directory <base>/<name>-<YYYYMMDD-HHMMSS>-<n>: mkdir (without -p) fails when the name
-- exists, so two runs started in the same second (even by two processes) get different n.
function M.new_dir(name, base)
  base = base or require("wick.runs").BASE
  files.mkdirs(base)
  local stamp = os.date("%Y%m%d-%H%M%S")
  for n = 1, 1000 do
    local dir = string.format("%s/%s-%s-%d", base, name, stamp, n)
    if os.execute("mkdir " .. quote(dir) .. " 2>/dev/null") then return dir end
  end
  error("cannot create a run directory in " .. base, 0)
end

-- The recipe's name: its file name without the directory and .lua.
function M.name_of(path)
  return (path:match("([^/]*)$"):gsub("%.lua$", ""))
end

-- The commit of the git checkout holding dir, or nil (not a checkout, no git, or it hangs).
local function git_commit(dir)
  local p = io.popen("cd " .. quote(dir) .. " 2>/dev/null && timeout 5 git rev-parse HEAD 2>/dev/null")
  if not p then return nil end
  local out = p:read("a") or ""
  p:close()
  return out:match("^(%x+)\n")
end

-- The shell-quoted command line of this process, from `arg` (negative indices: the program and
-- the arguments before the file).
function M.command_line(arg)
  arg = arg or _G.arg or {}
  local lo = 0
  while arg[lo - 1] ~= nil do lo = lo - 1 end
  local words = {}
  for i = lo, #arg do
    local a = tostring(arg[i])
    words[#words + 1] = a:match("^[%w%-_./=:,+@%%]+$") and a or quote(a)
  end
  return table.concat(words, " ")
end

-- The meta.yaml of a run that starts now.
function M.new_meta(path, nproc)
  local dir = path:match("^(.*)/[^/]*$") or "."
  return {
    recipe = path, wick_version = core.build_info().version, start_time = files.now_iso(),
    host = core._tb.hostname(), pid = core._dist.getpid(), git_commit = git_commit(dir),
    nproc = nproc or 1, status = "running",
  }
end

return M
