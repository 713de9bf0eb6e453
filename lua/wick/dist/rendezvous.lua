-- wick.dist's rendezvous: reaching the run's store (env://, tcp://, file://), the gate every
-- rank of a new process group passes, and the address Gloo binds to.
local wick = require("wick")
local core = require("wick.core")._dist
local store = require("wick.dist.store")

local M = {}

local function env_int(name)
  local v = os.getenv(name)
  return v and v ~= "" and math.tointeger(tonumber(v)) or nil
end

M.env_int = env_int

-- The store of a world > 1: the launcher's (every rank a client), or hosted by rank 0.
-- file://PATH (a file on a filesystem every rank sees): rank 0 hosts the store on a free port
-- of every interface and publishes "host port secret" in PATH (mode 0600, written whole with a
-- rename); the other ranks wait for the file and connect. A stale file from an earlier run is
-- replaced by rank 0; the others retry while what they read does not answer.
local function file_rendezvous(fn, path, rank, timeout)
  if path == "" then error(fn .. ": file:// needs a path, as in file:///shared/dir/rendezvous", 0) end
  if rank == 0 then
    local secret = os.getenv("WICK_DIST_SECRET")
    if not secret or secret == "" then secret = core.random_secret() end
    local s = store.TCPStore("0.0.0.0", 0, { is_master = true, timeout = timeout, secret = secret })
    local host = os.getenv("MASTER_ADDR") or require("wick.core")._tb.hostname()
    local tmp = path .. ".tmp" .. core.getpid()
    local f, e = io.open(tmp, "w")
    if not f then s:close() error(fn .. ": cannot write the rendezvous file: " .. tostring(e), 0) end
    f:close()
    os.execute("chmod 600 " .. require("wick.util").shell_quote(tmp))
    f = io.open(tmp, "w")
    f:write(string.format("%s %d %s\n", host, s:port(), secret))
    f:close()
    local ok, re = os.rename(tmp, path)
    if not ok then s:close() error(fn .. ": cannot write the rendezvous file: " .. tostring(re), 0) end
    return s, true
  end
  local deadline, last, err = wick.perf_counter() + timeout, nil, nil
  repeat
    local text = require("wick.util").read_file(path)
    if text and text ~= last and text:match("\n$") then
      last = text
      local host, port, secret = text:match("^(%S+) (%d+) (%S+)\n$")
      if not host then error(fn .. ": " .. path .. " is not a wick rendezvous file", 0) end
      local ok, s = pcall(store.TCPStore, host, math.tointeger(tonumber(port)),
        { timeout = math.min(5, timeout), secret = secret })
      if ok then return s, false end
      err = s
    end
    core.sleep(0.05)
  until wick.perf_counter() > deadline
  error(string.format("rendezvous: rank 0 did not publish a store in %s within %g s; missing rank 0%s", path,
    timeout, err and " (last try: " .. tostring(err) .. ")" or ""), 0)
end

local function connect(fn, init_method, rank, timeout)
  local host, port
  if init_method:match("^file://") then return file_rendezvous(fn, init_method:sub(8), rank, timeout) end
  if init_method == "env://" then
    host, port = os.getenv("MASTER_ADDR"), env_int("MASTER_PORT")
    for _, v in ipairs({ "MASTER_ADDR", "MASTER_PORT" }) do
      if not os.getenv(v) then
        error(fn .. ": environment variable " .. v .. " expected, but not set (run under wick run -n N)", 0)
      end
    end
  else
    host, port = init_method:match("^tcp://%[?([^%]]+)%]?:(%d+)$")
    port = math.tointeger(tonumber(port))
    if not host then error(fn .. ": unsupported init_method '" .. init_method .. "' (env://, tcp://host:port or file://path)", 0) end
  end
  -- under wick run / spawn the launcher hosts the env:// store; a tcp:// store is rank 0's
  local master = rank == 0 and (init_method ~= "env://" or os.getenv("WICK_DIST_AGENT_STORE") ~= "1")
  local ok, s = pcall(store.TCPStore, host, port, { is_master = master, timeout = timeout })
  if not ok and not master and init_method ~= "env://" and tostring(s):find("cannot connect", 1, true) then
    error(string.format("rendezvous: rank 0 did not open the store at %s:%d within %g s; missing rank 0", host, port, timeout), 0)
  end
  if not ok then error(s, 0) end
  return s, master
end
M.connect = connect


-- Every rank of the world checks in under prefix; the last one opens the gate. A timeout says
-- who was waited for: "rendezvous: 3 of 4 ranks joined within 30 s; missing rank 2".
-- rank0_hosts: the store lives in rank 0's process (tcp://, file://, env:// without the
-- launcher). Its clients then wait a little longer than rank 0, so that rank 0, which keeps
-- the store, is the one that reports the missing ranks.
local function rendezvous(fn, s, prefix, rank, world, timeout, rank0_hosts)
  local key = prefix .. "rendezvous/"
  s:set(key .. rank, "1")
  if s:add(key .. "count", 1) == world then s:set(key .. "done", "1") end
  local grace = rank0_hosts and rank ~= 0 and 2 or 0
  local ok, e = pcall(s.wait, s, { key .. "done" }, timeout + grace)
  if ok then return end
  if rank0_hosts and rank ~= 0 and not tostring(e):find("timed out", 1, true) then
    error(string.format("rendezvous: rank 0, which hosts the store, left before all %d ranks joined (%s)", world,
      tostring(e)), 0)
  end
  if not tostring(e):find("timed out", 1, true) then error(e, 0) end
  error(store.missing_report(s, key, world, "rank", timeout), 0)
end

M.gate = rendezvous

-- The address Gloo's sockets bind to: GLOO_SOCKET_IFNAME's interface, else loopback when the
-- store is on this machine's loopback, else this machine's hostname (as PyTorch).
local function gloo_address(init_method)
  local iface = os.getenv("GLOO_SOCKET_IFNAME")
  if iface and iface ~= "" then return nil, iface end
  local host = init_method == "env://" and os.getenv("MASTER_ADDR") or init_method:match("^tcp://%[?([^%]]+)%]?:%d+$")
  if host == nil or host == "localhost" or host:match("^127%.") or host == "::1" then return "127.0.0.1", nil end
  return nil, nil
end

M.gloo_address = gloo_address

return M
