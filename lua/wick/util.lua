-- Small helpers shared by wick's Lua modules: shell quoting and whole-file reads.
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

return util
