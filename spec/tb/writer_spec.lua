-- wick.tb event files: names, first record, framing checked by an independent Lua CRC-32C, the
-- writer thread's max_queue / flush_secs / flush / close policy, crash safety (kill -9 of a real
-- child process), exit without close, rank != 0 writers, purge_step; read by TensorBoard.
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/writer_spec%.lua$") or "spec/tb") .. "/peer.lua")

local tmp = helpers.tmpdir()
local n = 0
local function newdir()
  n = n + 1
  return tmp .. "/run" .. n
end
local err = require("helpers").err
local function nrecords(file) return #peer.records_lua(peer.slurp(file)) end
-- Waits (up to 10 s: the machine may be loaded) until file holds n records; returns the count.
local function wait_records(file, n)
  local k
  for _ = 1, 100 do
    k = nrecords(file)
    if k >= n then return k end
    peer.sleep(0.1)
  end
  return k
end

describe("wick.tb event files", function()
  it("are named events.out.tfevents.<%010d time>.<host>.<pid>.<n><suffix>", function()
    local d = newdir()
    local before = os.time()
    local w1 = wick.tb.SummaryWriter(d)
    local w2 = wick.tb.SummaryWriter(d, { filename_suffix = ".v2" })
    local files = peer.files(d)
    assert.are.equal(2, #files)
    local host = wick._tb.hostname()
    local pid = helpers.pid()
    local names = {}
    for i, f in ipairs(files) do
      local t, h, p, k, rest = f:match("/events%.out%.tfevents%.(%d+)%.(.-)%.(%d+)%.(%d+)(.*)$")
      assert.are.equal(10, #t)
      assert.is_true(tonumber(t) >= before and tonumber(t) <= os.time())
      assert.are.equal(host, h)
      assert.are.equal(pid, tonumber(p))
      names[i] = { tonumber(k), rest }
    end
    assert.are_not.equal(names[1][1], names[2][1]) -- two writers in one second: two files
    assert.is_true(names[1][2] == ".v2" or names[2][2] == ".v2")
    w1:close(); w2:close()
  end)

  it("start with file_version brain.Event:2 written before the constructor returns", function()
    local d = newdir()
    local w = wick.tb.SummaryWriter(d)
    local s = peer.slurp(peer.files(d)[1])
    local recs, valid = peer.records_lua(s)
    assert.are.equal(#s, valid)
    assert.are.equal(1, #recs)
    -- Event{wall_time (09 + 8 bytes), file_version (1a 0d "brain.Event:2"), source_metadata{writer "wick"}}
    assert.are.equal(0x09, recs[1]:byte(1))
    local wt = string.unpack("<d", recs[1], 2)
    assert.is_true(math.abs(wt - os.time()) < 5)
    assert.are.equal("\x1a\x0dbrain.Event:2\x52\x06\x0a\x04wick", recs[1]:sub(10))
    w:close()
    peer.want("records", peer.files(d)[1], function(r)
      assert.are.equal(1, r.count)
      assert.are.equal("brain.Event:2", r.first.file_version)
      assert.are.equal("wick", r.first.writer)
    end)
  end)

  it("frames every record with valid masked CRC-32C (independent Lua check) and TensorBoard agrees", function()
    local d = newdir()
    local w = wick.tb.SummaryWriter(d)
    for i = 0, 24 do w:add_scalar("x", i * 0.5, i) end
    w:add_histogram("h", wick.randn(300), 3)
    w:add_image("im", wick.rand(3, 5, 7), 3)
    w:add_text("t", "héllo", 3)
    w:close()
    local file = peer.files(d)[1]
    local s = peer.slurp(file)
    local recs, valid = peer.records_lua(s)
    assert.are.equal(#s, valid)
    assert.are.equal(1 + 25 + 3, #recs)
    assert.are.same({ #recs, #s }, { wick._tb.scan(s) })
    peer.want("records", file, function(r) assert.are.equal(#recs, r.count) end)
  end)

  it("keeps records in memory until max_queue are pending, flush(), or flush_secs", function()
    local d = newdir()
    local w = wick.tb.SummaryWriter(d, { max_queue = 5, flush_secs = 120 })
    local file = peer.files(d)[1]
    for i = 1, 3 do w:add_scalar("x", i, i) end
    peer.sleep(0.2)
    assert.are.equal(1, nrecords(file)) -- only file_version
    w:flush()
    assert.are.equal(4, nrecords(file))
    for i = 4, 8 do w:add_scalar("x", i, i) end -- the 5th pending record wakes the thread
    assert.are.equal(9, wait_records(file, 9))
    w:close()

    local d2 = newdir()
    local w2 = wick.tb.SummaryWriter(d2, { flush_secs = 1 })
    peer.sleep(0.2) -- the thread is idle, waiting for a first record
    local t0 = wick._tb.now()
    w2:add_scalar("y", 1, 1) -- one record, far below max_queue: written after flush_secs
    local f2 = peer.files(d2)[1]
    assert.are.equal(1, nrecords(f2))
    assert.are.equal(2, wait_records(f2, 2))
    assert.is_true(wick._tb.now() - t0 >= 0.9)
    w2:close()
  end)

  it("close() flushes, is idempotent, and a later add_* opens a new file (as PyTorch)", function()
    local d = newdir()
    local w = wick.tb.SummaryWriter(d)
    w:add_scalar("x", 1, 0)
    w:close()
    w:close()
    w:flush()
    assert.are.equal(2, nrecords(peer.files(d)[1]))
    w:add_scalar("x", 2, 1)
    w:close()
    local files = peer.files(d)
    assert.are.equal(2, #files)
    do
      local w3 <close> = wick.tb.SummaryWriter(newdir())
      w3:add_scalar("z", 1, 1)
    end
  end)

  it("are flushed and closed when an unreachable writer is garbage collected", function()
    local d = newdir()
    do
      local w = wick.tb.SummaryWriter(d)
      w:add_scalar("x", 1, 1)
      w:add_scalars("m", { a = 2 }, 1)
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(2, nrecords(peer.files(d)[1]))
    assert.are.equal(2, nrecords(peer.files(d .. "/m_a")[1]))
  end)

  it("are closed and complete at normal exit without close() or flush()", function()
    local d = newdir()
    local _, e, code = helpers.wick(("-e %q"):format(([[
      local w = wick.tb.SummaryWriter(%q)
      for i = 0, 6 do w:add_scalar("x", i, i) end
      w2 = wick.tb.SummaryWriter(%q, {filename_suffix = ".g"})
      w2:add_scalar("y", 1, 1)
      os.exit(0)]]):format(d, d)))
    assert.are.equal(0, code, e)
    local files = peer.files(d)
    assert.are.equal(2, #files)
    assert.are.equal(8, nrecords(files[1]))
    assert.are.equal(2, nrecords(files[2]))
  end)

  it("survive kill -9 mid-run: whole records up to the last one written, TensorBoard reads them", function()
    local d = newdir()
    local script = tmp .. "/crash.lua"
    helpers.write(script, ([[
      local w = wick.tb.SummaryWriter(%q, {max_queue = 1})
      local img = wick.rand(3, 64, 64)
      local i = 0
      while true do
        w:add_scalar("x", i, i)
        w:add_image("im", img, i)
        i = i + 1
      end]]):format(d))
    local pid = tonumber((helpers.run(("%q %q >/dev/null 2>&1 & echo $!"):format(helpers.wick_bin(), script))))
    local file
    for _ = 1, 300 do -- up to 15 s on a loaded machine
      peer.sleep(0.05)
      file = peer.files(d)[1]
      if file and #peer.slurp(file) > 200000 then break end
    end
    os.execute("kill -9 " .. pid)
    peer.sleep(0.1)
    assert.is_not_nil(file)
    local s = peer.slurp(file)
    local recs, valid = peer.records_lua(s)
    assert.is_true(#recs > 10)
    -- nothing but (at most) one torn record after the valid ones
    assert.is_true(#s - valid < 16 + 20000, "tail of " .. (#s - valid) .. " bytes")
    peer.want("records", file, function(r) assert.are.equal(#recs, r.count) end)
    peer.want("read", d, function(r)
      local xs = r["."].scalars.x
      assert.is_true(#xs >= (#recs - 1) // 2 - 1)
      for i, e in ipairs(xs) do assert.are.same({ i - 1, i - 1.0 }, { e.step, e.value }) end
    end)
  end)

  it("write nothing on ranks other than 0, but still check arguments", function()
    local d = newdir()
    local errf = os.tmpname()
    local out, code = helpers.run(("RANK=1 %q -e %q 2>%q"):format(helpers.wick_bin(), ([[
      local w = wick.tb.SummaryWriter(%q)
      w:add_scalar("x", 1, 1)
      w:add_scalars("m", {a = 1}, 1)
      w:add_hparams({lr = 0.1}, {acc = 1})
      w:flush(); w:close()
      print(tostring(w), select(2, pcall(w.add_scalar, w, "x", "one", 1)))]]):format(d), errf))
    assert.are.equal(0, code, peer.slurp(errf))
    os.remove(errf)
    assert.are.equal(('wick.tb.SummaryWriter("%s", inactive rank)\tadd_scalar: scalar_value must be a number (got string)\n'):format(d), out)
    assert.is_nil(io.open(d))
  end)

  it("purge_step: a restarted run hides the old run's steps >= purge_step", function()
    -- in a fresh process: file counters 0 and 1 sort in creation order within one second
    local d = newdir()
    local _, e, code = helpers.wick(("-e %q"):format(([[
      local w = wick.tb.SummaryWriter(%q)
      for i = 0, 9 do w:add_scalar("x", i, i) end
      w:close()
      local w2 = wick.tb.SummaryWriter(%q, { purge_step = 5 })
      for i = 5, 7 do w2:add_scalar("x", 100 + i, i) end
      w2:close()]]):format(d, d)))
    assert.are.equal(0, code, e)
    peer.want("read", d, function(r)
      local got = {}
      for i, e in ipairs(r["."].scalars.x) do got[i] = { e.step, e.value } end
      assert.are.same({ { 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 105 }, { 6, 106 }, { 7, 107 } }, got)
    end)
  end)

  it("reject bad constructor arguments word for word", function()
    local SW = wick.tb.SummaryWriter
    assert.are.equal("SummaryWriter: unknown option 'max_qeue' (did you mean 'max_queue'?)", err(SW, newdir(), { max_qeue = 3 }))
    assert.are.equal("SummaryWriter: max_queue must be a positive integer (got 0)", err(SW, newdir(), { max_queue = 0 }))
    assert.are.equal("SummaryWriter: flush_secs must be a positive number (got -1)", err(SW, newdir(), { flush_secs = -1 }))
    assert.are.equal("SummaryWriter: filename_suffix must be a string without '/' (got a/b)", err(SW, newdir(), { filename_suffix = "a/b" }))
    assert.are.equal("SummaryWriter: log_dir must be a non-empty string (got number)", err(SW, 3))
    assert.are.equal("SummaryWriter: global_step must be >= 0 (got -2)", err(SW, newdir(), { purge_step = -2 }))
    helpers.write(tmp .. "/afile", "x")
    assert.are.equal("SummaryWriter: cannot create directory " .. tmp .. "/afile/sub: Not a directory",
      err(SW, tmp .. "/afile/sub"))
  end)

  it("default log_dir is runs/<%b%d_%H-%M-%S>_<host><comment>, as PyTorch's", function()
    local d = helpers.tmpdir()
    local out, e, code = helpers.wick(("-e %q"):format(([[
      local w = wick.tb.SummaryWriter({comment = "_lr0.1"})
      print(w:get_logdir()); w:close()]])), nil)
    assert.are.equal(0, code, e)
    -- (runs/ is relative to the current directory: remove what this created)
    local logdir = out:gsub("\n$", "")
    assert.is_truthy(logdir:match("^runs/%a%a%a%d%d_%d%d%-%d%d%-%d%d_" .. wick._tb.hostname():gsub("%p", "%%%0") .. "_lr0%.1$"), logdir)
    os.execute(("rm -rf %q"):format(logdir))
    os.execute("rmdir runs 2>/dev/null")
    os.execute(("rm -rf %q"):format(d))
  end)

  it("are read by TensorBoard's own reader as written (the checks queued above)", function()
    if not peer.have_tb then pending(peer.why); return end
    assert.is_true(peer.run_wanted() >= 5)
  end)
end)
