-- The lock of a run directory (issue 15, defect 2): a second `wick run --run-dir`/`--resume` on
-- a live run is refused, naming the holder, and deletes nothing of it; the lock goes with the
-- run; a run whose process died shows as crashed and its stale lock is taken over.
local helpers = require("helpers")
local q, slurp = helpers.quote, helpers.read_file

local function wick_cmd(args) return q(helpers.wick_bin()) .. " " .. args end

-- checkpoints, then waits for DIR/go (rank 0 of -n N as well as alone)
local RECIPE = [[
return wick.recipe {
  config = { wait = true },
  main = function(cfg)
    local model = wick.nn.Linear(4, 2)
    wick.recipe.resume({ model = model })
    wick.recipe.checkpoint({ model = model }, { epoch = 1 })
    local dir = wick.run_dir()
    while cfg.wait and not io.open(dir .. "/go") do os.execute("sleep 0.05") end
    return { loss = 0.5 }
  end,
}
]]

local function wait_for(path)
  for _ = 1, 600 do
    if io.open(path) then return end
    os.execute("sleep 0.05")
  end
  error("no " .. path)
end

local function alive(pid)
  local stat = slurp("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end

local function start_bg(args)
  return helpers.run(wick_cmd(args .. " >/dev/null 2>&1 & echo $!")):match("%d+")
end

describe("run directory lock", function()
  local tmp = helpers.tmpdir()
  local recipe = tmp .. "/wait.lua"
  helpers.write(recipe, RECIPE)
  teardown(function() os.execute("rm -rf " .. q(tmp)) end)

  for _, n in ipairs { 1, 2 } do
    it(("refuses a second run and a resume while the run (-n %d) is live"):format(n), function()
      local dir = tmp .. "/live" .. n
      local pid = start_bg(("run -n %d --run-dir %s %s"):format(n, q(dir), q(recipe)))
      wait_for(dir .. "/checkpoint.safetensors")
      local holder = wick.config.load(dir .. "/lock/holder")
      assert.are.equal(tonumber(pid), holder.pid) -- the launcher (with -n 2), not a worker
      -- what an interrupted save leaves, and what a resume's clean-up would delete
      helpers.write(dir .. "/checkpoint.safetensors.tmp.1", "partial")
      local held = ("wick run: run directory '%s' is in use by a live run (pid %s on %s, since %s)\n")
        :format(dir, pid, holder.host, holder.since)
      local out, err, code = helpers.wick(("run --run-dir %s %s wait=false"):format(q(dir), q(recipe)))
      assert.are.equal(1, code)
      assert.are.equal(held, err)
      out, err, code = helpers.wick(("run --resume %s wait=false"):format(q(dir)))
      assert.are.equal(1, code)
      assert.are.equal(held, err)
      assert.are.equal("", out)
      assert.are.equal("partial", slurp(dir .. "/checkpoint.safetensors.tmp.1"))
      assert.is_true(alive(pid))
      assert.is_truthy(helpers.run(wick_cmd("runs " .. q(tmp))):find(" running ", 1, true))
      helpers.write(dir .. "/go", "")
      for _ = 1, 600 do if not alive(pid) then break end os.execute("sleep 0.05") end
      assert.is_nil(io.open(dir .. "/lock/holder"))
      assert.is_truthy(slurp(dir .. "/meta.yaml"):find("status: completed", 1, true))
      os.execute("rm -rf " .. q(dir))
    end)
  end

  it("shows a run whose process died as crashed and takes over its stale lock", function()
    local dir = tmp .. "/dead"
    local pid = start_bg(("run --run-dir %s %s"):format(q(dir), q(recipe)))
    wait_for(dir .. "/checkpoint.safetensors")
    os.execute("kill -9 " .. pid)
    for _ = 1, 600 do if not alive(pid) then break end os.execute("sleep 0.05") end
    assert.is_truthy(io.open(dir .. "/lock/holder")) -- left behind
    local out = helpers.run(wick_cmd("runs " .. q(tmp)))
    assert.is_truthy(out:find("\ndead  %S+ %S+  crashed"), out)
    local err, code
    out, err, code = helpers.wick(("run --resume %s wait=false"):format(q(dir)))
    assert.are.equal(0, code, err)
    assert.is_nil(io.open(dir .. "/lock/holder"))
    assert.is_truthy(slurp(dir .. "/meta.yaml"):find("status: completed", 1, true))
  end)
end)
