-- The tee of a run: this process's Lua output (print, io.write, io.stdout/io.stderr:write)
-- also appended to the run's log files.
local M = {}

-- Wraps the `write` method of Lua files (io.stdout:write, io.stderr:write), io.write and print so
-- that what goes to stdout/stderr is also appended to out_path/err_path (the same file for a
-- rank's log). Output written by C directly (the host's error report) is not seen; the run's
-- error is in meta.yaml. Returns a function that undoes it.
function M.tee(out_path, err_path)
  local outf = assert(io.open(out_path, "a"))
  local errf = err_path == out_path and outf or assert(io.open(err_path, "a"))
  outf:setvbuf("line")
  errf:setvbuf("line")
  local stdout, stderr = io.stdout, io.stderr
  local methods = getmetatable(stdout).__index
  local orig_write, orig_print, orig_iowrite = methods.write, print, io.write
  methods.write = function(f, ...)
    local r1, r2, r3 = orig_write(f, ...)
    if rawequal(f, stdout) then pcall(orig_write, outf, ...)
    elseif rawequal(f, stderr) then pcall(orig_write, errf, ...) end
    return r1, r2, r3
  end
  io.write = function(...) return io.output():write(...) end
  print = function(...)
    local n, parts = select("#", ...), {}
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    stdout:write(table.concat(parts, "\t"), "\n")
  end
  return function()
    methods.write, print, io.write = orig_write, orig_print, orig_iowrite
    pcall(outf.close, outf)
    if errf ~= outf then pcall(errf.close, errf) end
  end, errf
end

return M
