-- Small helpers shared by wick's Lua modules: shell quoting, whole-file reads and the edit
-- distance behind "did you mean" suggestions.
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

return util
