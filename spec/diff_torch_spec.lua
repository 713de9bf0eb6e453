-- Differential test against PyTorch: spec/ref/diff_ref.py draws random op calls from a seed
-- (ops x shapes incl. empty, broadcast, non-contiguous, negative dims x dtypes) and records what
-- torch 1.13 returns or that it raised; each call is replayed here and must agree in dtype,
-- shape, values and in whether it raises. WICK_DIFF_SEED / WICK_DIFF_CASES widen a local run.
local wick = require("wick")
local helpers = require("helpers")

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"
local root = here:gsub("/?spec$", "")
if root == "" then root = "." end
local python = os.getenv("WICK_TORCH_PYTHON") or "/usr/bin/python3"
local SEED = tonumber(os.getenv("WICK_DIFF_SEED") or "13")
local COUNT = tonumber(os.getenv("WICK_DIFF_CASES") or "2500")

local _, missing = helpers.run(("%q -c %q 2>/dev/null"):format(python, "import torch"))
local why = ("needs %s with torch (Debian's python3-torch) to compute the reference"):format(python)

local function cases()
  local errf = os.tmpname()
  local out, code = helpers.run(("%q %q %d %d 2>%q"):format(python, root .. "/spec/ref/diff_ref.py",
    SEED, COUNT, errf))
  local err = helpers.read_file(errf)
  os.remove(errf)
  if code ~= 0 then error("diff_ref.py failed: " .. tostring(err), 0) end
  return assert(load(out, "diff_ref.py"))()
end

local function make(v)
  if type(v) ~= "table" or not v.t then return v end
  local shape = v.shape
  if v.nc then
    local s = { table.unpack(shape) }
    s[#s - 1], s[#s] = s[#s], s[#s - 1]
    return wick.tensor(v.data, { dtype = v.dtype }):reshape(s):transpose(-1, -2)
  end
  return wick.tensor(v.data, { dtype = v.dtype }):reshape(shape)
end

local function call(c)
  local args = {}
  for i = 1, c.nargs do args[i] = make(c.args[i]) end
  local n = c.nargs
  if next(c.kw) then n = n + 1; args[n] = c.kw end
  local fn = c.ns == "F" and wick.nn.functional[c.op] or c.ns == "method" and wick.Tensor[c.op] or wick[c.op]
  if not fn then error("wick has no " .. c.op, 0) end
  return table.pack(fn(table.unpack(args, 1, n)))
end

local function close(a, b, dtype, tol)
  if a == b then return true end
  if type(a) ~= "number" or type(b) ~= "number" then return false end
  if a ~= a and b ~= b then return true end
  if dtype ~= "f32" and dtype ~= "f64" then return false end
  local rtol, atol = 1e-5, 1e-6
  if dtype == "f64" then rtol, atol = 1e-10, 1e-12 end
  if tol then rtol, atol = math.max(rtol, tol * (dtype == "f64" and 1e-6 or 1)), math.max(atol, tol * (dtype == "f64" and 1e-6 or 1)) end
  return math.abs(a - b) <= atol + rtol * math.abs(b)
end

local function same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- nil when wick's results agree with torch's, else what differs.
local function compare(got, want, tol)
  if got.n < #want then return ("%d results, torch gave %d"):format(got.n, #want) end
  for k, w in ipairs(want) do
    local t = got[k]
    if not wick.is_tensor(t) then return "result " .. k .. " is not a tensor" end
    if t.dtype ~= w.dtype then return ("dtype %s, torch %s"):format(t.dtype, w.dtype) end
    if not same_shape(t.shape, w.shape) then
      return ("shape {%s}, torch {%s}"):format(table.concat(t.shape, ","), table.concat(w.shape, ","))
    end
    local data = t:reshape(-1):tolist()
    for i = 1, #w.data do
      if not close(data[i], w.data[i], w.dtype, tol) then
        return ("element %d: %s, torch %s"):format(i - 1, tostring(data[i]), tostring(w.data[i]))
      end
    end
  end
end

local function describe_case(c)
  local parts = {}
  for i = 1, c.nargs do
    local a = c.args[i]
    if type(a) == "table" and a.t then
      parts[#parts + 1] = ("%s{%s}%s"):format(a.dtype, table.concat(a.shape, ","), a.nc and "^T" or "")
    elseif type(a) == "table" then
      parts[#parts + 1] = "{" .. table.concat(a, ",") .. "}"
    else
      parts[#parts + 1] = tostring(a)
    end
  end
  for k, v in pairs(c.kw) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  return ("%s.%s(%s)"):format(c.ns, c.op, table.concat(parts, ", "))
end

describe("differential test against PyTorch", function()
  it(("agrees on %d random op calls (seed %d)"):format(COUNT, SEED), function()
    if missing ~= 0 then pending(why) return end
    local ran, ran_ok, raised, raised_ok, bad = 0, 0, 0, 0, {}
    for _, c in ipairs(cases()) do
      local ok, res = pcall(call, c)
      if c.ok then
        ran = ran + 1
        local diff
        if ok then diff = compare(res, c.ok, c.tol) else diff = "raised: " .. tostring(res) end
        if diff then bad[#bad + 1] = describe_case(c) .. ": " .. diff
        else ran_ok = ran_ok + 1 end
      else
        raised = raised + 1
        if ok then bad[#bad + 1] = describe_case(c) .. ": returned, torch raised: " .. c.raised
        else raised_ok = raised_ok + 1 end
      end
    end
    io.stderr:write(("diff_torch: %d cases (seed %d): torch ran %d, wick agrees on %d; torch raised on %d, wick raised on %d of them\n")
      :format(COUNT, SEED, ran, ran_ok, raised, raised_ok))
    if #bad > 0 then
      error(("%d of %d cases disagree with PyTorch:\n  %s"):format(#bad, COUNT,
        table.concat(bad, "\n  ", 1, os.getenv("WICK_DIFF_ALL") and #bad or math.min(#bad, 60))), 0)
    end
  end)
end)
