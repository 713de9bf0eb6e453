-- Random numbers: generators, seeding and state, the random factories and in-place fills.
-- Values are PyTorch's (spec/ref/rng_ref.py -> spec/ref/rng_ref.lua, torch 1.13 on x86-64), and
-- the interop block reruns that script live for a fresh seed when python3-torch is installed.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"

local err = require("helpers").err

-- a flat Lua list of t's elements in logical order
local function flat(t)
  local c = t:contiguous()
  if c:dim() == 0 then return { c:item() } end
  return c:view(-1):tolist()
end

local function fnv(state)
  local h = 2166136261
  for _, b in ipairs(state:tolist()) do h = ((h ~ b) * 16777619) & 0xFFFFFFFF end
  return h
end

-- Replays one step of rng_ref.py on generator g (nil: the default generator).
local function run_step(st, g)
  local o = { generator = g }
  local int_op = st.op == "randperm" or st.op == "randint"
  o.dtype = st.dtype or (int_op and "i64" or "f32")
  local op = st.op
  if op == "randperm" then return wick.randperm(st.n, o) end
  if op == "rand" then return wick.rand(st.size, o) end
  if op == "randn" then return wick.randn(st.size, o) end
  if op == "randint" then return wick.randint(st.low, st.high, st.size, o) end
  local function empty(size) return wick.empty(size, { dtype = o.dtype }) end
  local go = { generator = g }
  if op == "uniform_" then return empty(st.size):uniform_(st.from, st.to, go) end
  if op == "normal_" then return empty(st.size):normal_(st.mean, st.std, go) end
  if op == "bernoulli_" then return empty(st.size):bernoulli_(st.p, go) end
  if op == "bernoulli" then return wick.bernoulli(wick.tensor(st.probs, { dtype = o.dtype }), go) end
  if op == "exponential_" then return empty(st.size):exponential_(st.lambd, go) end
  if op == "random_" then
    local t = empty(st.size)
    if st.to then return t:random_(st.from or 0, st.to, go) end
    return t:random_(go)
  end
  if op == "uniform_t" then return empty(st.size):t():uniform_(go) end
  if op == "normal_t" then return empty(st.size):t():normal_(go) end
  if op == "normal_tensor" then return wick.normal(wick.tensor(st.mean, { dtype = o.dtype }), st.std, go) end
  if op == "multinomial" then
    return wick.multinomial(wick.tensor(st.probs, { dtype = o.dtype }), st.n, st.replacement, go)
  end
  if op == "state_hash" then return fnv((g or wick.default_generator):get_state()) end
  error("unknown step " .. op)
end

local function show(v)
  if type(v) ~= "table" then return tostring(v) end
  local items = {}
  for i, x in ipairs(v) do items[i] = show(x) end
  return "{" .. table.concat(items, ",") .. "}"
end

