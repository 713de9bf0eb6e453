-- wick.save / wick.load (safetensors): round trips of every dtype, the exact file layout,
-- atomic writes, word-for-word errors for bad and hostile files, truncation and byte-flip
-- fuzzing, and interop with PyTorch's safetensors (spec/ref/safetensors_ref.py).
local helpers = require("helpers")

local err = require("helpers").err

local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/io_spec%.lua$") or ".")
local dir = helpers.tmpdir()
local function path(name) return dir .. "/" .. name end

local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

-- A safetensors file from a header text and raw data bytes.
local function raw(header, data) return string.pack("<I8", #header) .. header .. (data or "") end

local function ls(d)
  local out = helpers.run(("ls -A %q"):format(d))
  local names = {}
  for n in out:gmatch("[^\n]+") do names[#names + 1] = n end
  table.sort(names)
  return names
end

local function flat(v, out)
  out = out or {}
  if type(v) ~= "table" then out[#out + 1] = v; return out end
  for _, x in ipairs(v) do flat(x, out) end
  return out
end

-- Tensors of every dtype (also built, independently, by sample() in safetensors_ref.py).
local function sample()
  return {
    f32 = (wick.arange(6, {dtype = "f32"}) * 0.5):reshape(2, 3),
    f64 = wick.tensor({1 / 3, -2.5e300, 1e-310}, {dtype = "f64"}),
    f16 = wick.tensor({0.5, -2.0, 65504.0, 2.0 ^ -24, 1.0009765625}, {dtype = "f16"}),
    bf16 = wick.tensor({1.0, -3.140625, 2.0 ^ 100}, {dtype = "bf16"}),
    i64 = wick.tensor({-(1 << 62), 0, (1 << 53) + 1}),
    i32 = wick.tensor({-2147483648, 2147483647, 7}, {dtype = "i32"}),
    u8 = wick.tensor({0, 1, 255}, {dtype = "u8"}),
    bool = wick.tensor({true, false, true}),
    scalar = wick.tensor(2.5),
    empty = wick.zeros(0, 3),
    t = wick.arange(6):reshape(2, 3):t(), -- not contiguous: written in row-major order
    ["ключ.вес"] = wick.tensor({1.0, 2.0}),
  }
end

local function assert_same(a, b, name)
  assert.are.equal(b.dtype, a.dtype, name)
  assert.are.same(b.shape, a.shape, name)
  assert.are.same(b:tolist(), a:tolist(), name)
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

teardown(function() os.execute(("rm -rf %q"):format(dir)) end)

describe("wick.save / wick.load", function()
  it("round-trips every dtype, 0-d, empty, non-contiguous and non-ASCII named tensors", function()
    local p = path("all.safetensors")
    local s = sample()
    assert.is_nil(wick.save(p, s))
    local back, meta = wick.load(p)
    assert.are.equal(count(s), count(back))
    for k, t in pairs(s) do assert_same(back[k], t, k) end
    assert.are.same({}, back.scalar.shape)
    assert.are.same({0, 3}, back.empty.shape)
    assert.are.same({{0, 3}, {1, 4}, {2, 5}}, back.t:tolist())
    assert.are.same({}, meta) -- no metadata: an empty table
  end)

  it("returns the metadata as the second result", function()
    local p = path("meta.safetensors")
    wick.save(p, {x = wick.ones(1)}, {metadata = {format = "pt", note = "héllo \"quoted\"\n", [""] = ""}})
    local t, meta = wick.load(p)
    assert.are.same({format = "pt", note = "héllo \"quoted\"\n", [""] = ""}, meta)
    assert.are.same({1.0}, t.x:tolist())
  end)

  it("writes a deterministic file: names sorted, data in that order, header padded to 8 bytes", function()
    local a, b = path("det1.safetensors"), path("det2.safetensors")
    local x, y = wick.tensor({1.5, -2.0}), wick.tensor(7)
    local t1 = {}; t1.b = y; t1.a = x
    local t2 = {}; t2.a = x; t2.b = y
    wick.save(a, t1, {metadata = {format = "pt"}})
    wick.save(b, t2, {metadata = {format = "pt"}})
    local bytes = read(a)
    assert.are.equal(bytes, read(b))
    local header = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],' ..
      '"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}'
    header = header .. (" "):rep((8 - #header % 8) % 8)
    assert.are.equal(raw(header, string.pack("<ffi8", 1.5, -2.0, 7)), bytes)
    assert.are.equal(0, #header % 8)
  end)

  it("writes an empty table as a file with no tensors", function()
    local p = path("none.safetensors")
    wick.save(p, {})
    assert.are.equal(raw("{}      "), read(p))
    local t, meta = wick.load(p)
    assert.are.same({}, t)
    assert.are.same({}, meta)
  end)

  it("saves a state dict whose pairs() runs through __pairs", function()
    local p = path("ordered.safetensors")
    local hidden = {w = wick.ones(2)}
    local proxy = setmetatable({}, {__pairs = function() return next, hidden, nil end})
    wick.save(p, proxy)
    assert.are.same({1.0, 1.0}, wick.load(p).w:tolist())
  end)

  it("writes atomically: no temporary file stays, a failed save keeps the old file", function()
    local d = path("atomic")
    os.execute(("mkdir -p %q"):format(d))
    local p = d .. "/m.safetensors"
    wick.save(p, {a = wick.ones(1000)})
    wick.save(p, {b = wick.zeros(3)})
    assert.are.same({"m.safetensors"}, ls(d))
    local before = read(p)
    err(wick.save, p, {c = wick.ones(2), bad = 3})
    err(wick.save, p, {["\xff"] = wick.ones(2)})
    assert.are.same({"m.safetensors"}, ls(d))
    assert.are.equal(before, read(p))
    local t = wick.load(p)
    assert.is_nil(t.a)
    assert.are.same({0.0, 0.0, 0.0}, t.b:tolist())
  end)

  it("gives tensors their own memory: writing them or the file later changes nothing else", function()
    local p = path("own.safetensors")
    wick.save(p, {w = wick.ones(4)})
    local bytes = read(p)
    local t = wick.load(p)
    t.w:fill_(5)
    assert.are.equal(bytes, read(p))
    write(p, raw("{}      ")) -- the file rewritten in place (not renamed) while t is alive
    assert.are.same({5.0, 5.0, 5.0, 5.0}, t.w:tolist())
  end)

  it("loads any nonzero BOOL byte as true", function()
    local p = path("bool.safetensors")
    local h = '{"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}'
    write(p, raw(h, "\0\2\255"))
    local t = wick.load(p)
    assert.are.same({false, true, true}, t.b:tolist())
    assert.is_true(wick.equal(t.b, wick.tensor({false, true, true})))
  end)

  it("round-trips a model's state_dict", function()
    local nn = require("wick.nn")
    local model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    model(wick.randn(8, 4)) -- moves the running stats and num_batches_tracked
    local p = path("model.safetensors")
    local sd = model:state_dict()
    wick.save(p, sd)
    local back = wick.load(p)
    assert.are.equal("i64", back["1.num_batches_tracked"].dtype)
    local n = 0
    for k, v in pairs(sd) do
      n = n + 1
      assert_same(back[k], v, k)
    end
    assert.are.equal(n, count(back))
    local fresh = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    fresh:load_state_dict(back)
    for k, v in pairs(fresh:state_dict()) do assert_same(v, sd[k], k) end
  end)
end)

describe("wick.save errors", function()
  local p = path("err.safetensors")
  it("checks its arguments", function()
    assert.are.equal("save: expected a table of tensors (got number)", err(wick.save, p, 3))
    assert.are.equal("save: tensor names must be strings (got a number key)",
      err(wick.save, p, {wick.ones(1)}))
    assert.are.equal("save: 'w' is not a tensor (got number)", err(wick.save, p, {w = 1}))
    assert.are.equal("save: metadata 'epoch' must be a string (got number)",
      err(wick.save, p, {w = wick.ones(1)}, {metadata = {epoch = 3}}))
    assert.are.equal("save: metadata must be a table of strings (got string)",
      err(wick.save, p, {}, {metadata = "x"}))
    assert.are.equal("save: metadata keys must be strings (got a number key)",
      err(wick.save, p, {}, {metadata = {"x"}}))
    assert.are.equal("save: tensor name '\xff' is not valid UTF-8", err(wick.save, p, {["\xff"] = wick.ones(1)}))
    assert.are.equal("save: '__metadata__' is reserved and cannot name a tensor",
      err(wick.save, p, {__metadata__ = wick.ones(1)}))
    assert.matches("^save: unknown option 'metdata'", err(wick.save, p, {}, {metdata = {}}))
    assert.are.equal(("save: cannot create '%s': No such file or directory"):format(dir .. "/no/x.safetensors"),
      err(wick.save, dir .. "/no/x.safetensors", {}))
  end)
end)

describe("wick.load errors", function()
  local p = path("bad.safetensors")
  local function load_raw(header, data)
    write(p, raw(header, data))
    return err(wick.load, p)
  end

  it("names a missing file, a short file and a header longer than the file", function()
    assert.are.equal("load: cannot open 'x.safetensors': No such file or directory",
      err(wick.load, "x.safetensors"))
    write(p, "\1\0\0\0")
    assert.are.equal(("load: '%s' is too short to be a safetensors file (4 bytes)"):format(p), err(wick.load, p))
    write(p, string.pack("<I8", 1000) .. "{}")
    assert.are.equal(("load: '%s': header length 1000 exceeds the file size (10 bytes)"):format(p),
      err(wick.load, p))
    assert.are.equal(("load: '%s' is not a regular file"):format(dir), err(wick.load, dir))
  end)

  it("reports invalid JSON with its byte offset", function()
    assert.are.equal("load: invalid JSON at byte 5: unexpected '}' (expected ':')", load_raw('{"a" }'))
    assert.are.equal("load: invalid JSON at byte 3: invalid UTF-8 in a string", load_raw('{"a\xff":1}'))
    assert.are.equal("load: the header is not a JSON object (got array)", load_raw("[]"))
  end)

  it("checks dtypes, shapes and offsets before reading data", function()
    local data = ("\0"):rep(100)
    for _, c in ipairs { -- one tensor "fc.weight": dtype, shape, data_offsets, the error
      { "F32", "5,4", "0,100", "load: tensor 'fc.weight': data_offsets [0, 100] do not match shape [5, 4] of F32 (80 bytes)" },
      { "F8_E4M3", "5,4", "0,20", "load: tensor 'fc.weight': unknown dtype 'F8_E4M3' (wick reads BOOL U8 I32 I64 F16 BF16 F32 F64)" },
      { "F32", "5,4", "80,160", "load: tensor 'fc.weight': data_offsets [80, 160] are outside the data section (100 bytes)" },
      { "F32", "4294967296,4294967296,16", "0,100", "load: tensor 'fc.weight': shape [4294967296, 4294967296, 16] is too large" },
      { "F32", "184467440737095516160", "0,100", "load: tensor 'fc.weight': dimension 184467440737095516160 is too large" },
      { "F32", "-5,4", "0,80", "load: tensor 'fc.weight': 'shape' must be an array of non-negative integers" },
      { "F32", "1,1,1,1,1,1,1,1,1", "0,4", "load: tensor 'fc.weight': shape has 9 dimensions (at most 8 supported)" },
    } do
      local header = ('{"fc.weight":{"dtype":"%s","shape":[%s],"data_offsets":[%s]}}'):format(c[1], c[2], c[3])
      assert.are.equal(c[4], load_raw(header, data))
    end
    assert.are.equal("load: tensors 'a' and 'b' overlap (data_offsets [0, 80] and [40, 120])",
      load_raw('{"a":{"dtype":"F32","shape":[20],"data_offsets":[0,80]},' ..
               '"b":{"dtype":"F64","shape":[10],"data_offsets":[40,120]}}', data .. data))
    assert.are.equal("load: invalid JSON at byte 53: duplicate key 'a'",
      load_raw('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],' ..
               '"data_offsets":[1,2]}}', data))
    assert.are.equal("load: metadata 'epoch' must be a string (got integer)",
      load_raw('{"__metadata__":{"epoch":3}}'))
  end)

  it("turns every truncation and byte flip of a valid file into a Lua error, never a crash", function()
    local good = path("good.safetensors")
    wick.save(good, sample(), {metadata = {format = "pt"}})
    local bytes = read(good)
    local hlen = string.unpack("<I8", bytes)
    for len = 0, #bytes - 1 do
      write(p, bytes:sub(1, len))
      local ok, msg = pcall(wick.load, p)
      assert.is_false(ok, "truncated at " .. len)
      assert.matches("^load: ", msg)
    end
    local rng = 12345
    local function rand(n) rng = (rng * 1103515245 + 12345) % 2147483648; return rng % n end
    local loaded = 0
    for _ = 1, 400 do
      local b = { bytes:byte(1, 8 + hlen) }
      for _ = 1, 1 + rand(3) do
        local at = 1 + rand(8 + hlen)
        b[at] = rand(4) == 0 and rand(256) or (b[at] ~ (1 << rand(8)))
      end
      write(p, string.char(table.unpack(b)) .. bytes:sub(9 + hlen))
      local ok, res = pcall(wick.load, p)
      if ok then loaded = loaded + 1 else assert.matches("^load: ", res) end
    end
    assert.is_true(loaded < 400)
  end)
end)

describe("PyTorch interop (safetensors_ref.py)", function()
  local python = os.getenv("WICK_PYTHON") or "/usr/bin/python3"
  local pydeps = os.getenv("WICK_PYDEPS") or (root .. "/build/pydeps")
  local script = root .. "/spec/ref/safetensors_ref.py"
  local function py(args)
    local errf = os.tmpname()
    local out, code = helpers.run(("PYTHONPATH=%q %q %q %s 2>%q"):format(pydeps, python, script, args, errf))
    local e = read(errf)
    os.remove(errf)
    return out, code, e
  end
  local _, have = helpers.run(("PYTHONPATH=%q %q -c %q 2>/dev/null"):format(pydeps, python,
    "import importlib.util as u, sys; sys.exit(not (u.find_spec('torch') and u.find_spec('safetensors')))"))
  local why = ("needs %s with torch and safetensors (python3 -m pip install --target %s safetensors, " ..
               "or set WICK_PYDEPS)"):format(python, pydeps)

  it("loads a state dict saved by PyTorch (keys, shapes, dtypes, values)", function()
    if have ~= 0 then pending(why); return end
    local p = path("torch.safetensors")
    local out, code, e = py("write " .. p)
    assert.are.equal(0, code, e)
    local want = assert(load(out))()
    local got, meta = wick.load(p)
    assert.are.equal(count(want), count(got))
    for k, w in pairs(want) do
      local t = got[k]
      assert.is_not_nil(t, k)
      assert.are.equal(w.dtype, t.dtype, k)
      assert.are.same(w.shape, t.shape, k)
      assert.are.same(w.values, flat(t:tolist()), k)
    end
    assert.are.equal("i64", got["1.num_batches_tracked"].dtype)
    assert.are.equal(3, got["1.num_batches_tracked"]:item())
    assert.are.equal("pt", meta.format)
    -- re-saved by wick, it loads into the same torch model with strict=True
    local again = path("torch_again.safetensors")
    wick.save(again, got, {metadata = meta})
    out, code, e = py("reload " .. again)
    assert.are.equal("ok\n", out, e)
    assert.are.equal(0, code)
  end)

  it("PyTorch loads what wick saves, every dtype", function()
    if have ~= 0 then pending(why); return end
    local p = path("from_wick.safetensors")
    wick.save(p, sample(), {metadata = {format = "pt", note = "héllo"}})
    local out, code, e = py("check " .. p)
    assert.are.equal("ok\n", out, e)
    assert.are.equal(0, code)
  end)
end)
