-- busted output for wick: busted's plain terminal output, then one closing line
-- "specs: N passed, N failed, N skipped" that CI reads.
return function(options)
  local handler = require("busted.outputHandlers.plainTerminal")(options)
  local busted = require("busted")
  busted.subscribe({ "suite", "end" }, function()
    local failed = handler.failuresCount + handler.errorsCount
    io.write(string.format("specs: %d passed, %d failed, %d skipped\n",
      handler.successesCount, failed, handler.pendingsCount))
    io.flush()
    return nil, true
  end)
  return handler
end
