-- A character-level GPT (wick.models.gpt2) trained on fortune cookies (Debian's fortunes
-- package): the loss falls from the unigram entropy of the text towards what a small model can
-- learn; then it samples text. Under `wick run` it logs train/val loss to TensorBoard in its run
-- directory; under `wick run -n N` it trains with DDP, each rank on its own random windows.
--   wick run recipes/char_lm.lua                         # 600 steps, a 2-layer 64-wide GPT
--   wick run recipes/char_lm.lua steps=3000 n_layer=4 n_embd=128 files=[computers,science]
--   wick run -n 2 recipes/char_lm.lua                    # DDP over 2 processes
local function read_text(cfg)
  local parts = {}
  for _, name in ipairs(cfg.files) do
    local path = cfg.data_dir .. "/" .. name
    local f, msg = io.open(path, "rb")
    if not f then
      error(("char_lm: cannot read %s (%s); install Debian's fortunes package or set data_dir/files")
        :format(path, msg), 0)
    end
    parts[#parts + 1] = f:read("a")
    f:close()
  end
  return table.concat(parts)
end

-- Byte-level vocabulary of the text: ids 0..V-1 for the bytes that occur, and the text as ids.
local function tokenize(text)
  local present = {}
  for i = 1, #text do present[text:byte(i)] = true end
  local itos, stoi = {}, {}
  for b = 0, 255 do
    if present[b] then itos[#itos + 1] = b; stoi[b] = #itos - 1 end
  end
  local ids = {}
  for i = 1, #text do ids[i] = stoi[text:byte(i)] end
  return wick.tensor(ids, { dtype = "i64" }), itos
end

-- Entropy (nats) of the text's character frequencies: what a model that ignores context gets.
local function unigram_entropy(ids, vocab)
  local counts = wick.zeros(vocab, { dtype = "f64" }):index_add_(0, ids, wick.ones(ids:numel(), { dtype = "f64" }))
  local p = counts / ids:numel()
  p = p:masked_select(p:gt(0))
  return -(p * p:log()):sum():item()
end

-- A batch of B random windows: x [B, T] and the next characters y [B, T].
local function batch(ids, B, T)
  local starts = wick.randint(0, ids:numel() - T - 1, { B })
  local idx = starts:unsqueeze(1) + wick.arange(T)
  return ids:index_select(0, idx:reshape(-1)):reshape(B, T), ids:index_select(0, (idx + 1):reshape(-1)):reshape(B, T)
end

-- s with every byte that does not belong to a valid UTF-8 sequence replaced by "?" (sampled
-- bytes can split a multi-byte character; TensorBoard's text must be UTF-8).
local function utf8_clean(s)
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then out[#out + 1] = s:sub(i); break end
    out[#out + 1] = s:sub(i, bad - 1) .. "?"
    i = bad + 1
  end
  return table.concat(out)
end

local function loss_of(model, x, y)
  local logits = model(x)
  return wick.nn.functional.cross_entropy(logits:reshape(-1, logits:size(-1)), y:reshape(-1))
end

local function evaluate(model, ids, cfg)
  model:eval()
  local total = wick.no_grad(function()
    local s = 0
    for _ = 1, cfg.eval_batches do s = s + loss_of(model, batch(ids, cfg.batch_size, cfg.block_size)):item() end
    return s / cfg.eval_batches
  end)
  model:train()
  return total
end

return wick.recipe {
  config = "char_lm.yaml",
  description = "Trains a character-level GPT on Debian's fortunes and samples from it.",
  main = function(cfg)
    if cfg.threads then wick.set_num_threads(cfg.threads) end
    local dist = wick.dist
    local world = math.tointeger(tonumber(os.getenv("WORLD_SIZE") or "")) or 1
    if world > 1 and not dist.is_initialized() then dist.init_process_group() end
    local rank = world > 1 and dist.get_rank() or 0
    local ids, itos = tokenize(read_text(cfg))
    local n_val = math.floor(ids:numel() * cfg.val_fraction)
    local train_ids, val_ids = ids:narrow(0, 0, ids:numel() - n_val), ids:narrow(0, ids:numel() - n_val, n_val)
    local entropy = unigram_entropy(train_ids, #itos)
    wick.manual_seed(cfg.seed)
    local model = wick.models.gpt2 { n_layer = cfg.n_layer, n_head = cfg.n_head, n_embd = cfg.n_embd,
      vocab_size = #itos, block_size = cfg.block_size, dropout = cfg.dropout }
    local net = world > 1 and wick.nn.DDP(model) or model
    local opt = wick.optim.AdamW(model:parameters(), { lr = cfg.lr, weight_decay = cfg.weight_decay })
    local sched = wick.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps, { eta_min = cfg.lr / 10 })
    wick.manual_seed(cfg.seed + 1 + rank) -- each rank draws its own windows
    local dir = rank == 0 and wick.run_dir() or nil
    local tb = dir and wick.tb.SummaryWriter(dir) or nil
    local nparams = 0
    for _, p in ipairs(model:parameters()) do nparams = nparams + p:numel() end
    if rank == 0 then
      print(("char_lm: %d characters (%d distinct), %d parameters, %d steps of %d x %d%s; unigram entropy %.4f nats/char")
        :format(ids:numel(), #itos, nparams, cfg.steps, cfg.batch_size, cfg.block_size,
          world > 1 and (" per rank, " .. world .. " ranks") or "", entropy))
    end
    local t0, train_loss, val_loss = wick.perf_counter(), nil, nil
    for step = 1, cfg.steps do
      local x, y = batch(train_ids, cfg.batch_size, cfg.block_size)
      opt:zero_grad()
      local loss = loss_of(net, x, y)
      loss:backward()
      opt:step()
      sched:step()
      local l = loss:item()
      train_loss = train_loss and 0.9 * train_loss + 0.1 * l or l
      if tb and cfg.log_every > 0 and step % cfg.log_every == 0 then tb:add_scalar("train/loss", l, step) end
      if step % cfg.eval_every == 0 or step == cfg.steps then
        val_loss = evaluate(model, val_ids, cfg)
        if world > 1 then val_loss = dist.all_reduce(wick.tensor(val_loss, { dtype = "f64" })):item() / world end
        if tb then tb:add_scalar("val/loss", val_loss, step); tb:flush() end
        if rank == 0 then
          print(("step %d/%d  train loss %.4f  val loss %.4f  %.0f chars/s"):format(step, cfg.steps, train_loss,
            val_loss, step * cfg.batch_size * cfg.block_size * world / (wick.perf_counter() - t0)))
          io.stdout:flush()
        end
      end
    end
    local sample
    if cfg.sample_chars > 0 and rank == 0 then
      local nl = 0
      for i, b in ipairs(itos) do if b == 10 then nl = i - 1 end end
      local out = model:generate(wick.tensor({ { nl } }, { dtype = "i64" }), cfg.sample_chars,
        { temperature = cfg.temperature }):reshape(-1):tolist()
      local chars = {}
      for i = 2, #out do chars[#chars + 1] = string.char(itos[out[i] + 1]) end
      sample = utf8_clean(table.concat(chars))
      print("---- sample ----\n" .. sample .. "\n----")
      if tb then tb:add_text("sample", sample, cfg.steps) end
    end
    if tb then tb:close() end
    if rank == 0 then
      print(("char_lm: val loss %.4f nats/char, unigram entropy %.4f (%.0f%%)"):format(val_loss, entropy,
        100 * val_loss / entropy))
      if dir then wick.save(dir .. "/model.safetensors", model:state_dict()) end
    end
    return { val_loss = val_loss, train_loss = train_loss, unigram_entropy = entropy }
  end,
}
