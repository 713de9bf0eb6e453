-- `wick run --max-restarts N` (issue 15, elastic restarts): workers SIGKILLed at random moments
-- are all stopped and started again from the run's last checkpoint, each restart is logged in
-- meta.yaml and the ranks' logs, and the run ends with the weights of an uninterrupted run, bit
-- for bit, under -n 2 and -n 3. WICK_FAULT_TRIALS=K runs K more random trials of each (the
-- closing figures of issue 15); CI runs one of each.
local helpers = require("helpers")
local q, slurp = helpers.quote, helpers.read_file

local function wick_cmd(args) return q(helpers.wick_bin()) .. " " .. args end

-- DDP on data drawn from a seed fixed by (epoch, step, rank), a checkpoint after each epoch;
-- each step takes at least `pause` seconds so that kills land in the middle of the run
local RECIPE = [[
return wick.recipe {
  config = { epochs = 6, steps = 6, pause = 0.03 },
  main = function(cfg)
    local dist, nn = wick.dist, wick.nn
    dist.init_process_group()
    local rank = dist.get_rank()
    wick.manual_seed(1)
    local model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    local opt = wick.optim.SGD(model:parameters(), { lr = 0.05, momentum = 0.9 })
    local state = { model = model, optimizer = opt }
    local start = (wick.recipe.resume(state) or { epoch = 0 }).epoch
    local ddp = nn.DDP(model)
    for epoch = start, cfg.epochs - 1 do
      for step = 0, cfg.steps - 1 do
        wick.manual_seed(1000 * epoch + 10 * step + rank)
        local x = wick.randn(4, 6)
        opt:zero_grad()
        local loss = (ddp(x) - x:narrow(1, 0, 3)):pow(2):mean()
        loss:backward()
        opt:step()
        require("wick.core")._dist.sleep(cfg.pause)
      end
      wick.recipe.checkpoint(state, { epoch = epoch + 1 })
    end
    if rank == 0 then wick.save(wick.run_dir() .. "/model.safetensors", model:state_dict()) end
    dist.destroy_process_group()
  end,
}
]]

