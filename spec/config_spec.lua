-- wick.config: YAML loading (core-schema typing, anchors, merge keys, limits, errors) and dump.
local wick = require("wick")
local config = wick.config
local helper = require("wick_run")

-- Deep equality that also tells 1 from 1.0 and matches NaN with NaN.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if a ~= a then return b ~= b end
    return math.type(a) == math.type(b) and a == b
  end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function load_error(text, opts)
  local ok, err = pcall(config.loads, text, opts)
  assert.is_false(ok)
  return err
end

describe("wick.config.loads", function()
  it("types plain scalars with the YAML 1.2 core schema", function()
    local cases = {
      { "42", 42, "integer" }, { "-7", -7, "integer" }, { "+3", 3, "integer" },
      { "0x1F", 31, "integer" }, { "0o17", 15, "integer" }, { "0", 0, "integer" },
      { "1.5", 1.5, "float" }, { "1e-3", 1e-3, "float" }, { "1.", 1.0, "float" },
      { ".5", 0.5, "float" }, { "-2.5E2", -250.0, "float" }, { "3.0", 3.0, "float" },
      { ".inf", math.huge, "float" }, { "-.inf", -math.huge, "float" }, { ".Inf", math.huge, "float" },
      { "true", true }, { "True", true }, { "TRUE", true }, { "false", false }, { "False", false },
      { "abc", "abc" }, { "1_000", "1_000" }, { "yes", "yes" }, { "on", "on" }, { "0b101", "0b101" },
      { "'1'", "1" }, { '"true"', "true" }, { "'null'", "null" }, { '""', "" }, { "'1.5'", "1.5" },
      { "2024-01-01", "2024-01-01" }, { "!!str 12", "12" }, { "!!float 3", 3.0, "float" },
      { "!!int '7'", 7, "integer" }, { "! 12", "12" },
    }
    for _, c in ipairs(cases) do
      local v = config.loads("v: " .. c[1]).v
      assert.are.equal(c[2], v, c[1])
      if c[3] then assert.are.equal(c[3], math.type(v), c[1]) end
    end
    local nan = config.loads("v: .nan").v
    assert.is_true(nan ~= nan)
  end)

  it("loads null as nil: the key is absent, unless keep_null keeps wick.config.null", function()
    local t = config.loads("a: ~\nb: null\nc:\nd: NULL\ne: 1\n")
    assert.is_true(same(t, { e = 1 }))
    local k = config.loads("a: ~\nb:\ne: 1\n", { keep_null = true })
    assert.are.equal(config.null, k.a)
    assert.are.equal(config.null, k.b)
    assert.are.equal("null", tostring(config.null))
    -- in sequences null keeps its place
    local s = config.loads("[1, null, 3]")
    assert.are.equal(3, #s)
    assert.are.equal(config.null, s[2])
    assert.is_nil(config.loads(""))
    assert.is_nil(config.loads("# just a comment\n"))
    assert.is_nil(config.loads("~"))
  end)

  it("makes sequences arrays and mappings tables; integer keys stay integers", function()
    local t = config.loads("list: [1, [2, 3], {a: b}]\n0: zero\n0x10: sixteen\ntrue: t\n1.5: x\n'2': two\n")
    assert.is_true(same(t.list, { 1, { 2, 3 }, { a = "b" } }))
    assert.are.equal("zero", t[0])
    assert.are.equal("sixteen", t[16])
    assert.are.equal("t", t["true"])
    assert.are.equal("x", t["1.5"])
    assert.are.equal("two", t["2"])
    assert.is_nil(t[2])
    local block = config.loads("model:\n  layers:\n    - 784\n    - 10\n  act: relu\n")
    assert.is_true(same(block, { model = { layers = { 784, 10 }, act = "relu" } }))
  end)

  it("expands anchors and aliases into independent copies", function()
    local t = config.loads("base: &b {lr: 0.1, sizes: [1, 2]}\ncopy: *b\nname: &n abc\nalso: *n\n")
    assert.is_true(same(t.base, t.copy))
    assert.are_not.equal(t.base, t.copy)
    t.copy.sizes[1] = 99
    assert.are.equal(1, t.base.sizes[1])
    assert.are.equal("abc", t.also)
  end)

  it("supports merge keys: explicit keys win, then earlier sources", function()
    local t = config.loads([[
defaults: &d {lr: 0.1, momentum: 0.9, nesterov: false}
adam: &a {lr: 0.001, betas: [0.9, 0.999]}
sgd:
  <<: *d
  lr: 0.5
mixed:
  <<: [*a, *d]
]])
    assert.is_true(same(t.sgd, { lr = 0.5, momentum = 0.9, nesterov = false }))
    assert.is_true(same(t.mixed, { lr = 0.001, betas = { 0.9, 0.999 }, momentum = 0.9, nesterov = false }))
    assert.are.equal(1, config.loads("'<<': 1")["<<"]) -- a quoted << is a plain key
  end)

  it("rejects tags other than the standard data tags", function()
    assert.are.equal("config: tag '!python/object' is not allowed (YAML is data only) at line 3, column 6",
      load_error("a: 1\nb:\n  c: !python/object\n    x: 1\n"))
    assert.are.equal("config: tag '!!python/object/apply:os.system' is not allowed (YAML is data only) at line 1, column 4",
      load_error("x: !!python/object/apply:os.system ['ls']\n"))
    assert.are.equal("config: tag '!ruby/hash' is not allowed (YAML is data only) at line 1, column 1",
      load_error("!ruby/hash {a: 1}\n"))
    assert.are.equal("config: tag '!!map' does not fit a sequence at line 1, column 4",
      load_error("x: !!map [1, 2]\n"))
    assert.are.equal("config: 'abc' is not a valid !!int at line 1, column 4", load_error("x: !!int abc\n"))
  end)

  it("raises on malformed YAML with the line and column", function()
    assert.are.equal("config: mapping values are not allowed in this context at line 2, column 5",
      load_error("a: 1\nb: c: d\n"))
    assert.are.equal("config: did not find expected ',' or ']' at line 2, column 1", load_error("a: [1, 2\n"))
    assert.are.equal("config: found unexpected end of stream at line 2, column 1", load_error("a: 'abc\n"))
    assert.are.equal("config: duplicate key 'lr' at line 3, column 1", load_error("lr: 1\nepochs: 2\nlr: 3\n"))
    assert.are.equal("config: undefined alias '*nope' at line 1, column 4", load_error("a: *nope\n"))
    assert.are.equal("config: mapping keys must be scalars at line 1, column 3", load_error("? [1]\n: x\n"))
    assert.are.equal("config: integer 99999999999999999999 does not fit in 64 bits at line 1, column 4",
      load_error("n: 99999999999999999999\n"))
    assert.are.equal("config: found a second document (a config holds exactly one) at line 2, column 1",
      load_error("a: 1\n---\nb: 2\n"))
    assert.are.equal("config: mapping values are not allowed in this context at line 1, column 5",
      load_error("a: b: c: d", { name = nil }))
  end)

  it("names the file in load errors", function()
    local dir = helper.tmpdir()
    local path = dir .. "/fashion_mnist.yaml"
    helper.write(path, "data_dir: /data\nbatch_size: 64\nepochs: 3\nlr: 0.1: 2\n")
    local ok, err = pcall(config.load, path)
    assert.is_false(ok)
    assert.are.equal("config: " .. path .. ":4:8: mapping values are not allowed in this context", err)
    helper.write(path, "a: 1\n")
    assert.is_true(same(config.load(path), { a = 1 }))
    ok, err = pcall(config.load, dir .. "/missing.yaml")
    assert.is_false(ok)
    assert.are.equal("config: cannot open '" .. dir .. "/missing.yaml': No such file or directory", err)
    helper.rmdir(dir)
    assert.are.equal("config: x.yaml:1:4: tag '!x' is not allowed (YAML is data only)",
      load_error("a: !x 1\n", { name = "x.yaml" }))
  end)

  it("bounds nesting and alias expansion (a billion laughs fails fast)", function()
    local laughs = { 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]' }
    local prev = "a"
    for c in ("bcdefghi"):gmatch(".") do
      laughs[#laughs + 1] = string.format("%s: &%s [%s]", c, c, ("*" .. prev .. ","):rep(8) .. "*" .. prev)
      prev = c
    end
    local t0 = os.clock()
    local err = load_error(table.concat(laughs, "\n") .. "\n")
    assert.are.equal('config: aliases expand to more than 1000000 nodes (is this a "billion laughs" document?) at line 7, column 4', err)
    assert.is_true(os.clock() - t0 < 1)
    assert.are.equal("config: nesting deeper than 200 levels at line 1, column 201",
      load_error(("["):rep(201) .. ("]"):rep(201)))
    assert.are.equal(199, (function()
      local v, d = config.loads(("["):rep(200) .. ("]"):rep(200)), 0
      while v[1] do v, d = v[1], d + 1 end
      return d
    end)())
  end)

  it("checks its arguments and options", function()
    assert.are.equal("config.loads: unknown option 'keepnull' (did you mean 'keep_null'?)",
      select(2, pcall(config.loads, "a: 1", { keepnull = true })))
    assert.are.equal("config.loads: expected a string (got number)", select(2, pcall(config.loads, 1)))
    assert.are.equal("config.load: expected a path (got nil)", select(2, pcall(config.load)))
  end)
end)

describe("wick.config.dump", function()
  it("writes block YAML with sorted keys, quoting strings that would re-type", function()
    local text = config.dump({
      lr = 0.1, epochs = 3, name = "run", flag = true, one = 1.0, big = 1e20,
      strs = { "true", "1.0", "null", "", "~", "yes", "0x10", "abc", "<<" },
      nested = { b = 2, a = { 1, 2 } }, empty = {}, none = config.null,
      inf = math.huge,
    })
    assert.are.equal([[
big: 1.0e+20
empty: {}
epochs: 3
flag: true
inf: .inf
lr: 0.1
name: run
nested:
  a:
  - 1
  - 2
  b: 2
none: null
one: 1.0
strs:
- "true"
- "1.0"
- "null"
- ""
- "~"
- "yes"
- "0x10"
- abc
- "<<"
]], text)
    assert.are.equal("0: a\n1: b\nx: c\n", config.dump({ [0] = "a", [1] = "b", x = "c" }))
    assert.are.equal("- a\n- b\n", config.dump({ "a", "b" }))
    assert.are.equal("text: |-\n  two\n  lines\n", config.dump({ text = "two\nlines" }))
  end)

  it("round-trips: load(dump(t)) equals t, floats stay floats", function()
    local t = {
      lr = 1.0, wd = 5e-4, tiny = 1e-300, neg = -0.5, pi = math.pi, third = 1 / 3,
      n = 10, big = math.maxinteger, small = math.mininteger, ok = false,
      name = "fashion mnist", path = "/data/x: y", quote = "it's \"quoted\"",
      unicode = "héllo ✓", multi = "a\n  b\nc\n", lead = "  spaces  ", hash = "a #b",
      strs = { "true", "False", "NULL", "1e3", ".inf", "-1", "0o7", "", "-", "*x", "&y", "!z", "%p", "@q" },
      nested = { deep = { deeper = { 1, 2.5, "3", { k = "v" } } } },
      ints = { [0] = "zero", [7] = "seven" }, inf = -math.huge,
    }
    local text = config.dump(t)
    local back = config.loads(text)
    assert.is_true(same(t, back), text)
    local nan = config.loads(config.dump({ x = 0 / 0 })).x
    assert.is_true(nan ~= nan)
  end)

  it("rejects what YAML data cannot hold", function()
    assert.are.equal("config: cannot dump a function (at 'main')", select(2, pcall(config.dump, { main = print })))
    assert.are.equal("config: cannot dump a userdata (at 'w.1')",
      select(2, pcall(config.dump, { w = { wick.zeros(2) } })))
    local cyc = { a = {} }
    cyc.a.back = cyc
    assert.are.equal("config: table contains itself (a cycle) (at 'a.back')", select(2, pcall(config.dump, cyc)))
    assert.are.equal("config: table keys must be strings or integers, got a boolean key (at 'x')",
      select(2, pcall(config.dump, { x = { [true] = 1 } })))
    assert.are.equal("config: cannot dump a string that is not valid UTF-8",
      select(2, pcall(config.dump, { b = "\255" })))
    -- shared (not cyclic) subtables are fine
    local shared = { 1 }
    assert.are.equal("a:\n- 1\nb:\n- 1\n", config.dump({ a = shared, b = shared }))
  end)
end)
