-- nn.functional, continued: conv1d, max_pool1d, avg_pool1d (the 2-d kernels over a unit
-- height), instance_norm, dropout2d and interpolate (nearest), composed from existing kernels.
local wick = require("wick")

return function(F)
  local opts_of = F._opts_of

  local function one(v, default)
    if v == nil then return default end
    if type(v) == "table" then return v[1] end
    return v
  end

  local function check3(op, x)
    if x:dim() ~= 3 and x:dim() ~= 2 then
      error(("%s: expected a 2-D (unbatched) or 3-D (batched) input, got %d-D"):format(op, x:dim()), 0)
    end
  end

  -- conv1d(x [N, C, L], weight [O, C / groups, K], bias, {stride, padding, dilation, groups})
  local CONV = { stride = true, padding = true, dilation = true, groups = true }
  function F.conv1d(x, weight, bias, opts)
    opts = opts_of("conv1d", opts, CONV)
    check3("conv1d", x)
    local unbatched = x:dim() == 2
    if unbatched then x = x:unsqueeze(0) end
    if type(opts.padding) == "string" then error("conv1d: string padding is not supported; give the number", 0) end
    local y = F.conv2d(x:unsqueeze(2), weight:unsqueeze(2), bias, {
      stride = { 1, one(opts.stride, 1) }, padding = { 0, one(opts.padding, 0) },
      dilation = { 1, one(opts.dilation, 1) }, groups = opts.groups or 1 })
    y = y:squeeze(2)
    return unbatched and y:squeeze(0) or y
  end

  local POOL = { stride = true, padding = true, dilation = true, ceil_mode = true, return_indices = true,
    count_include_pad = true }
  local function pool1d(op, fn, x, k, opts)
    opts = opts_of(op, opts, POOL)
    if opts.return_indices then error(op .. ": return_indices is not supported", 0) end
    check3(op, x)
    local unbatched = x:dim() == 2
    if unbatched then x = x:unsqueeze(0) end
    k = one(k)
    local o = { stride = { 1, one(opts.stride, k) }, padding = { 0, one(opts.padding, 0) },
      ceil_mode = opts.ceil_mode }
    if op == "max_pool1d" then o.dilation = { 1, one(opts.dilation, 1) }
    else o.count_include_pad = opts.count_include_pad end
    local y = fn(x:unsqueeze(2), { 1, k }, o):squeeze(2)
    return unbatched and y:squeeze(0) or y
  end
  -- max_pool1d(x [N, C, L], kernel_size, {stride = kernel_size, padding, dilation, ceil_mode})
  function F.max_pool1d(x, k, opts) return pool1d("max_pool1d", F.max_pool2d, x, k, opts) end
  -- avg_pool1d(x, kernel_size, {stride = kernel_size, padding, ceil_mode, count_include_pad})
  function F.avg_pool1d(x, k, opts) return pool1d("avg_pool1d", F.avg_pool2d, x, k, opts) end

  -- instance_norm(x [N, C, *], {running_mean, running_var, weight, bias, use_input_stats = true,
  -- momentum, eps = 1e-5}): each (sample, channel) normalised over its own positions
  local INORM = { running_mean = true, running_var = true, weight = true, bias = true,
    use_input_stats = true, momentum = true, eps = true }
  function F.instance_norm(x, opts)
    opts = opts_of("instance_norm", opts, INORM)
    if opts.running_mean or opts.running_var or opts.use_input_stats == false then
      error("instance_norm: running statistics are not supported (use_input_stats only)", 0)
    end
    if x:dim() < 3 then error("instance_norm: expected an input of at least 3 dims (got " .. x:dim() .. ")", 0) end
    return F.group_norm(x, x:size(1), opts.weight, opts.bias, { eps = opts.eps })
  end

  -- dropout2d(x [N, C, *], p = 0.5, training = true): whole channels zeroed, the rest scaled
  function F.dropout2d(x, p, training)
    if type(p) == "table" then p, training = p.p, p.training end
    if p == nil then p = 0.5 end
    if training == nil then training = true end
    if p < 0 or p > 1 then error("dropout2d: dropout probability has to be between 0 and 1, but got " .. p, 0) end
    if not training or p == 0 then return x end
    local s = { x:size(0), x:size(1) }
    for _ = 3, x:dim() do s[#s + 1] = 1 end
    if p == 1 then return x * 0 end
    local keep = wick.rand(s, { device = x.device }):ge(p):to(x.dtype)
    return x * keep / (1 - p)
  end
  F.dropout1d = F.dropout2d

  -- interpolate(x [N, C, *spatial], {size, scale_factor, mode = "nearest"}): PyTorch's
  -- "nearest" (source index floor(i * in / out), or floor(i / scale) when scale_factor is given)
  local INTERP = { size = true, scale_factor = true, mode = true, align_corners = true,
    recompute_scale_factor = true }
  function F.interpolate(x, opts)
    opts = opts_of("interpolate", opts, INTERP)
    local mode = opts.mode or "nearest"
    if mode ~= "nearest" then error(("interpolate: mode '%s' is not supported (only 'nearest')"):format(mode), 0) end
    local nsp = x:dim() - 2
    if nsp < 1 then error("interpolate: expected an input with a batch and a channel dim", 0) end
    if (opts.size == nil) == (opts.scale_factor == nil) then
      error("interpolate: either size or scale_factor should be defined", 0)
    end
    local y = x
    for i = 1, nsp do
      local d = i + 1
      local n = x:size(d)
      local out, scale
      if opts.size then
        out = type(opts.size) == "table" and opts.size[i] or opts.size
        scale = n / out
      else
        local sf = type(opts.scale_factor) == "table" and opts.scale_factor[i] or opts.scale_factor
        out = math.floor(n * sf)
        scale = opts.recompute_scale_factor and n / out or 1 / sf
      end
      local idx = {}
      for j = 0, out - 1 do idx[j + 1] = math.min(math.floor(j * scale), n - 1) end
      y = y:index_select(d, wick.tensor(idx, { dtype = "i64", device = x.device }))
    end
    return y
  end
end
