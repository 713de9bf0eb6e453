-- Writers across ranks and processes: only rank 0 writes by default, {all_ranks = true} gives
-- every rank its own sub-directory, and many writers at once (several processes, several
-- writers each, one log_dir) leave every file whole: each record is complete and CRC-valid.
local helpers = require("helpers")
local peer = dofile((debug.getinfo(1, "S").source:match("^@(.*)/ranks_spec%.lua$") or "spec/tb") .. "/peer.lua")

local function wick_cmd(env, code)
  return ("%s %q -e %q"):format(env, helpers.wick_bin(), code)
end

local function count_scalars(file)
  local n = 0
  for _, payload in ipairs(peer.records_lua(peer.slurp(file))) do
    if payload:find("loss", 1, true) then n = n + 1 end
  end
  return n
end

describe("wick.tb writers across ranks", function()
  it("writes only on rank 0 by default, and on every rank into rank<k> with all_ranks", function()
    local dir = helpers.tmpdir()
    local code = ([[
      local w = wick.tb.SummaryWriter(%q .. "/default")
      w:add_scalar("loss", 1.5, 1)
      w:close()
      local a = wick.tb.SummaryWriter(%q .. "/all", {all_ranks = true})
      a:add_scalar("loss", 2.5, 1)
      print(a:get_logdir())
      a:close()
    ]]):format(dir, dir)
    local out = helpers.run(wick_cmd("RANK=2", code) .. " 2>&1")
    assert.are.equal(dir .. "/all/rank2\n", out)
    assert.are.same({}, peer.files(dir .. "/default"))
    local files = peer.files(dir .. "/all/rank2")
    assert.are.equal(1, #files)
    assert.are.equal(1, count_scalars(files[1]))
    helpers.run(wick_cmd("RANK=0", code))
    assert.are.equal(1, #peer.files(dir .. "/default"))
    assert.are.equal(1, #peer.files(dir .. "/all/rank0"))
    assert.are.equal("SummaryWriter: all_ranks must be a boolean (got string)",
      require("helpers").err(wick.tb.SummaryWriter, dir .. "/x", {all_ranks = "yes"}))
  end)

  it("keeps every file whole with 3 processes x 3 writers writing at once into one log_dir", function()
    local dir = helpers.tmpdir() .. "/shared"
    local code = ([[
      local ws = {}
      for i = 1, 3 do ws[i] = wick.tb.SummaryWriter(%q, {max_queue = 7, filename_suffix = "." .. i}) end
      for step = 1, 2000 do
        for i = 1, 3 do ws[i]:add_scalar("loss", step * i, step) end
      end
      for i = 1, 3 do ws[i]:close() end
    ]]):format(dir)
    local cmd = wick_cmd("", code)
    local _, status = helpers.run(("(%s & %s & %s & wait) 2>&1"):format(cmd, cmd, cmd))
    assert.are.equal(0, status)
    local files = peer.files(dir)
    assert.are.equal(9, #files)
    for _, f in ipairs(files) do
      local s = peer.slurp(f)
      local payloads, span = peer.records_lua(s)
      assert.are.equal(#s, span, f .. " has bytes that are not whole records")
      assert.are.equal(2000, count_scalars(f))
      assert.are.equal(2001, #payloads) -- the file_version event and 2000 scalars
    end
  end)
end)
