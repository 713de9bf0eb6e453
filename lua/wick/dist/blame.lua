-- Which rank of `wick run -n N` failed first, and the launcher's report of it: the workers'
-- error records in the store (wick.dist.worker) order Lua errors as they happened; exits (seen
-- at once: SIGCHLD wakes the launcher) order the failures that left no record (a signal, an
-- exit code). A peer that failed because of the first ("Connection closed by peer") is listed
-- as stopped after it.
local spawn = require("wick.dist.spawn")
local worker = require("wick.dist.worker")

local M = {}

-- The local worker that failed first: a worker that failed without a record at or before the
-- pass that saw the first recorded one exit; else the first record; else fallback. Returns its
-- index, and every worker's result (with .error, the recorded error, where there is one).
function M.first_failure(procs, n, base, store, fallback, tail_lines)
  local best_rec, best_seq, best_plain
  local results = {}
  for i = 0, n - 1 do
    local r = procs:result(i, tail_lines)
    results[i] = r
    local ok, rec = pcall(function()
      if store:check({ worker.error_key(base + i) }) then return store:get(worker.error_key(base + i)) end
    end)
    local seq = ok and rec and math.tointeger(tonumber(rec:match("^(%d+)\n")))
    if seq then
      r.error, r.seq = rec:match("^%d+\n(.*)$"), seq
      if not best_seq or seq < best_seq then best_rec, best_seq = i, seq end
    elseif (r.signal > 0 or r.code ~= 0) and not r.after_stop then
      if not best_plain or r.exit_pass < results[best_plain].exit_pass then best_plain = i end
    end
  end
  local first = best_rec
  if best_plain and (not best_rec or results[best_rec].exit_pass == 0
      or results[best_plain].exit_pass <= results[best_rec].exit_pass) then
    first = best_plain
  end
  return first or fallback, results
end

-- Several nodes: whether a rank of another node recorded its error before seq (the local first
-- failure's record), i.e. the local failure followed from the remote one.
function M.remote_first(store, seq, world, lo, hi, attempt)
  if not seq then return false end
  for rank = 0, world - 1 do
    if rank < lo or rank > hi then
      local ok, rec = pcall(function()
        if store:check({ worker.error_key(rank, attempt) }) then return store:get(worker.error_key(rank, attempt)) end
      end)
      local s = ok and rec and math.tointeger(tonumber(rec:match("^(%d+)\n")))
      if s and s < seq then return true end
    end
  end
  return false
end

-- "rank k failed (how)" for a worker's result (how: given, else from how it ended).
function M.headline(rank, r, how)
  -- a rank stopped while it exited after its error (its record says it failed first)
  how = how or (r.error and r.after_stop and "raised an error")
    or (r.signal > 0 and string.format("killed by signal %d, %s", r.signal, spawn.signame(r.signal)))
    or string.format("exit code %d", r.code)
  return string.format("rank %d failed (%s)", rank, how)
end

-- The report's lines: the headline, the failed rank's stderr (or recorded error), and the
-- others as stopped after it.
function M.report(results, failed, base, n, how)
  local r, rank = results[failed], base + failed
  local lines = { M.headline(rank, r, how) }
  if r.tail ~= "" then
    lines[#lines + 1] = string.format("last lines of rank %d's stderr:", rank)
    for l in (r.tail .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = "  " .. l end
  elseif r.error then -- stopped before it could print its error: the record has it
    lines[#lines + 1] = string.format("rank %d's error:", rank)
    for l in (r.error .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = "  " .. l end
  end
  local others = {}
  for i = 0, n - 1 do if i ~= failed then others[#others + 1] = tostring(base + i) end end
  if #others > 0 then
    lines[#lines + 1] = string.format("wick run: %s %s stopped after rank %d failed",
      #others == 1 and "rank" or "ranks", table.concat(others, ", "), rank)
  end
  return lines
end

return M
