-- wick.load_torch and `wick convert`: state dicts written by torch.save (python3-torch, through
-- spec/ref/torchload_ref.py) read with the same names, dtypes, shapes and values; hostile,
-- damaged and mutated files are refused with a clear error, never a crash.
local wick = require("wick")
local helpers = require("helpers")

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"
local root = here:gsub("/?spec$", "")
if root == "" then root = "." end
local python = os.getenv("WICK_TORCH_PYTHON") or os.getenv("WICK_PYTHON") or "/usr/bin/python3"
local _, missing = helpers.run(("%q -c %q 2>/dev/null"):format(python,
  "import importlib.util as u, sys; sys.exit(not u.find_spec('torch'))"))
local why = ("needs %s with torch (python3-torch)"):format(python)

local dir, expected
local function ref()
  if expected then return expected end
  dir = helpers.tmpdir()
  local out, code = helpers.run(("%q %q %q 2>%q"):format(python, root .. "/spec/ref/torchload_ref.py", dir,
    dir .. "/stderr"))
  if code ~= 0 then
    local f = io.open(dir .. "/stderr")
    error("torchload_ref.py failed: " .. (f and f:read("a") or "?"), 0)
  end
  expected = assert(load(out, "torchload_ref.py", "t", {}))()
  return expected
end

local function flat(v, out)
  out = out or {}
  if type(v) ~= "table" then out[#out + 1] = v return out end
  for _, x in ipairs(v) do flat(x, out) end
  return out
end

local function check(want, tensors, names)
  assert.are.equal(#want, #names)
  for i, w in ipairs(want) do
    assert.are.equal(w.name, names[i])
    local t = tensors[w.name]
    assert.are.equal(w.dtype, t.dtype, w.name)
    assert.are.same(w.shape, t.shape, w.name)
    local got = t:dim() == 0 and { t:item() } or flat(t:tolist())
    if w.dtype == "f32" or w.dtype == "f16" or w.dtype == "bf16" then
      got = flat(t:double():tolist())
      if t:dim() == 0 then got = { t:double():item() } end
    end
    assert.are.same(w.values, got, w.name)
  end
end

local function err_of(path)
  local ok, e = pcall(wick.load_torch, dir .. "/" .. path)
  assert.is_false(ok, path)
  return (e:gsub(dir, "DIR", 1, true))
end

describe("wick.load_torch", function()
  teardown(function()
    if dir then os.execute(("rm -rf %q"):format(dir)) end
  end)

  it("reads a model's state dict (names in order, f32 and i64 buffers)", function()
    if missing ~= 0 then pending(why) return end
    local want = ref().model
    local t, names = wick.load_torch(dir .. "/model.pt")
    check(want, t, names)
    -- loads into the same architecture, strictly
    local nn = wick.nn
    local m = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    m:load_state_dict(t, { strict = true })
  end)

  it("reads every dtype, views of a shared storage, 0-d and empty tensors (protocol 4)", function()
    if missing ~= 0 then pending(why) return end
    local t, names = wick.load_torch(ref() and dir .. "/mixed.pt")
    check(ref().mixed, t, names)
    assert.are.same({ 0, 4, 8 }, t.t[0]:tolist())
  end)

  it("flattens nested dicts and reads deflated members", function()
    if missing ~= 0 then pending(why) return end
    local t, names = wick.load_torch(ref() and dir .. "/nested.pt")
    check(ref().nested, t, names)
    t, names = wick.load_torch(dir .. "/deflated.pt")
    check(ref().model, t, names)
  end)

  it("refuses what is not a state dict of tensors", function()
    if missing ~= 0 then pending(why) return end
    ref()
    assert.are.equal("load_torch: 'DIR/evil.pt': refusing global 'os.system' (only a state dict of tensors can be loaded)",
      err_of("evil.pt"))
    assert.are.equal("load_torch: 'DIR/global.pt': refusing global 'builtins.set' (only a state dict of tensors can be loaded)",
      err_of("global.pt"))
    assert.are.equal("load_torch: 'DIR/opcode.pt': refusing pickle opcode 0x49 (only a state dict of tensors can be loaded)",
      err_of("opcode.pt"))
    assert.are.equal("load_torch: 'DIR/notensor.pt': 'epoch' is not a tensor (int)", err_of("notensor.pt"))
    assert.are.equal("load_torch: 'DIR/list.pt': the pickled object is not a state dict (list)", err_of("list.pt"))
  end)

  it("checks every offset and size", function()
    if missing ~= 0 then pending(why) return end
    ref()
    assert.are.equal("load_torch: 'DIR/oob.pt': _rebuild_tensor_v2: view out of the storage's bounds", err_of("oob.pt"))
    assert.are.equal("load_torch: 'DIR/short.pt': storage '0' does not hold the number of elements its header says",
      err_of("short.pt"))
    assert.are.equal("load_torch: 'DIR/nostorage.pt': missing storage member 'archive/data/0'", err_of("nostorage.pt"))
    assert.are.equal("load_torch: 'DIR/trunc_pickle.pt': pickle ends without STOP", err_of("trunc_pickle.pt"))
    assert.are.equal("load_torch: 'DIR/truncated.pt' is not a valid zip archive (no end of central directory record)",
      err_of("truncated.pt"))
    assert.are.equal("load_torch: 'DIR/crc.pt': member 'model/data.pkl' fails its CRC check", err_of("crc.pt"))
    assert.are.equal("load_torch: cannot open 'DIR/none.pt': No such file or directory", err_of("none.pt"))
    local f = io.open(dir .. "/tiny.pt", "wb"); f:write("PK"); f:close()
    assert.are.equal("load_torch: 'DIR/tiny.pt' is not a valid zip archive (too short)", err_of("tiny.pt"))
  end)

  it("loads or refuses 200 mutated pickles, never crashes", function()
    if missing ~= 0 then pending(why) return end
    ref()
    local loaded = 0
    for i = 0, 199 do
      local ok, e = pcall(wick.load_torch, dir .. "/fuzz_" .. i .. ".pt")
      if ok then loaded = loaded + 1 else assert.matches("^load_torch: ", e) end
    end
    assert.is_true(loaded < 100)
  end)

  it("wick convert converts a .pt file to safetensors", function()
    if missing ~= 0 then pending(why) return end
    ref()
    local out, err, code = helpers.wick(("convert %q %q"):format(dir .. "/model.pt", dir .. "/model.safetensors"))
    assert.are.equal(0, code, err)
    assert.are.equal(("converted 9 tensors from %s/model.pt to %s/model.safetensors\n"):format(dir, dir), out)
    local t, names = wick.load_torch(dir .. "/model.pt")
    local st, meta = wick.load(dir .. "/model.safetensors")
    assert.are.equal("pt", meta.format)
    for _, n in ipairs(names) do assert.are.same(t[n]:tolist(), st[n]:tolist(), n) end
    out, err, code = helpers.wick(("convert %q %q"):format(dir .. "/evil.pt", dir .. "/x.safetensors"))
    assert.are.equal(1, code)
    assert.are.equal(("wick convert: load_torch: '%s/evil.pt': refusing global 'os.system' (only a state dict "
      .. "of tensors can be loaded)\n"):format(dir), err)
    out, err, code = helpers.wick("convert only-one-arg")
    assert.are.equal(1, code)
    assert.matches("^usage: wick convert IN.pt OUT.safetensors", err)
  end)
end)
