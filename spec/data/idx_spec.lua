-- IDX files (wick.data.read_idx / write_idx): hand-built files of every type code, gzip and
-- plain round trips, and word-for-word errors for corrupt, truncated and lying files.
local helpers = require("helpers")
local data = wick.data

local err = require("helpers").err

local dir = helpers.tmpdir()
local function path(name) return dir .. "/" .. name end

local function write(p, bytes)
  local f = assert(io.open(p, "wb"))
  f:write(bytes)
  f:close()
  return p
end

local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function gzip(p)
  assert(os.execute(("gzip -n -f -k %q"):format(p)))
  return p .. ".gz"
end

-- an IDX header: type code, then the dims
local function header(code, dims)
  local s = string.pack(">BBBB", 0, 0, code, #dims)
  for _, d in ipairs(dims) do s = s .. string.pack(">I4", d) end
  return s
end

describe("read_idx", function()
  it("reads u8 data with its dims, plain and gzip", function()
    local p = write(path("u8"), header(0x08, { 2, 3 }) .. string.char(0, 1, 2, 253, 254, 255))
    for _, file in ipairs({ p, gzip(p) }) do
      local t = data.read_idx(file)
      assert.are.equal("u8", t.dtype)
      assert.are.same({ 2, 3 }, t.shape)
      assert.are.same({ { 0, 1, 2 }, { 253, 254, 255 } }, t:tolist())
    end
  end)

  it("decodes big-endian i32, f32 and f64", function()
    local t = data.read_idx(write(path("i32"), header(0x0C, { 3 }) .. string.pack(">i4i4i4", 1, -2, 2147483647)))
    assert.are.equal("i32", t.dtype)
    assert.are.same({ 1, -2, 2147483647 }, t:tolist())
    t = data.read_idx(write(path("f32"), header(0x0D, { 2 }) .. string.pack(">ff", 1.5, -0.25)))
    assert.are.equal("f32", t.dtype)
    assert.are.same({ 1.5, -0.25 }, t:tolist())
    t = data.read_idx(write(path("f64"), header(0x0E, { 1, 2 }) .. string.pack(">dd", 0.1, -1e300)))
    assert.are.equal("f64", t.dtype)
    assert.are.same({ { 0.1, -1e300 } }, t:tolist())
  end)

  it("widens the signed i8 and i16 types to i32", function()
    local t = data.read_idx(write(path("i8"), header(0x09, { 3 }) .. string.pack(">i1i1i1", -128, -1, 127)))
    assert.are.equal("i32", t.dtype)
    assert.are.same({ -128, -1, 127 }, t:tolist())
    t = data.read_idx(write(path("i16"), header(0x0B, { 2 }) .. string.pack(">i2i2", -32768, 1234)))
    assert.are.equal("i32", t.dtype)
    assert.are.same({ -32768, 1234 }, t:tolist())
  end)

  it("reads empty tensors", function()
    local t = data.read_idx(write(path("empty"), header(0x08, { 0, 28, 28 })))
    assert.are.same({ 0, 28, 28 }, t.shape)
  end)

  it("tells gzip from plain by content, not by name", function()
    local p = write(path("plain.gz"), header(0x08, { 1 }) .. "\7")
    assert.are.same({ 7 }, data.read_idx(p):tolist())
  end)
end)

describe("write_idx", function()
  it("round-trips every writable dtype, plain and gzip", function()
    local ts = {
      wick.arange(24):reshape(2, 3, 4):to("u8"),
      wick.tensor({ -5, 0, 7 }, { dtype = "i32" }),
      wick.tensor({ { 1.5, -2.25 }, { 3e-3, 1e30 } }),
      wick.tensor({ 0.1, -0.3 }, { dtype = "f64" }),
    }
    for k, t in ipairs(ts) do
      for _, gz in ipairs({ false, true }) do
        local p = path("rt" .. k .. (gz and ".gz" or ""))
        data.write_idx(p, t, { gzip = gz })
        assert.are.equal(gz, read(p):sub(1, 2) == "\31\139")
        local r = data.read_idx(p)
        assert.are.equal(t.dtype, r.dtype)
        assert.are.same(t.shape, r.shape)
        assert.are.same(t:tolist(), r:tolist())
      end
    end
  end)

  it("writes the exact bytes of the format", function()
    local p = path("exact")
    data.write_idx(p, wick.tensor({ 1, 258 }, { dtype = "i32" }))
    assert.are.equal(header(0x0C, { 2 }) .. string.pack(">i4i4", 1, 258), read(p))
  end)

  it("writes strided views as their values", function()
    local t = wick.arange(6):reshape(2, 3):t():to("u8")
    local p = path("strided")
    data.write_idx(p, t)
    assert.are.same({ { 0, 3 }, { 1, 4 }, { 2, 5 } }, data.read_idx(p):tolist())
  end)

  it("rejects what IDX cannot hold", function()
    assert.are.equal("idx: cannot write i64 tensors (IDX holds u8, i32, f32 or f64)",
      err(data.write_idx, path("x"), wick.arange(3)))
    assert.are.equal("idx: cannot write a 0-d tensor (IDX needs 1 to 8 dims)",
      err(data.write_idx, path("x"), wick.tensor(1.5)))
    assert.are.equal("idx: cannot open '/nonexistent-dir/x' for writing: No such file or directory",
      err(data.write_idx, "/nonexistent-dir/x", wick.ones(2)))
    assert.are.equal("write_idx: unknown option 'gzp' (did you mean 'gzip'?)",
      err(data.write_idx, path("x"), wick.ones(2), { gzp = true }))
  end)
end)

describe("read_idx errors", function()
  it("names a missing file", function()
    assert.are.equal("idx: cannot open '" .. path("none") .. "': No such file or directory",
      err(data.read_idx, path("none")))
  end)

  it("rejects a directory", function()
    assert.are.equal("idx: '" .. dir .. "' is not a regular file", err(data.read_idx, dir))
  end)

  it("checks the magic, the type code and the number of dims", function()
    local p = write(path("magic"), "\1\0\8\1" .. string.pack(">I4", 1) .. "x")
    assert.are.equal("idx: '" .. p .. "' is not an IDX file (magic 0x01000801)", err(data.read_idx, p))
    p = write(path("code"), header(0x0A, { 1 }) .. "x")
    assert.are.equal("idx: '" .. p .. "': unknown data type code 0x0a", err(data.read_idx, p))
    p = write(path("nodim"), "\0\0\8\0x")
    assert.are.equal("idx: '" .. p .. "': 0 dimensions (expected 1 to 8)", err(data.read_idx, p))
    p = write(path("ninedims"), header(0x08, { 1, 1, 1, 1, 1, 1, 1, 1, 1 }) .. "x")
    assert.are.equal("idx: '" .. p .. "': 9 dimensions (expected 1 to 8)", err(data.read_idx, p))
  end)

  it("rejects short and truncated headers", function()
    local p = write(path("short"), "\0\0")
    assert.are.equal("idx: '" .. p .. "': file too short for an IDX header (2 bytes)", err(data.read_idx, p))
    p = write(path("trunchead"), header(0x08, { 60000, 28, 28 }):sub(1, 12))
    assert.are.equal("idx: '" .. p .. "': truncated header (12 of 16 bytes)", err(data.read_idx, p))
  end)

  it("checks the data length against the dims before reading", function()
    local p = write(path("shortdata"), header(0x08, { 2, 3 }) .. "12345")
    assert.are.equal("idx: '" .. p .. "': data length 5 bytes does not match dims [2, 3] of u8 (6 bytes)",
      err(data.read_idx, p))
    p = write(path("longdata"), header(0x0D, { 2 }) .. string.rep("\0", 9))
    assert.are.equal("idx: '" .. p .. "': data length 9 bytes does not match dims [2] of f32 (8 bytes)",
      err(data.read_idx, p))
    p = write(path("huge"), header(0x08, { 4294967295, 4294967295, 4294967295 }))
    assert.are.equal("idx: '" .. p .. "': dims [4294967295, 4294967295, 4294967295] are too large",
      err(data.read_idx, p))
  end)

  it("never allocates what a small gzip file cannot hold", function()
    -- 12 header bytes claiming 4 GiB: the gzip length field (mod 2^32) agrees, the size cannot
    local gz = gzip(write(path("bomb"), header(0x08, { 65536, 65536 })))
    assert.are.equal("idx: '" .. gz .. "': data length 0 bytes does not match dims [65536, 65536] of u8 (4294967296 bytes)",
      err(data.read_idx, gz))
  end)

  it("rejects truncated and corrupt gzip files", function()
    local t = wick.arange(4096):remainder(251):to("u8")
    local p = path("good.gz")
    data.write_idx(p, t, { gzip = true })
    local bytes = read(p)
    -- cut: the length field is gone (whatever the last 4 bytes say, it is not the length), and
    -- the message says the file is cut short, not that its length is wrong
    local cut = write(path("cut.gz"), bytes:sub(1, #bytes // 2))
    assert.are.equal(("idx: '%s': truncated gzip file (%d bytes): the compressed data ends early"):format(cut, #bytes // 2),
      err(data.read_idx, cut))
    -- cut inside the header, and just before the trailer
    local head = write(path("head.gz"), bytes:sub(1, 20))
    assert.are.equal(("idx: '%s': truncated gzip file (20 bytes): the compressed data ends early"):format(head),
      err(data.read_idx, head))
    local tail = write(path("tail.gz"), bytes:sub(1, #bytes - 8))
    assert.are.equal(("idx: '%s': truncated gzip file (%d bytes): the compressed data ends early"):format(tail, #bytes - 8),
      err(data.read_idx, tail))
    -- the CRC of the data, flipped: zlib notices at the end of the stream
    local crc = #bytes - 7
    local bad = write(path("crc.gz"), bytes:sub(1, crc - 1) .. string.char(bytes:byte(crc) ~ 0xff) .. bytes:sub(crc + 1))
    assert.are.equal("idx: '" .. bad .. "': corrupt gzip data (incorrect data check)", err(data.read_idx, bad))
    -- a gzip file too short to have a trailer
    local tiny = write(path("tiny.gz"), "\31\139\8\0")
    assert.are.equal("idx: '" .. tiny .. "': truncated gzip file (4 bytes)", err(data.read_idx, tiny))
  end)

  it("survives every truncation of a gzip file with an error", function()
    local p = path("fuzz.gz")
    data.write_idx(p, wick.arange(300):to("u8"):reshape(3, 100), { gzip = true })
    local bytes = read(p)
    for n = 0, #bytes - 1 do
      local q = write(path("fuzz_cut.gz"), bytes:sub(1, n))
      local ok, msg = pcall(data.read_idx, q)
      assert.is_false(ok)
      assert.matches("^idx: ", msg)
    end
  end)
end)
