-- nn.functional, continued: one_hot, pad, normalize, cosine_similarity, group_norm and
-- scaled_dot_product_attention, composed from tensor ops (autograd comes with the parts).
local wick = require("wick")

return function(F)
  local opts_of = F._opts_of

  -- one_hot(indices (i64), num_classes = -1): i64 [*, num_classes]
  function F.one_hot(t, num_classes)
    num_classes = num_classes or -1
    if not wick.is_tensor(t) or t.dtype ~= "i64" then
      error("one_hot: one_hot is only applicable to index tensor (i64)", 0)
    end
    if t:numel() > 0 then
      if t:min():item() < 0 then error("one_hot: Class values must be non-negative.", 0) end
      local mx = t:max():item()
      if num_classes == -1 then num_classes = mx + 1
      elseif mx >= num_classes then error("one_hot: Class values must be smaller than num_classes.", 0) end
    elseif num_classes == -1 then
      error("one_hot: Can not infer total number of classes from empty tensor.", 0)
    end
    local shape = t.shape
    shape[#shape + 1] = num_classes
    local out = wick.zeros(shape, { dtype = "i64", device = t.device })
    if t:numel() == 0 then return out end
    local idx = t:unsqueeze(-1)
    return out:scatter(-1, idx, wick.ones(idx.shape, { dtype = "i64", device = t.device }))
  end

  -- The indices 0..n-1 of a dim padded by (lo, hi) in a mode, as a 1-d i64 tensor.
  local function pad_index(mode, n, lo, hi)
    local idx = {}
    for i = -lo, n - 1 + hi do
      local j
      if mode == "reflect" then
        j = i
        if j < 0 then j = -j end
        if j > n - 1 then j = 2 * (n - 1) - j end
      elseif mode == "replicate" then
        j = math.min(math.max(i, 0), n - 1)
      else -- circular
        j = i % n
      end
      idx[#idx + 1] = j
    end
    return wick.tensor(idx, { dtype = "i64" })
  end

  local PAD = { mode = true, value = true }
  local MODES = { constant = true, reflect = true, replicate = true, circular = true }
  -- pad(x, {left, right, top, bottom, ...}, {mode = "constant", value = 0}): pairs from the last dim
  function F.pad(x, pad, opts)
    opts = opts_of("pad", opts, PAD)
    local mode = opts.mode or "constant"
    if not MODES[mode] then
      error(("pad: mode must be 'constant', 'reflect', 'replicate' or 'circular' (got '%s')"):format(tostring(mode)), 0)
    end
    if type(pad) ~= "table" or #pad % 2 ~= 0 then error("pad: padding length must be divisible by 2", 0) end
    if #pad // 2 > x:dim() then error("pad: padding length too large", 0) end
    if mode ~= "constant" and opts.value ~= nil and opts.value ~= 0 then
      error("pad: padding mode '" .. mode .. "' doesn't take in value argument", 0)
    end
    local y = x
    for k = 1, #pad // 2 do
      local dim = x:dim() - k
      local lo, hi = pad[2 * k - 1], pad[2 * k]
      local n = y:size(dim)
      if mode == "constant" then
        if lo < 0 then y = y:narrow(dim, -lo, n + lo); lo = 0 end
        n = y:size(dim)
        if hi < 0 then y = y:narrow(dim, 0, n + hi); hi = 0 end
        local parts = {}
        local function block(m)
          local s = y.shape
          s[dim + 1] = m
          return wick.full(s, opts.value or 0, { dtype = y.dtype, device = y.device })
        end
        if lo > 0 then parts[#parts + 1] = block(lo) end
        parts[#parts + 1] = y
        if hi > 0 then parts[#parts + 1] = block(hi) end
        if #parts > 1 then y = wick.cat(parts, dim) end
      else
        if mode == "reflect" and (lo >= n or hi >= n) then
          error(("pad: padding size should be less than the corresponding input dimension, but got: padding (%d, %d) at dimension %d of input %d")
            :format(lo, hi, dim, n), 0)
        end
        if mode == "circular" and (lo > n or hi > n) then
          error("pad: padding value is too large for circular padding", 0)
        end
        y = y:index_select(dim, pad_index(mode, n, lo, hi):to(y.device))
      end
    end
    return y
  end

  local NORMALIZE = { p = true, dim = true, eps = true }
  -- normalize(x, {p = 2, dim = 1, eps = 1e-12}): x / max(||x||_p over dim, eps)
  function F.normalize(x, opts)
    opts = opts_of("normalize", opts, NORMALIZE)
    local n = x:norm(opts.p or 2, opts.dim or 1, { keepdim = true })
    return x / n:clamp(opts.eps or 1e-12, nil):expand_as(x)
  end

  local COSINE = { dim = true, eps = true }
  -- cosine_similarity(x1, x2, {dim = 1, eps = 1e-8}): x1.x2 / (max(||x1||, eps) max(||x2||, eps))
  function F.cosine_similarity(x1, x2, opts)
    opts = opts_of("cosine_similarity", opts, COSINE)
    local dim, eps = opts.dim or 1, opts.eps or 1e-8
    local n1 = x1:norm(2, dim):clamp(eps, nil)
    local n2 = x2:norm(2, dim):clamp(eps, nil)
    return (x1 * x2):sum(dim) / (n1 * n2)
  end

  local GROUP_NORM = { eps = true }
  -- group_norm(x [N, C, *], num_groups, weight [C], bias [C], {eps = 1e-5})
  function F.group_norm(x, num_groups, weight, bias, opts)
    opts = opts_of("group_norm", opts, GROUP_NORM)
    if x:dim() < 2 then error("group_norm: expected an input of at least 2 dims (got " .. x:dim() .. ")", 0) end
    local N, C = x:size(0), x:size(1)
    if math.type(num_groups) ~= "integer" or num_groups <= 0 or C % num_groups ~= 0 then
      error(("group_norm: Expected number of channels in input to be divisible by num_groups, but got input of shape [%s] and num_groups=%s")
        :format(table.concat(x.shape, ", "), tostring(num_groups)), 0)
    end
    local g = x:reshape(N, num_groups, -1)
    local mean = g:mean(2, { keepdim = true })
    local var = g:var(2, { correction = 0, keepdim = true })
    local y = ((g - mean) / (var + (opts.eps or 1e-5)):sqrt()):reshape(x.shape)
    if weight or bias then
      local s = { 1, C }
      for _ = 3, x:dim() do s[#s + 1] = 1 end
      if weight then y = y * weight:reshape(s) end
      if bias then y = y + bias:reshape(s) end
    end
    return y
  end

  local SDPA = { attn_mask = true, dropout_p = true, is_causal = true, scale = true }
  -- scaled_dot_product_attention(q [*, L, E], k [*, S, E], v [*, S, Ev],
  --   {attn_mask (bool: true = attend, or float: added), dropout_p = 0, is_causal = false, scale})
  function F.scaled_dot_product_attention(q, k, v, opts)
    opts = opts_of("scaled_dot_product_attention", opts, SDPA)
    local L, S = q:size(-2), k:size(-2)
    local scale = opts.scale or 1 / math.sqrt(q:size(-1))
    local att = q:matmul(k:transpose(-2, -1)) * scale
    if opts.is_causal then
      if opts.attn_mask ~= nil then
        error("scaled_dot_product_attention: attn_mask and is_causal cannot both be set", 0)
      end
      local keep = wick.arange(L, { device = q.device }):unsqueeze(1):ge(wick.arange(S, { device = q.device }))
      att = att:masked_fill(keep:logical_not(), -math.huge)
    end
    local m = opts.attn_mask
    if m ~= nil then
      if m.dtype == "bool" then att = att:masked_fill(m:logical_not(), -math.huge)
      else att = att + m end
    end
    att = att:softmax(-1)
    local p = opts.dropout_p or 0
    if p > 0 then att = F.dropout(att, p, true) end
    return att:matmul(v), att
  end
end
