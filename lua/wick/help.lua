-- help(f): the documentation of a wick function, read from docs/*.md (docs/reference.md says
-- how): the section under the `### ` heading that starts with the function's name. The REPL
-- defines the global `help`; wick.help is the same function.
local M = {}

-- The docs directory: beside lua/ in the source tree, beside share/wick/lua when installed.
function M.docs_dir()
  local init = package.searchpath("wick", package.path) or ""
  return (init:match("^(.*)/lua/wick/init%.lua$") or ".") .. "/docs"
end

-- Tables searched for a function's name, with their dotted prefixes (loading them as needed).
local ROOTS = { "wick", "wick.nn", "wick.nn.functional", "wick.nn.init", "wick.nn.parallel",
  "wick.nn.utils", "wick.dist", "wick.data", "wick.optim", "wick.optim.lr_scheduler", "wick.tb",
  "wick.recipe", "wick.models", "wick.checkpoint", "wick.config", "wick.cuda", "wick.autograd" }

local function lookup(path)
  local v = _G
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    local ok, x = pcall(function() return v[part] end)
    if not ok then return nil end
    v = x
  end
  return v
end

-- The dotted names of f ("wick.dist.spawn"; a class may have several: nn.DDP), sorted.
function M.names_of(f)
  local names = {}
  for _, root in ipairs(ROOTS) do
    local t = lookup(root)
    if type(t) == "table" then
      for k, v in pairs(t) do
        if rawequal(v, f) and type(k) == "string" then names[#names + 1] = root .. "." .. k end
      end
    end
  end
  table.sort(names)
  return names
end

-- The sections of docs/*.md: {heading = "### `...`", name = "wick.x", text = "..."}.
function M.sections()
  local dir = M.docs_dir()
  local p = io.popen("ls " .. require("wick.util").shell_quote(dir) .. "/*.md 2>/dev/null")
  local files = p and p:read("a") or ""
  if p then p:close() end
  local out = {}
  for path in files:gmatch("[^\n]+") do
    local f = io.open(path, "r")
    local cur
    for line in f:lines() do
      local name = line:match("^### `([%w_.:]+)")
      if name then
        cur = { heading = line, name = name, lines = { line } }
        out[#out + 1] = cur
      elseif line:match("^#") then
        cur = nil
      elseif cur then
        cur.lines[#cur.lines + 1] = line
      end
    end
    f:close()
  end
  for _, s in ipairs(out) do
    while s.lines[#s.lines] == "" do s.lines[#s.lines] = nil end
    s.text = table.concat(s.lines, "\n") .. "\n"
  end
  return out
end

-- The help text of f (a function or table of wick, or a name): its docs section, or a line
-- saying there is none.
function M.text(f)
  if f == nil then
    return "help(f): the documentation of a wick function or class, e.g. help(wick.dist.spawn) or " ..
      "help(\"wick.load\"); docs/reference.md lists the signatures.\n"
  end
  local names = type(f) == "string" and { f } or M.names_of(f)
  if #names == 0 then
    return string.format("help: %s is not a documented wick function (docs/reference.md lists them)\n", tostring(f))
  end
  local sections = M.sections()
  for _, name in ipairs(names) do
    for _, s in ipairs(sections) do
      if s.name == name then return s.text end
    end
  end
  return string.format("help: no documentation for %s in %s (docs/reference.md lists the documented functions)\n",
    names[1], M.docs_dir())
end

function M.help(f)
  io.stdout:write(M.text(f))
end

return setmetatable(M, { __call = function(_, f) return M.help(f) end })
