-- Shared by spec/tb/*_spec.lua: TensorBoard's own reader (spec/ref/tb_read.py) as the peer, and
-- an independent Lua CRC-32C walk over the records of an event file.
local helpers = require("helpers")

local M = {}
M.root = debug.getinfo(1, "S").source:match("^@(.*)/spec/tb/peer%.lua$") or "."
M.python = os.getenv("WICK_TB_PYTHON") or "python3"
M.pydeps = os.getenv("WICK_TB_PYDEPS") or (M.root .. "/build/pydeps-tb")
M.torch_python = os.getenv("WICK_PYTHON") or "/usr/bin/python3"
M.script = M.root .. "/spec/ref/tb_read.py"

local function py(python, args)
  local errf = os.tmpname()
  local out, code = helpers.run(("PYTHONPATH=%q %q %q %s 2>%q"):format(M.pydeps, python, M.script, args, errf))
  local f = io.open(errf); local e = f:read("a"); f:close()
  os.remove(errf)
  assert(code == 0, "tb_read.py " .. args .. " failed:\n" .. e)
  return assert(load(out))()
end

local function has(python, mods)
  local _, code = helpers.run(("PYTHONPATH=%q %q -c %q >/dev/null 2>&1"):format(M.pydeps, python,
    "import numpy, sys; import " .. mods))
  return code == 0
end

M.have_tb = has(M.python, "tensorboard, PIL")
M.why = ("tensorboard not installed (%s -m pip install --target %s tensorboard)"):format(M.python, M.pydeps)
-- (torch takes seconds to import: asked only by the spec that needs it)
function M.have_torch_tb() return M.have_tb and has(M.torch_python, "torch, tensorboard") end

function M.read(logdir) return py(M.python, ("read %q"):format(logdir)) end
function M.records(file) return py(M.python, ("records %q"):format(file)) end
-- cases: {{values_csv, bins, max_bins_or_empty}, ...} -> what TensorBoard reads of torch's file
function M.torch_hist(dir, cases)
  local args = {}
  for i, c in ipairs(cases) do args[i] = ("%q"):format(table.concat(c, ";")) end
  return py(M.torch_python, ("torch_hist %q %s"):format(dir, table.concat(args, " ")))
end

-- Peer checks are queued and run in one python start (each costs seconds): want(kind, path, fn)
-- queues fn(result) for kind "read" (a log dir) or "records" (one file); run_wanted() runs them.
local wanted = {}
function M.want(kind, path, fn) wanted[#wanted + 1] = { kind .. ":" .. path, fn } end
function M.run_wanted()
  local args = {}
  for i, w in ipairs(wanted) do args[i] = ("%q"):format(w[1]) end
  local res = py(M.python, "batch " .. table.concat(args, " "))
  local list = wanted
  wanted = {}
  for _, w in ipairs(list) do w[2](res[w[1]]) end
  return #list
end

-- Event files directly in dir, sorted.
function M.files(dir)
  local out = helpers.run(("ls -1 %q 2>/dev/null"):format(dir))
  local t = {}
  for name in out:gmatch("[^\n]+") do
    if name:find("tfevents", 1, true) then t[#t + 1] = dir .. "/" .. name end
  end
  table.sort(t)
  return t
end

function M.slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- CRC-32C written from the definition (bitwise, reflected 0x82F63B78), independent of src/tb.
local function crc32c(s, i, j)
  local c = 0xFFFFFFFF
  for k = i, j do
    c = c ~ s:byte(k)
    for _ = 1, 8 do c = (c >> 1) ~ (0x82F63B78 & -(c & 1)) end
  end
  return (~c) & 0xFFFFFFFF
end
local function mask(c) return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF end
M.crc32c = function(s) return crc32c(s, 1, #s) end
M.mask = mask

-- Walks the records of the bytes s: returns the payloads of the complete, CRC-valid records and
-- the number of bytes they span (stops at the first bad or torn record).
function M.records_lua(s)
  local pos, payloads = 1, {}
  while #s - pos + 1 >= 16 do
    local len = string.unpack("<I8", s, pos)
    local lcrc = string.unpack("<I4", s, pos + 8)
    if lcrc ~= mask(crc32c(s, pos, pos + 7)) or len > #s - pos + 1 - 16 then break end
    local dcrc = string.unpack("<I4", s, pos + 12 + len)
    if dcrc ~= mask(crc32c(s, pos + 12, pos + 11 + len)) then break end
    payloads[#payloads + 1] = s:sub(pos + 12, pos + 11 + len)
    pos = pos + 16 + len
  end
  return payloads, pos - 1
end

function M.sleep(s) os.execute(("sleep %s"):format(s)) end

return M
