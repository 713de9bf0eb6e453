-- Several nodes with real processes: two launchers (`wick run --nnodes 2`) on this machine (one
-- host: shared memory; said to be two hosts: the hierarchical all_reduce), and in two network
-- namespaces where `ip netns` is permitted; a node that fails or whose launcher
-- is killed stops the other; ranks from simulated Slurm and Open MPI tasks (the variables srun
-- and mpirun set, for separate `wick run` processes); the scheduler helpers.
local helper = require("spec.support.wick_run")
local dist = wick.dist
local scheduler = require("wick.dist.scheduler")

local q = helper.quote

-- A free port on this machine: a store's, closed again.
local function free_port()
  local s = dist.TCPStore("127.0.0.1", 0, { is_master = true, secret = "probe" })
  local p = s:port()
  s:close()
  return p
end

-- Runs a shell script in dir (bounded by 60 s), returns its stdout and stderr.
local function sh(dir, script)
  local file = os.tmpname()
  helper.write(file, script)
  local p = io.popen("cd " .. q(dir) .. " && timeout 60 sh " .. q(file) .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(file)
  return out
end

local function read(path) return require("wick.util").read_file(path) or "" end

local function leftovers(marker)
  local out = {}
  for l in io.popen("ps -eo pid,args"):lines() do
    if l:find(marker, 1, true) and not l:find("ps -eo", 1, true) then out[#out + 1] = l end
  end
  return out
end

-- Every rank: its rank/world/local rank, then an all_reduce of rank + 1 and an all_gather.
local RANKS = [[
local dist = wick.dist
dist.init_process_group({ timeout = 20 })
local r, n = dist.get_rank(), dist.get_world_size()
local t = wick.tensor({ r + 1.0 })
dist.all_reduce(t)
local list = {}
for i = 1, n do list[i] = wick.zeros(1, { dtype = "i64" }) end
dist.all_gather(list, wick.tensor({ 10 * r }, { dtype = "i64" }))
local g = {}
for i = 1, n do g[i] = list[i]:item() end
print(string.format("rank=%d world=%d local=%s lws=%s node=%s sum=%g gather=%s", r, n, os.getenv("LOCAL_RANK"),
  os.getenv("LOCAL_WORLD_SIZE"), tostring(os.getenv("GROUP_RANK")), t:item(), table.concat(g, ",")))
dist.destroy_process_group()
]]

local function expect_ranks(out, world, nproc, prefixed, sum)
  local gather = {}
  for k = 0, world - 1 do gather[#gather + 1] = tostring(10 * k) end
  for k = 0, world - 1 do
    local line = string.format("%srank=%d world=%d local=%d lws=%d node=%s sum=%d gather=%s\n", prefixed and ("[" .. k .. "] ") or "",
      k, world, k % nproc, nproc, prefixed and tostring(k // nproc) or "nil", sum or world * (world + 1) // 2, table.concat(gather, ","))
    assert.matches(line, out, 1, true)
  end
end

describe("wick run --nnodes", function()
  local dir, marker
  before_each(function()
    dir = helper.tmpdir()
    marker = "wick-multinode-spec-" .. tostring(math.random(1 << 30))
    helper.write(dir .. "/ranks.lua", RANKS)
    helper.write(dir .. "/work.lua", string.format([[
      local dist = wick.dist
      dist.init_process_group({ timeout = 30 })
      print("up") io.stdout:flush()
      if arg[1] == "fail" and dist.get_rank() == 3 then error("boom on rank 3") end
      os.execute("sh -c 'sleep 30; : %s'")
    ]], marker))
  end)
  after_each(function() helper.rmdir(dir) end)

  -- the command of node `node` of 2, with N = 2 workers each
  local function node_cmd(node, port, file, extra)
    return string.format("WICK_DIST_SECRET=s3cret %s run --nnodes 2 --node-rank %d --master-addr 127.0.0.1 --master-port %d -n 2 %s %s",
      q(helper.bin()), node, port, q(dir .. "/" .. file), extra or "")
  end

  it("runs two launchers on one machine as one world of 4 ranks", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local port = free_port()
    local out = sh(dir, string.format("(%s >n1.out 2>&1; echo rc1=$? >>n1.out) & %s >n0.out 2>&1; echo rc0=$? >>n0.out; wait",
      node_cmd(1, port, "ranks.lua"), node_cmd(0, port, "ranks.lua")))
    local n0, n1 = read(dir .. "/n0.out"), read(dir .. "/n1.out")
    assert.matches("rc0=0\n", n0, 1, true)
    assert.matches("rc1=0\n", n1, 1, true)
    expect_ranks(n0 .. n1, 4, 2, true)
    assert.are.equal("", out)
    -- each launcher shows its own ranks
    assert.is_nil(n0:find("[2] ", 1, true))
    assert.is_nil(n1:find("[0] ", 1, true))
  end)

  -- every op and dtype (grid_worker.lua) and DDP's equivalence cases (ddp_worker.lua) across
  -- two launchers that say they are on different hosts: all_reduce goes through shared memory
  -- within each launcher's ranks and Gloo between their first ranks; the rest over Gloo
  for _, case in ipairs({ { "grid_worker.lua", 2 }, { "grid_worker.lua", 1 }, { "ddp_worker.lua", 2 } }) do
    local worker, per_node = case[1], case[2]
    it("runs " .. worker .. " hierarchically across two hosts of " .. per_node .. " rank(s)", function()
      if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
      helper.write(dir .. "/" .. worker, read(helper.root .. "/spec/dist/" .. worker))
      local port = free_port()
      local function node(k)
        return string.format("WICK_DIST_HOST_ID=host%d WICK_SPEC_TRANSPORT=hier WICK_DIST_SECRET=s3cret %s run --nnodes 2 " ..
          "--node-rank %d --master-addr 127.0.0.1 --master-port %d -n %d %s", k, q(helper.bin()), k, port, per_node,
          q(dir .. "/" .. worker))
      end
      sh(dir, string.format("(%s >n1.out 2>&1; echo rc1=$? >>n1.out) & %s >n0.out 2>&1; echo rc0=$? >>n0.out; wait",
        node(1), node(0)))
      local out = read(dir .. "/n0.out") .. read(dir .. "/n1.out")
      assert.matches("rc0=0\n", out, 1, true)
      assert.matches("rc1=0\n", out, 1, true)
      for k = 0, 2 * per_node - 1 do
        if worker == "grid_worker.lua" then
          assert.matches("[" .. k .. "] ok " .. k .. "\n", out, 1, true)
        else
          for _, name in ipairs({ "equivalence", "no_sync", "frozen", "unused", "seeded", "overlap", "buffers", "subgroup" }) do
            assert.matches("[" .. k .. "] " .. name .. " ok\n", out, 1, true)
          end
        end
      end
    end)
  end

  it("checks its options", function()
    local r = helper.run({ "run", "--nnodes", "2", "--node-rank", "2", "--master-port", "1", "x.lua" })
    assert.are.equal("wick run: --node-rank 2 is out of range for --nnodes 2\n", r.err)
    local port = free_port()
    local out = sh(dir, string.format("WICK_RDZV_TIMEOUT=1 %s; echo rc=$?", node_cmd(0, port, "ranks.lua")))
    assert.are.equal("wick run: rendezvous: 1 of 2 nodes joined within 1 s; missing node 1\nrc=1\n", out)
    out = sh(dir, string.format("WICK_RDZV_TIMEOUT=1 %s; echo rc=$?", node_cmd(1, port, "ranks.lua")))
    assert.are.equal("wick run: rendezvous: node 0's launcher did not open the store at 127.0.0.1:" .. port ..
      " within 1 s; missing node 0\nrc=1\n", out)
    out = sh(dir, string.format("env -u WICK_DIST_SECRET %s run --nnodes 2 --node-rank 1 --master-port %d ranks.lua; echo rc=$?",
      q(helper.bin()), port))
    assert.are.equal("wick run: --nnodes 2 needs the run's shared secret: set WICK_DIST_SECRET to the same value on every node\nrc=1\n", out)
  end)

  it("stops node 0 when a rank of node 1 fails, and node 1 when node 0's launcher is killed", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local port = free_port()
    local t0 = wick.perf_counter()
    sh(dir, string.format("(%s >n1.out 2>&1; echo rc1=$? >>n1.out) & %s >n0.out 2>&1; echo rc0=$? >>n0.out; wait",
      node_cmd(1, port, "work.lua", "fail"), node_cmd(0, port, "work.lua", "fail")))
    assert.is_true(wick.perf_counter() - t0 < 15)
    local n0, n1 = read(dir .. "/n0.out"), read(dir .. "/n1.out")
    assert.matches("wick run: rank 3 failed (exit code 1)\n", n1, 1, true)
    assert.matches("rc1=1\n", n1, 1, true)
    assert.matches("wick run: stopped the workers of node 0: node 1: rank 3 failed (exit code 1)\nrc0=1\n", n0, 1, true)
    assert.are.same({}, leftovers(marker))

    -- node 0's launcher killed (and its store with it): node 1 stops at once
    port = free_port()
    t0 = wick.perf_counter()
    sh(dir, string.format("%s >n0.out 2>&1 & p0=$!; (%s >n1.out 2>&1; echo rc1=$? >>n1.out) & " ..
      "for i in $(seq 1 100); do [ \"$(cat n0.out n1.out | grep -c up)\" = 4 ] && break; sleep 0.1; done; kill -9 $p0; wait",
      node_cmd(0, port, "work.lua"), node_cmd(1, port, "work.lua")))
    assert.is_true(wick.perf_counter() - t0 < 15)
    n1 = read(dir .. "/n1.out")
    assert.matches("wick run: stopped the workers of node 1: lost the store at 127.0.0.1:" .. port ..
      " (node 0's launcher): ", n1, 1, true)
    assert.matches("rc1=1\n", n1, 1, true)
    assert.are.same({}, leftovers(marker)) -- also what node 0's orphaned workers had started
  end)

  it("stops node 0 within seconds when node 1's launcher is killed", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local port = free_port()
    local t0 = wick.perf_counter()
    sh(dir, string.format("%s >n1.out 2>&1 & p1=$!; (%s >n0.out 2>&1; echo rc0=$? >>n0.out) & " ..
      "for i in $(seq 1 100); do [ \"$(cat n0.out n1.out | grep -c up)\" = 4 ] && break; sleep 0.1; done; kill -9 $p1; wait",
      node_cmd(1, port, "work.lua"), node_cmd(0, port, "work.lua")))
    assert.is_true(wick.perf_counter() - t0 < 20)
    local n0 = read(dir .. "/n0.out")
    assert.matches("wick run: stopped the workers of node 0: node 1's launcher stopped (no heartbeat for 5 s)\nrc0=1\n", n0, 1, true)
    assert.are.same({}, leftovers(marker))
  end)

  it("runs in two network namespaces with their own addresses", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local tag = tostring(math.random(1 << 20))
    local a, b = "wka" .. tag, "wkb" .. tag
    local setup = table.concat({
      "ip netns add " .. a, "ip netns add " .. b,
      "ip link add " .. a .. " type veth peer name " .. b,
      "ip link set " .. a .. " netns " .. a, "ip link set " .. b .. " netns " .. b,
      "ip -n " .. a .. " addr add 10.231.7.1/24 dev " .. a, "ip -n " .. b .. " addr add 10.231.7.2/24 dev " .. b,
      "ip -n " .. a .. " link set " .. a .. " up", "ip -n " .. b .. " link set " .. b .. " up",
      "ip -n " .. a .. " link set lo up", "ip -n " .. b .. " link set lo up" }, " && ")
    local ok = os.execute(setup .. " 2>/dev/null")
    if not ok then
      os.execute("ip netns del " .. a .. " 2>/dev/null; ip netns del " .. b .. " 2>/dev/null")
      pending("ip netns is not permitted here (needs root and network namespaces)")
      return
    end
    local function node(ns, rank)
      return string.format("ip netns exec %s env WICK_DIST_SECRET=s3cret GLOO_SOCKET_IFNAME=%s %s run --nnodes 2 " ..
        "--node-rank %d --master-addr 10.231.7.1 --master-port 29400 -n 2 %s", ns, ns, q(helper.bin()), rank, q(dir .. "/ranks.lua"))
    end
    sh(dir, string.format("(%s >n1.out 2>&1; echo rc1=$? >>n1.out) & %s >n0.out 2>&1; echo rc0=$? >>n0.out; wait",
      node(b, 1), node(a, 0)))
    os.execute("ip netns del " .. a .. "; ip netns del " .. b)
    local n0, n1 = read(dir .. "/n0.out"), read(dir .. "/n1.out")
    assert.matches("rc0=0\n", n0, 1, true)
    assert.matches("rc1=0\n", n1, 1, true)
    expect_ranks(n0 .. n1, 4, 2, true)
  end)
end)

describe("wick run under a scheduler", function()
  local dir
  before_each(function()
    dir = helper.tmpdir()
    helper.write(dir .. "/ranks.lua", RANKS)
  end)
  after_each(function() helper.rmdir(dir) end)

  -- n separate `wick run` processes with env(i) each, as srun or mpirun start them
  local function tasks(n, env, args)
    local parts = {}
    for i = 0, n - 1 do
      parts[#parts + 1] = string.format("(env -u RANK -u WORLD_SIZE WICK_DIST_SECRET=s3cret %s %s run %s ranks.lua >t%d.out 2>&1; echo rc=$? >>t%d.out) &",
        env(i), q(helper.bin()), args or "", i, i)
    end
    sh(dir, table.concat(parts, " ") .. " wait")
    local outs = {}
    for i = 0, n - 1 do outs[i] = read(dir .. "/t" .. i .. ".out") end
    return outs
  end

  it("takes one rank per Slurm task (srun wick run recipe.lua)", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local port = free_port()
    local outs = tasks(3, function(i)
      return string.format("SLURM_PROCID=%d SLURM_STEP_NUM_TASKS=3 SLURM_NTASKS=3 SLURM_LOCALID=%d SLURM_NODEID=0 SLURM_STEP_TASKS_PER_NODE=3 " ..
        "SLURM_STEP_NODELIST=localhost SLURM_JOB_ID=77 MASTER_PORT=%d", i, i, port)
    end)
    for i = 0, 2 do
      assert.matches("rc=0\n", outs[i], 1, true)
      assert.matches(string.format("rank=%d world=3 local=%d lws=3 node=nil sum=6 gather=0,10,20\n", i, i), outs[i], 1, true)
    end
  end)

  it("takes one node per Slurm task with -n N (srun --ntasks-per-node=1 wick run -n 2 ...)", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local port = free_port()
    local outs = tasks(2, function(i)
      return string.format("SLURM_PROCID=%d SLURM_STEP_NUM_TASKS=2 SLURM_LOCALID=0 SLURM_NODEID=%d SLURM_STEP_TASKS_PER_NODE='1(x2)' " ..
        "SLURM_STEP_NODELIST='localhost' MASTER_PORT=%d", i, i, port)
    end, "-n 2")
    assert.matches("rc=0\n", outs[0], 1, true)
    assert.matches("rc=0\n", outs[1], 1, true)
    expect_ranks(outs[0] .. outs[1], 4, 2, true)
  end)

  it("takes one rank per Open MPI process (mpirun wick run recipe.lua)", function()
    if not dist.is_gloo_available() then pending("wick was built without Gloo") return end
    local port = free_port()
    local outs = tasks(2, function(i)
      return string.format("OMPI_COMM_WORLD_RANK=%d OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_LOCAL_RANK=%d " ..
        "OMPI_COMM_WORLD_LOCAL_SIZE=2 MASTER_PORT=%d", i, i, port)
    end)
    for i = 0, 1 do
      assert.matches("rc=0\n", outs[i], 1, true)
      assert.matches(string.format("rank=%d world=2 local=%d lws=2 node=nil sum=3 gather=0,10\n", i, i), outs[i], 1, true)
    end
  end)

  it("explains what is missing", function()
    local out = sh(dir, string.format("env -u RANK -u WICK_DIST_SECRET SLURM_PROCID=0 SLURM_STEP_NUM_TASKS=2 %s run ranks.lua; echo rc=$?",
      q(helper.bin())))
    assert.are.equal("wick run: under Slurm every task needs the same WICK_DIST_SECRET (export one before starting the tasks; docs/dist.md)\nrc=1\n", out)
    out = sh(dir, string.format("env -u RANK -u MASTER_ADDR WICK_DIST_SECRET=x OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=4 " ..
      "OMPI_COMM_WORLD_LOCAL_SIZE=2 %s run ranks.lua; echo rc=$?", q(helper.bin())))
    assert.are.equal("wick run: under Open MPI, MASTER_ADDR (or --master-addr) must name the host of rank 0\nrc=1\n", out)
  end)

  it("reads Slurm's node lists and task counts", function()
    assert.are.equal("node03", scheduler.first_host("node[03-05,9],gpu1"))
    assert.are.equal("gpu1", scheduler.first_host("gpu1,node[1-2]"))
    assert.are.equal("a7-ib", scheduler.first_host("a[7,9]-ib"))
    assert.is_nil(scheduler.first_host(""))
    assert.are.equal(2, scheduler.tasks_on_node("2(x3),1", 2))
    assert.are.equal(1, scheduler.tasks_on_node("2(x3),1", 3))
    assert.is_nil(scheduler.tasks_on_node("2(x3),1", 4))
    local env = { SLURM_PROCID = "5", SLURM_STEP_NUM_TASKS = "8", SLURM_LOCALID = "1", SLURM_NODEID = "2",
      SLURM_STEP_TASKS_PER_NODE = "2(x4)", SLURM_STEP_NODELIST = "n[10-13]", SLURM_JOB_ID = "123456" }
    assert.are.same({ name = "Slurm", rank = 5, size = 8, local_rank = 1, local_size = 2, master_addr = "n10",
      master_port = 29500 + 456 }, scheduler.detect(function(k) return env[k] end))
    env.MASTER_ADDR, env.MASTER_PORT = "head", "1234"
    local s = scheduler.detect(function(k) return env[k] end)
    assert.are.same({ "head", 1234 }, { s.master_addr, s.master_port })
    env.RANK = "0" -- a worker of a launcher: not a scheduler task
    assert.is_nil(scheduler.detect(function(k) return env[k] end))
    assert.is_nil(scheduler.detect(function(k) return ({ SLURM_PROCID = "0", SLURM_STEP_NUM_TASKS = "1" })[k] end))
    -- a batch script outside srun: SLURM_NTASKS but no step
    assert.is_nil(scheduler.detect(function(k) return ({ SLURM_PROCID = "0", SLURM_NTASKS = "4" })[k] end))
    assert.has_error(function() scheduler.detect(function(k) return ({ SLURM_PROCID = "3", SLURM_STEP_NUM_TASKS = "2" })[k] end) end,
      "the Slurm variables give rank 3 of 2 tasks")
  end)
end)
