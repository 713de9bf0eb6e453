-- Lua-side Tensor methods (added to the C method table) and printing.
local wick = require("wick")
local Tensor = wick.Tensor
return Tensor
