-- wick.tb: TensorBoard event files written from C (src/tb), with PyTorch's SummaryWriter API.
local M = {}
M.SummaryWriter = require("wick.tb.summary_writer")
return M
