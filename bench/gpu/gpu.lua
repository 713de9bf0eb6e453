-- wick's side of the GPU benchmark (bench/gpu/run.sh joins it with gpu_torch.py): memory-bound
-- kernels in GB/s, GEMMs in TFLOP/s, and training-step times of the Fashion-MNIST CNN and of a
-- GPT-2-small-shaped transformer stack. Prints "metric<TAB>value<TAB>unit" lines.
-- usage: wick bench/gpu/gpu.lua [--device cuda|cpu] [--size full|tiny] [--only copy,add,...]
--   --size tiny runs every metric on toy sizes (a check that the code runs, e.g. on cpu).
local nn, F = wick.nn, wick.nn.functional

local opts = { device = "cuda", size = "full" }
local i = 1
while i <= #arg do
  local k, v = arg[i]:match("^%-%-(%w+)$"), arg[i + 1]
  if not k or v == nil or opts[k] == nil and k ~= "only" then
    error("bench/gpu/gpu.lua: bad argument " .. tostring(arg[i]) .. " (--device, --size, --only)", 0)
  end
  opts[k] = v
  i = i + 2
end
local dev = opts.device
local tiny = opts.size == "tiny"
if opts.size ~= "full" and not tiny then error("bench/gpu/gpu.lua: --size must be full or tiny", 0) end
local only
if opts.only then
  only = {}
  for name in opts.only:gmatch("[^,]+") do only[name] = true end
end

local cuda = dev:match("^cuda") and wick.cuda
local function sync() if cuda then wick.cuda.synchronize() end end

-- Seconds per call of fn: best of 3 rounds of `iters` calls, after warm-up (the device is
-- synchronized around each round, so queued kernels are counted).
local function timeit(fn, iters)
  fn()
  fn()
  sync()
  local best = math.huge
  for _ = 1, 3 do
    local t0 = wick.perf_counter()
    for _ = 1, iters do fn() end
    sync()
    best = math.min(best, (wick.perf_counter() - t0) / iters)
  end
  return best
end

local function report(name, value, unit) print(("%s\t%.6g\t%s"):format(name, value, unit)) io.stdout:flush() end
local function want(name) return only == nil or only[name] end