local function children(pid)
  local out = {}
  local text = slurp(("/proc/%s/task/%s/children"):format(pid, pid)) or ""
  for c in text:gmatch("%d+") do out[#out + 1] = c end
  return out
end

local function alive(pid)
  local stat = slurp("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end

-- Runs the recipe under -n n with --max-restarts, SIGKILLing a random worker `kills` times at
-- random moments (each once the workers of the attempt are up). Returns the run directory,
-- the launcher's stderr, seconds, and the kills done.
local function killed_run(tmp, recipe, n, kills, seed)
  math.randomseed(seed)
  local dir = ("%s/killed-n%d-%d"):format(tmp, n, seed)
  local errf = dir .. ".err"
  local t0 = wick.perf_counter()
  local pid = helpers.run(wick_cmd(("run -n %d --max-restarts %d --run-dir %s %s >/dev/null 2>%s & echo $!")
    :format(n, kills, q(dir), q(recipe), q(errf)))):match("%d+")
  local done = 0
  while done < kills and alive(pid) do
    local kids = children(pid)
    if #kids == n then
      os.execute(("sleep %.3f"):format(0.2 + math.random() * 0.8))
      kids = children(pid)
      if #kids == n and alive(pid) then
        os.execute("kill -9 " .. kids[math.random(#kids)] .. " 2>/dev/null")
        done = done + 1
        -- the launcher stops the others and starts new ones: wait for the old ones to go
        for _ = 1, 500 do
          local now = children(pid)
          local same = false
          for _, k in ipairs(now) do for _, o in ipairs(kids) do same = same or k == o end end
          if not same then break end
          os.execute("sleep 0.02")
        end
      end
    else
      os.execute("sleep 0.02")
    end
  end
  for _ = 1, 3000 do
    if not alive(pid) then break end
    os.execute("sleep 0.02")
  end
  return dir, slurp(errf) or "", wick.perf_counter() - t0, done
end

local function same_weights(a, b)
  local wa, wb = wick.load(a), wick.load(b)
  local n = 0
  for k, t in pairs(wa) do
    if not (wb[k] and t:equal(wb[k])) then return false end
    n = n + 1
  end
  return n > 0
end

describe("wick run --max-restarts", function()
  local tmp = helpers.tmpdir()
  local recipe = tmp .. "/ddp.lua"
  helpers.write(recipe, RECIPE)
  teardown(function() os.execute("rm -rf " .. q(tmp)) end)
  local extra = math.tointeger(tonumber(os.getenv("WICK_FAULT_TRIALS") or "")) or 0

  for _, n in ipairs { 2, 3 } do
    it(("ends bit-identical to an uninterrupted run after random kills (-n %d)"):format(n), function()
      local clean = ("%s/clean-n%d"):format(tmp, n)
      local out, code = helpers.run(wick_cmd(("run -n %d --run-dir %s %s 2>&1"):format(n, q(clean), q(recipe))))
      assert.are.equal(0, code, out)
      local trials = 1 + extra
      local stats = { trials = 0, restarts = 0, identical = 0, secs = {} }
      for t = 1, trials do
        local kills = t == 1 and 2 or math.random(1, 3)
        local dir, err, secs, done = killed_run(tmp, recipe, n, kills, os.time() + t)
        local meta = wick.config.load(dir .. "/meta.yaml")
        assert.are.equal("completed", meta.status, err)
        local restarts = type(meta.restarts) == "table" and #meta.restarts or 0
        -- every kill that landed while workers ran is one restart (a kill that hit a worker
        -- already on its way out after the last step may cost none)
        assert.is_true(restarts <= done and restarts >= math.min(done, 1), err)
        assert.is_true(same_weights(clean .. "/model.safetensors", dir .. "/model.safetensors"), err)
        if restarts > 0 then
          assert.matches("wick run: restart 1 of " .. kills .. " after rank %d failed %(killed by signal 9, SIGKILL%), from ", err)
          assert.matches("^rank %d failed %(killed by signal 9, SIGKILL%)$", meta.restarts[1].after)
          assert.is_truthy(slurp(dir .. "/rank0.log"):find("wick run: restart 1 of ", 1, true))
        end
        stats.trials, stats.restarts, stats.identical = stats.trials + 1, stats.restarts + restarts, stats.identical + 1
        stats.secs[#stats.secs + 1] = secs
        os.execute("rm -rf " .. q(dir))
      end
      if extra > 0 then
        table.sort(stats.secs)
        io.stderr:write(("\n-n %d: %d trials, %d restarts, %d bit-identical, run time %.1f..%.1f s\n"):format(
          n, stats.trials, stats.restarts, stats.identical, stats.secs[1], stats.secs[#stats.secs]))
      end
    end)
  end

  it("resumes from the last checkpoint, not from the start", function()
    -- rank 1 fails in epoch 3 of the first start only
    local once = tmp .. "/once.lua"
    helpers.write(once, (RECIPE:gsub("opt:step%(%)", [[opt:step()
        if epoch == 3 and step == 2 and rank == 1 and os.getenv("WICK_RESTART") == "0" then error("fails once") end]])))
    local clean = tmp .. "/clean-n2"
    if not io.open(clean .. "/model.safetensors") then
      local out, code = helpers.run(wick_cmd(("run -n 2 --run-dir %s %s 2>&1"):format(q(clean), q(recipe))))
      assert.are.equal(0, code, out)
    end
    local dir = tmp .. "/once"
    local out, err, code = helpers.wick(("run -n 2 --max-restarts 1 --run-dir %s %s"):format(q(dir), q(once)))
    assert.are.equal(0, code, err)
    assert.is_truthy(err:find("\nwick run: restart 1 of 1 after rank 1 failed (exit code 1), from checkpoint.safetensors (epoch 3)\n", 1, true), err)
    assert.is_truthy(out:find("[0] resumed from " .. dir .. "/checkpoint.safetensors (epoch 3)\n", 1, true), out)
    local meta = wick.config.load(dir .. "/meta.yaml")
    assert.are.equal("completed", meta.status)
    assert.are.equal(1, #meta.restarts)
    assert.are.equal("rank 1 failed (exit code 1)", meta.restarts[1].after)
    assert.are.equal("checkpoint.safetensors (epoch 3)", meta.restarts[1].from)
    assert.is_true(same_weights(clean .. "/model.safetensors", dir .. "/model.safetensors"))
  end)

  it("gives up after N restarts with the last failure", function()
    local crash = tmp .. "/crash.lua"
    helpers.write(crash, [[
      return wick.recipe { config = {}, main = function()
        if os.getenv("RANK") == "1" then error("always fails") end
      end }
    ]])
    local dir = tmp .. "/crash"
    local out, err, code = helpers.wick(("run -n 2 --max-restarts 2 --run-dir %s %s"):format(q(dir), q(crash)))
    assert.are.equal(1, code)
    local _, n = err:gsub("wick run: rank 1 failed %(exit code 1%)", "")
    assert.are.equal(3, n, err)
    assert.is_truthy(err:find("wick run: restart 2 of 2 after rank 1 failed (exit code 1), from the start (no checkpoint yet)\n", 1, true), err)
    local meta = wick.config.load(dir .. "/meta.yaml")
    assert.are.equal("failed", meta.status)
    assert.are.equal(2, #meta.restarts)
  end)
end)
