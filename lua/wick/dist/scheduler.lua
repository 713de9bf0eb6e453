-- Ranks from a cluster scheduler, so that `srun wick run recipe.lua` and `mpirun wick run
-- recipe.lua` work: Slurm's SLURM_PROCID/SLURM_STEP_NUM_TASKS/... or Open MPI's OMPI_COMM_WORLD_*
-- variables become RANK/WORLD_SIZE/... (one task = one rank), or with `-n N` the nodes of a
-- multi-node launch (one task = one node's launcher). See docs/dist.md.
local core = require("wick.core")._dist

local M = {}

M.DEFAULT_PORT = 29500 -- as torchrun; Slurm adds SLURM_JOB_ID % 1000 (see master_port)

-- The first host of a Slurm node list: "node[03-05,9],gpu1" -> "node03".
function M.first_host(list)
  if type(list) ~= "string" or list == "" then return nil end
  local depth, i = 0, 1
  while i <= #list do -- the first entry: up to a comma outside brackets
    local c = list:sub(i, i)
    if c == "[" then depth = depth + 1 elseif c == "]" then depth = depth - 1
    elseif c == "," and depth == 0 then break end
    i = i + 1
  end
  local entry = list:sub(1, i - 1)
  local prefix, range, suffix = entry:match("^([^%[]*)%[([^%]]*)%](.*)$")
  if not prefix then return entry end
  local first = range:match("^([^,%-]+)")
  return prefix .. first .. (M.first_host(suffix) or "")
end

-- Slurm's SLURM_STEP_TASKS_PER_NODE ("2(x3),1") for node `node` (0-based).
function M.tasks_on_node(spec, node)
  if type(spec) ~= "string" then return nil end
  local k = 0
  for item in spec:gmatch("[^,]+") do
    local n, rep = item:match("^(%d+)%(x(%d+)%)$")
    n, rep = tonumber(n or item:match("^(%d+)$")), tonumber(rep or 1)
    if not n then return nil end
    if node < k + rep then return math.tointeger(n) end
    k = k + rep
  end
  return nil
end

local function int(getenv, name)
  local v = getenv(name)
  return v and math.tointeger(tonumber(v)) or nil
end

-- detect(getenv = os.getenv) -> nil, or {name, rank, size, local_rank, local_size,
-- master_addr, master_port} when a scheduler started this process as one of several tasks.
-- Not when RANK is set already (a worker of `wick run -n N`, or set by hand).
function M.detect(getenv)
  getenv = getenv or os.getenv
  if getenv("RANK") then return nil end
  local s
  -- srun's step variables, not only SLURM_NTASKS: a batch script (outside srun) has those too
  if getenv("SLURM_PROCID") and getenv("SLURM_STEP_NUM_TASKS") then
    local node = int(getenv, "SLURM_NODEID") or 0
    s = { name = "Slurm", rank = int(getenv, "SLURM_PROCID"), size = int(getenv, "SLURM_STEP_NUM_TASKS"),
      local_rank = int(getenv, "SLURM_LOCALID") or 0,
      local_size = M.tasks_on_node(getenv("SLURM_STEP_TASKS_PER_NODE") or getenv("SLURM_TASKS_PER_NODE"), node),
      master_addr = M.first_host(getenv("SLURM_STEP_NODELIST") or getenv("SLURM_JOB_NODELIST") or getenv("SLURM_NODELIST")) }
    local job = int(getenv, "SLURM_JOB_ID")
    s.master_port = M.DEFAULT_PORT + (job and job % 1000 or 0)
  elseif getenv("OMPI_COMM_WORLD_RANK") and getenv("OMPI_COMM_WORLD_SIZE") then
    s = { name = "Open MPI", rank = int(getenv, "OMPI_COMM_WORLD_RANK"), size = int(getenv, "OMPI_COMM_WORLD_SIZE"),
      local_rank = int(getenv, "OMPI_COMM_WORLD_LOCAL_RANK") or 0,
      local_size = int(getenv, "OMPI_COMM_WORLD_LOCAL_SIZE"), master_port = M.DEFAULT_PORT }
    -- Open MPI names no hosts: on one node the master is this machine
    if s.local_size and s.local_size == s.size then s.master_addr = "127.0.0.1" end
  else
    return nil
  end
  if not s.rank or not s.size or s.size < 1 or s.rank < 0 or s.rank >= s.size then
    error(string.format("the %s variables give rank %s of %s tasks", s.name, tostring(s.rank), tostring(s.size)), 0)
  end
  if s.size == 1 then return nil end
  s.local_size = s.local_size or 1
  s.master_addr = getenv("MASTER_ADDR") or s.master_addr
  s.master_port = int(getenv, "MASTER_PORT") or s.master_port
  return s
end

-- apply(opts): under a scheduler with several tasks, either sets this process's RANK,
-- WORLD_SIZE, ... (-n 1: "rank"; rank 0 then hosts the store) or makes each task one node of a
-- multi-node launch (-n N > 1: "nodes"). Returns nil when there is no scheduler, or when
-- --nnodes was given.
function M.apply(opts, getenv)
  getenv = getenv or os.getenv
  if opts.nnodes > 1 then return nil end -- explicit multi-node options win
  local s = M.detect(getenv)
  if not s then return nil end
  local secret = getenv("WICK_DIST_SECRET")
  if not secret or secret == "" then
    error(string.format("under %s every task needs the same WICK_DIST_SECRET (export one before starting the tasks; docs/dist.md)", s.name), 0)
  end
  local addr = opts.master_addr or s.master_addr
  if not addr then
    error(string.format("under %s, MASTER_ADDR (or --master-addr) must name the host of rank 0", s.name), 0)
  end
  local port = opts.master_port or s.master_port
  if opts.nproc > 1 then
    opts.nnodes, opts.node_rank, opts.master_addr, opts.master_port = s.size, s.rank, addr, port
    return "nodes"
  end
  for k, v in pairs({ RANK = s.rank, WORLD_SIZE = s.size, LOCAL_RANK = s.local_rank, LOCAL_WORLD_SIZE = s.local_size,
    MASTER_ADDR = addr, MASTER_PORT = port, WICK_DIST_AGENT_STORE = 0 }) do
    core.setenv(k, tostring(v))
  end
  return "rank"
end

return M