-- ---- memory-bound kernels: bytes moved / time ----
local n = tiny and 4096 or 64 * 1024 * 1024
local iters = tiny and 3 or 20
local gb = 1e9
if want("copy") or want("add") or want("mul") or want("gelu") or want("sum") or want("softmax") then
  local a = wick.randn({ n }, { device = dev })
  local b = wick.randn({ n }, { device = dev })
  local c = wick.empty({ n }, { device = dev })
  local bytes = n * 4
  if want("copy") then report("copy", 2 * bytes / timeit(function() c:copy_(a) end, iters) / gb, "GB/s") end
  if want("add") then report("add", 3 * bytes / timeit(function() return a + b end, iters) / gb, "GB/s") end
  if want("mul") then report("mul", 2 * bytes / timeit(function() return a * 1.5 end, iters) / gb, "GB/s") end
  if want("gelu") then report("gelu", 2 * bytes / timeit(function() return F.gelu(a) end, iters) / gb, "GB/s") end
  if want("sum") then report("sum", bytes / timeit(function() return a:sum() end, iters) / gb, "GB/s") end
  if want("softmax") then
    local rows = a:view({ n // 1024, 1024 })
    report("softmax", 2 * bytes / timeit(function() return rows:softmax(-1) end, iters) / gb, "GB/s")
  end
  a, b, c = nil, nil, nil
  collectgarbage()
end

-- ---- GEMM ----
local m = tiny and 64 or 8192
for _, dt in ipairs({ "f32", "bf16" }) do
  local name = dt == "f32" and "sgemm" or "bf16_gemm"
  if want(name) then
    local a = wick.randn({ m, m }, { device = dev }):to(dt)
    local b = wick.randn({ m, m }, { device = dev }):to(dt)
    local t = timeit(function() return a:matmul(b) end, tiny and 2 or 10)
    report(name, 2 * m * m * m / t / 1e12, "TFLOP/s")
  end
end
collectgarbage()

-- ---- training steps (synthetic data: the step time does not depend on the pixels) ----
if want("cnn_step") then
  wick.manual_seed(0)
  local bs = tiny and 4 or 256
  local model = wick.models.small_cnn { num_classes = 10 }
  model:to(dev)
  local opt = wick.optim.SGD(model:parameters(), { lr = 0.05, momentum = 0.9 })
  local x = wick.rand({ bs, 1, 28, 28 }, { device = dev })
  local y = wick.randint(0, 10, { bs }):to(dev)
  local t = timeit(function()
    opt:zero_grad()
    F.cross_entropy(model(x), y):backward()
    opt:step()
  end, tiny and 2 or 50)
  report("cnn_step", t * 1e3, "ms")
end

-- GPT-2 small's shapes: 12 blocks of width 768 with 12 heads, vocabulary 50257; context 256 at
-- batch 8 (a pre-LN block: attention through matmul + softmax with a causal mask, GELU MLP).
local Block = wick.class("Block", nn.Module)
function Block:__init(d, h)
  nn.Module.__init(self)
  self.ln1, self.attn, self.proj = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d)
  self.ln2, self.fc, self.out = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
  self.heads = h
end
function Block:forward(x, mask)
  local B, T, C, h = x:size(0), x:size(1), x:size(2), self.heads
  local q, k, v = table.unpack(self.attn(self.ln1(x)):split(C, 2))
  local function split_heads(t) return t:reshape({ B, T, h, C // h }):transpose(1, 2) end
  q, k, v = split_heads(q), split_heads(k), split_heads(v)
  local att = (q:matmul(k:transpose(2, 3)) * (1 / math.sqrt(C // h)) + mask):softmax(-1)
  local y = att:matmul(v):transpose(1, 2):reshape({ B, T, C })
  x = x + self.proj(y)
  return x + self.out(F.gelu(self.fc(self.ln2(x))))
end

local GPT = wick.class("GPT", nn.Module)
function GPT:__init(cfg)
  nn.Module.__init(self)
  self.wte, self.wpe = nn.Embedding(cfg.vocab, cfg.d), nn.Embedding(cfg.ctx, cfg.d)
  self.blocks = nn.ModuleList()
  for _ = 1, cfg.layers do self.blocks:append(Block(cfg.d, cfg.heads)) end
  self.ln_f, self.head = nn.LayerNorm(cfg.d), nn.Linear(cfg.d, cfg.vocab, { bias = false })
end
function GPT:forward(idx, pos, mask)
  local x = self.wte(idx) + self.wpe(pos)
  for b in self.blocks:children() do x = b(x, mask) end
  return self.head(self.ln_f(x))
end

if want("gpt_step") then
  wick.manual_seed(0)
  local cfg = tiny and { vocab = 97, d = 32, heads = 4, layers = 2, ctx = 16, batch = 2 }
    or { vocab = 50257, d = 768, heads = 12, layers = 12, ctx = 256, batch = 8 }
  local model = GPT(cfg)
  model:to(dev)
  local opt = wick.optim.AdamW(model:parameters(), { lr = 3e-4, weight_decay = 0.1 })
  local T = cfg.ctx
  local idx = wick.randint(0, cfg.vocab, { cfg.batch, T }):to(dev)
  local tgt = wick.randint(0, cfg.vocab, { cfg.batch * T }):to(dev)
  local pos = wick.arange(T):to(dev)
  local r, c = wick.arange(T):view({ T, 1 }), wick.arange(T):view({ 1, T })
  local mask = (c:gt(r):float() * -1e9):to(dev)
  local t = timeit(function()
    opt:zero_grad()
    local logits = model(idx, pos, mask)
    F.cross_entropy(logits:view({ cfg.batch * T, cfg.vocab }), tgt):backward()
    opt:step()
  end, tiny and 2 or 10)
  report("gpt_step", t * 1e3, "ms")
end
