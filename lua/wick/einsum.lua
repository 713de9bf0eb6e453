-- wick.einsum: the equation's operands aligned on its letters, multiplied with broadcasting and
-- summed over the letters not in the output; autograd comes with the parts (permute, reshape, *).
local wick = require("wick")

local is_tensor = wick.is_tensor

-- einsum("ij,jk->ik", a, b, ...): operands aligned on the equation's letters, multiplied with
-- broadcasting, summed over the letters not in the output (no "...")
function wick.einsum(eq, ...)
  local ops = { ... }
  if #ops == 1 and type(ops[1]) == "table" and not is_tensor(ops[1]) then ops = ops[1] end
  eq = eq:gsub("%s", "")
  if eq:find("...", 1, true) then error("einsum: ellipsis ('...') is not supported", 0) end
  local lhs, rhs = eq:match("^(.-)%->(.*)$")
  lhs = lhs or eq
  local terms = {}
  for t in (lhs .. ","):gmatch("([^,]*),") do terms[#terms + 1] = t end
  if #terms ~= #ops then
    error(("einsum: more operands were provided than specified in the equation"):format(), 0)
  end
  local count, letters = {}, {}
  for _, t in ipairs(terms) do
    for c in t:gmatch(".") do
      if not c:match("%a") then error("einsum: invalid subscript '" .. c .. "'", 0) end
      if not count[c] then letters[#letters + 1] = c end
      count[c] = (count[c] or 0) + 1
    end
  end
  if not rhs then -- implicit output: letters seen once, in alphabetical order
    local once = {}
    for _, c in ipairs(letters) do if count[c] == 1 then once[#once + 1] = c end end
    table.sort(once)
    rhs = table.concat(once)
  end
  -- the letter order: output letters first, then the summed ones
  local order, pos = {}, {}
  for c in rhs:gmatch(".") do
    if not count[c] then error("einsum: output subscript " .. c .. " does not appear in the equation for any input operand", 0) end
    order[#order + 1] = c
  end
  for _, c in ipairs(letters) do if not rhs:find(c, 1, true) then order[#order + 1] = c end end
  for i, c in ipairs(order) do pos[c] = i end
  local prod
  for k, t in ipairs(terms) do
    local x = ops[k]
    if #t ~= x:dim() then
      error(("einsum: the number of subscripts in the equation (%d) does not match the number of dimensions (%d) for operand %d")
        :format(#t, x:dim(), k - 1), 0)
    end
    -- repeated letters within one operand take its diagonal
    local seen = {}
    local i = 1
    while i <= #t do
      local c = t:sub(i, i)
      if seen[c] then
        local j = seen[c]
        local n = x:size(j - 1)
        local sel = wick.arange(n, { device = x.device })
        x = x:movedim({ j - 1, i - 1 }, { 0, 1 })
        local rest = x.shape
        table.remove(rest, 1); table.remove(rest, 1)
        local flat = x:reshape(n * n, -1):index_select(0, sel * n + sel)
        local shape = { n }
        for _, s in ipairs(rest) do shape[#shape + 1] = s end
        x = flat:reshape(shape):movedim(0, j - 1)
        t = t:sub(1, i - 1) .. t:sub(i + 1)
      else
        seen[c] = i
        i = i + 1
      end
    end
    local present, perm = {}, {}
    for ci = 1, #t do present[t:sub(ci, ci)] = ci - 1 end
    local view = {}
    for _, c in ipairs(order) do
      if present[c] then perm[#perm + 1] = present[c] end
    end
    local y = #perm > 0 and x:permute(perm) or x
    local yi = 0
    for _, c in ipairs(order) do
      if present[c] then view[#view + 1] = y:size(yi); yi = yi + 1 else view[#view + 1] = 1 end
    end
    y = y:reshape(view)
    prod = prod and prod * y or y
  end
  local nsum = #order - #rhs
  if nsum > 0 then
    local dims = {}
    for i = #rhs, #order - 1 do dims[#dims + 1] = i end
    prod = prod:sum(dims)
  end
  return prod
end
