-- nn.BatchNorm1d / BatchNorm2d: batch statistics in training (updating running_mean/var and the
-- i64 num_batches_tracked buffer), running statistics in eval, as PyTorch's _BatchNorm.
local wick = require("wick")
local class = require("wick.class")
local Module = require("wick.nn.module")
local F = require("wick.nn.functional")
local util = require("wick.nn.util")
local repr = require("wick.nn.repr")

local BatchNorm = class("nn._BatchNorm", Module)

-- (num_features, {eps = 1e-5, momentum = 0.1, affine = true, track_running_stats = true,
-- dtype, device}); momentum = false keeps a cumulative average (PyTorch's momentum=None).
function BatchNorm:__init(num_features, opts)
  Module.__init(self)
  local op = self:type_name()
  opts = util.options(op, opts, { "eps", "momentum", "affine", "track_running_stats", "dtype", "device" })
  self.num_features = util.positive(op, "num_features", num_features)
  self.eps = opts.eps or 1e-5
  if opts.momentum == nil then self.momentum = 0.1 else self.momentum = opts.momentum end
  self.affine = opts.affine ~= false
  self.track_running_stats = opts.track_running_stats ~= false
  local f = util.factory(opts)
  if self.affine then
    self.weight = Module.Parameter(wick.ones({ num_features }, f))
    self.bias = Module.Parameter(wick.zeros({ num_features }, f))
  end
  if self.track_running_stats then
    self:register_buffer("running_mean", wick.zeros({ num_features }, f))
    self:register_buffer("running_var", wick.ones({ num_features }, f))
    self:register_buffer("num_batches_tracked", wick.tensor(0, { device = opts.device }))
  end
end

function BatchNorm:reset_running_stats()
  if not self.track_running_stats then return end
  wick.no_grad(function()
    self.running_mean:zero_()
    self.running_var:fill_(1)
    self.num_batches_tracked:zero_()
  end)
end

function BatchNorm:reset_parameters()
  self:reset_running_stats()
  if self.affine then
    wick.no_grad(function()
      self.weight:fill_(1)
      self.bias:zero_()
    end)
  end
end

function BatchNorm:forward(x)
  self:_check_input_dim(x)
  local factor = self.momentum or 0.0
  if self.training and self.track_running_stats then
    self.num_batches_tracked:add_(1)
    if self.momentum == false then factor = 1.0 / self.num_batches_tracked:item() end
  end
  local bn_training = self.training or not self.track_running_stats
  local use_stats = not self.training or self.track_running_stats
  return F.batch_norm(x, use_stats and self.running_mean or nil, use_stats and self.running_var or nil,
                      self.weight, self.bias, { training = bn_training, momentum = factor, eps = self.eps })
end

function BatchNorm:extra_repr()
  return repr.fields { { nil, self.num_features }, { "eps", self.eps }, { "momentum", self.momentum },
                       { "affine", self.affine }, { "track_running_stats", self.track_running_stats } }
end

local BatchNorm1d = class("nn.BatchNorm1d", BatchNorm)
function BatchNorm1d:_check_input_dim(x)
  local d = x:dim()
  if d ~= 2 and d ~= 3 then error(("BatchNorm1d: expected 2D or 3D input (got %dD input)"):format(d), 0) end
end

local BatchNorm2d = class("nn.BatchNorm2d", BatchNorm)
function BatchNorm2d:_check_input_dim(x)
  local d = x:dim()
  if d ~= 4 then error(("BatchNorm2d: expected 4D input (got %dD input)"):format(d), 0) end
end

return { BatchNorm1d = BatchNorm1d, BatchNorm2d = BatchNorm2d, _BatchNorm = BatchNorm }