local function describe_step(st)
  local parts = {}
  for k, v in pairs(st) do
    if k ~= "op" then parts[#parts + 1] = k .. "=" .. show(v) end
  end
  table.sort(parts)
  return st.op .. "(" .. table.concat(parts, " ") .. ")"
end

-- Compares one result with PyTorch's: integers exactly, floats to 1e-6 relative (they agree bit
-- for bit here; the margin is for other C libraries' log/sin/cos).
local function check_result(got, want, what)
  if want.int then
    assert(got == want.int, ("%s: state hash %s, PyTorch %s"):format(what, got, want.int))
    return
  end
  local shape = got.shape
  assert(#shape == #want.shape, what .. ": rank")
  for i = 1, #shape do assert(shape[i] == want.shape[i], what .. ": shape") end
  local vals = flat(got)
  assert(#vals == #want.values, what .. ": element count")
  local isfloat = got:is_floating_point()
  for i, w in ipairs(want.values) do
    local v = vals[i]
    local ok
    if isfloat then ok = math.abs(v - w) <= 1e-6 * math.abs(w) + 1e-12
    else ok = v == w end
    if not ok then error(("%s: element %d is %.17g, PyTorch %.17g"):format(what, i - 1, v, w), 0) end
  end
end

local function run_case(case)
  local g
  if case.seed then
    wick.manual_seed(case.seed)
  else
    g = wick.Generator()
    if case.gen_seed then g:manual_seed(case.gen_seed) end
  end
  for i, st in ipairs(case.steps) do
    check_result(run_step(st, g), case.results[i], describe_step(st))
  end
end

local function case_name(case)
  local who = case.seed and ("seed " .. case.seed) or case.gen_seed and ("Generator seeded " .. case.gen_seed)
    or "a fresh Generator"
  local ops = {}
  for _, st in ipairs(case.steps) do
    ops[#ops + 1] = st.op .. (st.n and ("(" .. st.n .. ")") or st.dtype and ("/" .. st.dtype) or "")
  end
  return who .. ": " .. table.concat(ops, " ")
end

describe("random: PyTorch's values", function()
  local refs = dofile(here .. "/ref/rng_ref.lua")
  for _, case in ipairs(refs) do
    it(case_name(case), function() run_case(case) end)
  end
end)

describe("random: interop with python3-torch", function()
  -- Debian's python3 has torch (a python3 earlier on PATH may not); WICK_TORCH_PYTHON overrides
  local py = os.getenv("WICK_TORCH_PYTHON") or "/usr/bin/python3"
  local function have_torch()
    local f = io.open(py, "r")
    if not f then return false end
    f:close()
    return os.execute(py .. " -c 'import torch' >/dev/null 2>&1") == true
  end

  it("matches torch live for a fresh random seed", function()
    if not have_torch() then pending("python3-torch not installed") return end
    local seed = wick.Generator():seed() % 1000000007
    local p = io.popen(("%s %s/ref/rng_ref.py --seed %d 2>/dev/null"):format(py, here, seed))
    local src = p:read("a")
    p:close()
    local chunk = assert(load(src, "rng_ref --seed " .. seed))
    local cases = chunk()
    assert.is_true(#cases > 10)
    for _, case in ipairs(cases) do
      local ok, msg = pcall(run_case, case)
      if not ok then error(("seed %d, %s: %s"):format(seed, case_name(case), msg), 0) end
    end
  end)

  it("writes the same state bytes as torch.get_rng_state", function()
    if not have_torch() then pending("python3-torch not installed") return end
    local p = io.popen(py .. " -c 'import torch; torch.manual_seed(3); torch.randn(1); "
      .. "print(\",\".join(map(str, torch.get_rng_state().tolist())))' 2>/dev/null")
    local line = p:read("l")
    p:close()
    wick.manual_seed(3)
    wick.randn(1)
    local mine = wick.get_rng_state():tolist()
    local i = 0
    for b in line:gmatch("%d+") do
      i = i + 1
      assert(mine[i] == tonumber(b), ("byte %d: %s vs torch %s"):format(i - 1, mine[i], b))
    end
    assert.are.equal(5056, i)
  end)
end)

describe("random: generators and seeding", function()
  it("manual_seed returns the default generator and sets initial_seed", function()
    local g = wick.manual_seed(123)
    assert.are.equal(wick.default_generator, g)
    assert.are.equal(123, wick.initial_seed())
    assert.are.equal(123, g:initial_seed())
    assert.are.equal("cpu", g.device)
  end)

  it("wraps negative seeds like PyTorch (2^64 + s, reported with the same bits)", function()
    wick.manual_seed(-1)
    assert.are.equal(-1, wick.initial_seed())
    local a = flat(wick.randperm(10))
    wick.manual_seed(0xFFFFFFFF) -- the engine uses the low 32 bits only
    assert.are.same(a, flat(wick.randperm(10)))
  end)

  it("rejects seeds that are not integers", function()
    assert.are.equal("manual_seed: seed must be an integer (got 1.5)", err(wick.manual_seed, 1.5))
    assert.are.equal("manual_seed: seed must be an integer (got table)", err(wick.manual_seed, {}))
    assert.are.equal("manual_seed: seed must be an integer (got 2.5)", err(function() wick.Generator():manual_seed(2.5) end))
  end)

  it("seed() picks a fresh non-negative seed and reports it", function()
    local s = wick.seed()
    assert.is_true(math.type(s) == "integer" and s >= 0)
    assert.are.equal(s, wick.initial_seed())
    local g = wick.Generator()
    local s2 = g:seed()
    assert.are.equal(s2, g:initial_seed())
  end)

  it("new generators start from PyTorch's default seed and are independent", function()
    local g = wick.Generator()
    assert.are.equal(67280421310721, g:initial_seed())
    assert.are.equal("wick.Generator(initial_seed=67280421310721)", tostring(g))
    wick.manual_seed(5)
    local a = flat(wick.rand(4))
    wick.manual_seed(5)
    wick.rand(3, { generator = g }) -- draws from g leave the default alone
    assert.are.same(a, flat(wick.rand(4)))
    assert.are.equal(g, g:manual_seed(9))
    assert.are.same(flat(wick.Generator():manual_seed(9):get_state()), flat(g:get_state()))
  end)

  it("get_state / set_state round-trip, including the cached normal", function()
    for _, g in ipairs({ wick.default_generator, wick.Generator():manual_seed(11) }) do
      wick.randn(1, { generator = g }) -- leaves the second Box-Muller value cached
      local s = g:get_state()
      assert.are.equal("u8", s.dtype)
      assert.are.same({ 5056 }, s.shape)
      local a, b = flat(wick.randn(3, { generator = g })), flat(wick.rand(20, { generator = g }))
      assert.are.equal(g, g:set_state(s))
      assert.are.same(a, flat(wick.randn(3, { generator = g })))
      assert.are.same(b, flat(wick.rand(20, { generator = g })))
    end
    local s = wick.get_rng_state()
    local a = flat(wick.randperm(50))
    wick.set_rng_state(s)
    assert.are.same(a, flat(wick.randperm(50)))
  end)

  it("manual_seed drops the cached normal", function()
    wick.manual_seed(0)
    local first = wick.randn(1):item()
    wick.manual_seed(0)
    wick.randn(1)
    wick.manual_seed(0)
    assert.are.equal(first, wick.randn(1):item())
  end)

  it("set_state validates the blob", function()
    local g = wick.Generator()
    assert.are.equal("set_state: expected a state of 5056 bytes (or 5048, PyTorch's legacy layout), got 10 bytes",
      err(function() g:set_state(wick.zeros(10, { dtype = "u8" })) end))
    assert.are.equal("set_state: invalid mt19937 state (left=0, next=0)",
      err(function() g:set_state(wick.zeros(5056, { dtype = "u8" })) end))
    assert.are.equal("set_state: expected a u8 tensor, got f32", err(function() g:set_state(wick.zeros(5056)) end))
    assert.are.equal(67280421310721, g:initial_seed()) -- unchanged by the failures
  end)

  it("Generator accepts only the CPU", function()
    assert.are.equal("cpu", wick.Generator("cpu").device)
    assert.are.equal("cpu", wick.Generator({ device = "cpu" }).device)
    assert.are.equal("Generator: only CPU generators are supported (got cuda:0)", err(wick.Generator, "cuda:0"))
  end)

  it("checks the generator option", function()
    assert.are.equal("option 'generator' must be a wick.Generator (got number)", err(wick.rand, 2, { generator = 5 }))
    assert.are.equal("rand: unknown option 'genrator' (did you mean 'generator'?)",
      err(wick.rand, 2, { genrator = wick.Generator() }))
    local g = wick.Generator()
    local close = getmetatable(g).__close
    close(g)
    assert.are.equal("attempt to use a released generator", err(wick.rand, 2, { generator = g }))
    assert.are.equal("wick.Generator (released)", tostring(g))
  end)
end)

describe("random: factories", function()
  it("rand / randn take sizes as varargs or a table, and dtype", function()
    assert.are.same({ 2, 3 }, wick.rand(2, 3).shape)
    assert.are.same({ 2, 3 }, wick.randn({ 2, 3 }).shape)
    assert.are.same({}, wick.rand().shape)
    assert.are.equal("f64", wick.rand(2, { dtype = "f64" }).dtype)
    assert.are.equal("f32", wick.randn(2).dtype)
    assert.are.equal("rand: dtype must be a floating point type (got i64)", err(wick.rand, 2, { dtype = "i64" }))
    assert.are.equal("randn: dtype must be a floating point type (got bool)", err(wick.randn, 2, { dtype = "bool" }))
  end)

  it("rand is in [0, 1) and randn is standard normal over a million draws", function()
    wick.manual_seed(2024)
    local u = wick.rand(1000000)
    assert.is_true(u:min():item() >= 0 and u:max():item() < 1)
    assert.is_true(math.abs(u:mean():item() - 0.5) < 0.002)
    local n = wick.randn(1000000)
    assert.is_true(math.abs(n:mean():item()) < 0.005)
    assert.is_true(math.abs(n:std():item() - 1) < 0.005)
  end)

  it("half-precision uniforms use the dtype's mantissa bits", function()
    wick.manual_seed(1)
    for _, dt in ipairs({ "f16", "bf16" }) do
      local step = dt == "f16" and 2 ^ -11 or 2 ^ -8
      for _, v in ipairs(flat(wick.rand(64, { dtype = dt }))) do
        assert.is_true(v >= 0 and v < 1 and v / step == math.floor(v / step))
      end
      local n = flat(wick.randn(40, { dtype = dt }))
      assert.are.equal(40, #n)
    end
  end)

  it("randint takes (high, size) or (low, high, size)", function()
    wick.manual_seed(0)
    local a = wick.randint(10, { 8 })
    assert.are.equal("i64", a.dtype)
    wick.manual_seed(0)
    assert.are.same(flat(a), flat(wick.randint(0, 10, { 8 })))
    assert.are.same({ 4, 9, 3, 0, 3, 9, 7, 3 }, flat(a))
    assert.are.equal("i32", wick.randint(-3, 3, { 2, 2 }, { dtype = "i32" }).dtype)
    for _, v in ipairs(flat(wick.randint(-3, 3, { 100 }))) do assert.is_true(v >= -3 and v < 3) end
  end)

  it("randint reports bad bounds and sizes", function()
    assert.are.equal("randint: random_ expects 'from' to be less than 'to', but got from=5 >= to=5",
      err(wick.randint, 5, 5, { 2 }))
    assert.are.equal("randint: random_ expects 'from' to be less than 'to', but got from=0 >= to=0",
      err(wick.randint, 0, { 2 }))
    assert.are.equal("randint: to - 1 is out of bounds for u8", err(wick.randint, 0, 300, { 2 }, { dtype = "u8" }))
    assert.are.equal("randint: from is out of bounds for u8", err(wick.randint, -1, 3, { 2 }, { dtype = "u8" }))
    assert.are.equal("randint: size must be a table of integers (got number)", err(wick.randint, 3, 2))
    assert.are.equal("randint: high must be an integer (got number)", err(wick.randint, 0, 2.5, { 2 }))
    assert.are.equal("randint: expected (high, size) or (low, high, size)", err(wick.randint, 3))
  end)

  it("randperm is a permutation in any integer or float dtype", function()
    for _, dt in ipairs({ "i64", "i32", "f32", "f64" }) do
      wick.manual_seed(7)
      local p = wick.randperm(300, { dtype = dt })
      assert.are.equal(dt, p.dtype)
      local seen = {}
      for _, v in ipairs(flat(p)) do seen[math.tointeger(v)] = true end
      for i = 0, 299 do assert.is_true(seen[i]) end
    end
    wick.manual_seed(7)
    local a = flat(wick.randperm(300))
    wick.manual_seed(7)
    assert.are.same(a, flat(wick.randperm(300, { dtype = "f32" })))
    assert.are.same({ 0 }, wick.randperm(0).shape)
  end)

  it("randperm reports bad arguments", function()
    assert.are.equal("randperm: n must be non-negative, got -1", err(wick.randperm, -1))
    assert.are.equal("randperm: n=300 is too large for dtype u8", err(wick.randperm, 300, { dtype = "u8" }))
    assert.are.equal("randperm: dtype bool is not supported", err(wick.randperm, 3, { dtype = "bool" }))
    assert.are.equal("randperm: n cannot be greater than 2^24+1 for f32", err(wick.randperm, 2 ^ 25 | 0, { dtype = "f32" }))
    assert.are.equal("randperm: n must be an integer (got number)", err(wick.randperm, 2.5))
  end)

  it("normal with numbers and a size, or with tensors", function()
    wick.manual_seed(3)
    local t = wick.normal(2, 3, { 1000 })
    assert.are.same({ 1000 }, t.shape)
    assert.is_true(math.abs(t:mean():item() - 2) < 0.3)
    wick.manual_seed(3)
    local z = wick.randn(1000)
    assert.is_true((t - (z * 3 + 2)):abs():max():item() < 1e-5)
    local m = wick.normal(wick.tensor({ 0.0, 100.0 }), wick.tensor({ 1.0, 0.0 }))
    assert.are.equal(100, m[1]:item())
    local s = wick.normal(5.0, wick.tensor({ 0.0, 0.0, 0.0 }))
    assert.are.same({ 5, 5, 5 }, flat(s))
    assert.are.equal("normal expects all elements of std >= 0.0", err(wick.normal, wick.tensor({ 0.0 }), wick.tensor({ -1.0 })))
    assert.are.equal("normal expects std >= 0.0", err(wick.normal, wick.tensor({ 0.0 }), -1.0))
    assert.are.equal("normal: dtype must be a floating point type (got i64)", err(wick.normal, 0, 1, { 2 }, { dtype = "i64" }))
  end)

  it("bernoulli draws each element with its probability", function()
    local p = wick.tensor({ 0.0, 1.0, 0.0, 1.0 })
    assert.are.same({ 0, 1, 0, 1 }, flat(wick.bernoulli(p)))
    assert.are.equal("f32", wick.bernoulli(p).dtype)
    assert.are.same({ 0, 1, 0, 1 }, flat(p:bernoulli()))
    local half = wick.bernoulli(wick.zeros(4), 1.0)
    assert.are.same({ 1, 1, 1, 1 }, flat(half))
    assert.are.equal("bernoulli_ expects all probabilities to be in [0, 1]", err(wick.bernoulli, wick.tensor({ 0.5, 2.0 })))
    assert.are.equal("bernoulli_ expects a floating point probability tensor, got i64", err(wick.bernoulli, wick.tensor({ 1, 0 })))
  end)

  it("multinomial samples rows of weights, with or without replacement", function()
    local p = wick.tensor({ 0.0, 0.0, 5.0, 0.0 })
    assert.are.same({ 2, 2, 2 }, flat(wick.multinomial(p, 3, true)))
    assert.are.same({ 2 }, flat(wick.multinomial(p, 1)))
    assert.are.same({ 2 }, flat(p:multinomial(1, { replacement = true })))
    local rows = wick.multinomial(wick.tensor({ { 1.0, 0.0 }, { 0.0, 1.0 } }), 4, { replacement = true })
    assert.are.same({ 2, 4 }, rows.shape)
    assert.are.same({ 0, 0, 0, 0, 1, 1, 1, 1 }, flat(rows))
    local perm = flat(wick.multinomial(wick.ones(6), 6))
    table.sort(perm)
    assert.are.same({ 0, 1, 2, 3, 4, 5 }, perm)
    local q = wick.tensor({ 0.1, 0.2, 0.7 })
    assert.are.equal("multinomial only supports floating-point dtypes for input, got: i64",
      err(wick.multinomial, wick.tensor({ 1, 2 }), 1))
    assert.are.equal("cannot sample n_sample <= 0 samples", err(wick.multinomial, q, 0))
    assert.are.equal("cannot sample n_sample > prob_dist.size(-1) samples without replacement", err(wick.multinomial, q, 4))
    assert.are.equal("prob_dist must be 1 or 2 dim", err(wick.multinomial, wick.zeros(2, 2, 2), 1))
    assert.are.equal("invalid multinomial distribution (sum of probabilities <= 0)", err(wick.multinomial, wick.zeros(2), 1))
    assert.are.equal("probability tensor contains either `inf`, `nan` or element < 0",
      err(wick.multinomial, wick.tensor({ -1.0, 2.0 }), 1))
    assert.are.equal("invalid multinomial distribution (encountering probability entry < 0)",
      err(wick.multinomial, wick.tensor({ -1.0, 2.0 }), 2, true))
    assert.are.equal("invalid multinomial distribution (encountering probability entry = infinity or NaN)",
      err(wick.multinomial, wick.tensor({ math.huge, 0.0 }), 2, true))
  end)

  it("*_like keep the shape and take options", function()
    local t = wick.zeros(2, 3, { dtype = "f64" })
    assert.are.same({ 2, 3 }, wick.rand_like(t).shape)
    assert.are.equal("f64", wick.randn_like(t).dtype)
    assert.are.equal("f32", wick.rand_like(t, { dtype = "f32" }).dtype)
    local r = wick.randint_like(t, 5)
    assert.are.equal("f64", r.dtype)
    for _, v in ipairs(flat(r)) do assert.is_true(v >= 0 and v < 5 and v == math.floor(v)) end
    for _, v in ipairs(flat(wick.randint_like(t, 10, 12))) do assert.is_true(v == 10 or v == 11) end
  end)

  it("requires_grad is honoured", function()
    if not wick.Tensor.requires_grad_ then pending("autograd not built") return end
    assert.is_true(wick.rand(2, { requires_grad = true }).requires_grad)
    assert.is_true(wick.randn(2, { requires_grad = true }).requires_grad)
  end)
end)

describe("random: in-place fills", function()
  it("return self, bump the version, and take a generator", function()
    local t = wick.zeros(5)
    local v = t:_version()
    assert.are.equal(t, t:uniform_(-1, 1))
    assert.is_true(t:_version() > v)
    assert.are.equal(t, t:normal_())
    assert.are.equal(t, t:bernoulli_())
    assert.are.equal(t, t:random_(3))
    assert.are.equal(t, t:exponential_())
    local g1, g2 = wick.Generator():manual_seed(4), wick.Generator():manual_seed(4)
    assert.are.same(flat(t:uniform_(2, 3, { generator = g1 })), flat(wick.zeros(5):uniform_(2, 3, { generator = g2 })))
  end)

  it("fill views in place", function()
    local t = wick.zeros(4, 6)
    t:narrow(1, 2, 2):uniform_(5, 6)
    local rows = t:tolist()
    for i = 1, 4 do
      assert.are.equal(0, rows[i][1])
      assert.is_true(rows[i][3] >= 5 and rows[i][4] < 6)
      assert.are.equal(0, rows[i][5])
    end
  end)

  it("random_ covers the dtype's range without bounds", function()
    wick.manual_seed(0)
    for _, v in ipairs(flat(wick.zeros(50, { dtype = "u8" }):random_())) do assert.is_true(v >= 0 and v <= 255) end
    for _, v in ipairs(flat(wick.zeros(50, { dtype = "bool" }):random_())) do assert.is_true(v == true or v == false) end
    for _, v in ipairs(flat(wick.zeros(50):random_(-3, 3))) do assert.is_true(v >= -3 and v < 3) end
  end)

  it("report bad arguments in PyTorch's words", function()
    local f = wick.zeros(3)
    local i = wick.zeros(3, { dtype = "i64" })
    assert.are.equal("uniform_ expects a floating point tensor, got i64", err(function() i:uniform_() end))
    assert.are.equal("normal_ expects a floating point tensor, got i64", err(function() i:normal_() end))
    assert.are.equal("uniform_ expects to return a [from, to) range, but found from=2 > to=1", err(function() f:uniform_(2, 1) end))
    assert.are.equal("from is out of bounds for f32", err(function() f:uniform_(-1e39, 1) end))
    assert.are.equal("normal expects std >= 0.0, but found std -1", err(function() f:normal_(0, -1) end))
    assert.are.equal("bernoulli_ expects p to be in [0, 1], but got p=1.5", err(function() f:bernoulli_(1.5) end))
    assert.are.equal("exponential_ expects lambda >= 0.0, but found lambda=-1", err(function() f:exponential_(-1) end))
    assert.are.equal("random_ expects 'from' to be less than 'to', but got from=3 >= to=2", err(function() f:random_(3, 2) end))
    assert.are.equal("unsupported operation: more than one element of the written-to tensor refers to a single "
      .. "memory location. Please clone() the tensor before performing the operation.",
      err(function() wick.zeros(3):expand(2, 3):uniform_() end))
    assert.are.equal("uniform_: unknown option 'generatr' (did you mean 'generator'?)",
      err(function() f:uniform_(0, 1, { generatr = 1 }) end))
  end)
end)
