-- The launchers of `wick run --nnodes K`: they meet in node 0's store, then each beats a
-- heartbeat there and watches for "launch/failed"; node 0's also watches the others' beats, so
-- that a node's failure or death stops every node.
local M = {}

M.TICK = 0.25      -- seconds between two looks at the other nodes
M.BEAT_TIMEOUT = 5 -- seconds without a heartbeat after which a node's launcher counts as gone

local function now() return require("wick").perf_counter() end

-- The launchers of all nodes meet in the store. Returns nil or an error message.
function M.meet(store, node, nnodes, timeout)
  if store:add("launch/node/" .. node, 1) > 1 then
    return string.format("node rank %d was started twice (check --node-rank)", node)
  end
  local keys = {}
  for k = 0, nnodes - 1 do keys[#keys + 1] = "launch/node/" .. k end
  local ok, e = pcall(store.wait, store, keys, timeout)
  if ok then return nil end
  if not tostring(e):find("timed out", 1, true) then return tostring(e) end
  return require("wick.dist.store").missing_report(store, "launch/node/", nnodes, "node", timeout)
end

-- The watch over the other nodes (see the header). watch.tick() -> true when this node must
-- stop, with watch.why saying why.
function M.watcher(store, node, nnodes, where)
  local w = { done = {}, beat = {}, seen = {} }
  local t0 = now()
  for k = 0, nnodes - 1 do w.beat[k], w.seen[k] = -1, t0 end
  local function look()
    store:add("launch/beat/" .. node, 1)
    if store:check({ "launch/failed" }) then
      w.why = store:get("launch/failed")
      return true
    end
    if node ~= 0 then return false end -- node 0's launcher watches the others
    local t = now()
    for k = 1, nnodes - 1 do
      if not w.done[k] then
        if store:check({ "launch/done/" .. k }) then
          w.done[k] = true
        else
          local b = store:add("launch/beat/" .. k, 0)
          if b ~= w.beat[k] then
            w.beat[k], w.seen[k] = b, t
          elseif t - w.seen[k] > M.BEAT_TIMEOUT then
            w.why = string.format("node %d's launcher stopped (no heartbeat for %g s)", k, M.BEAT_TIMEOUT)
            return true
          end
        end
      end
    end
    return false
  end
  function w.tick()
    local ok, stop = pcall(look)
    if ok then return stop end
    w.why = string.format("lost the store at %s (node 0's launcher): %s", where, tostring(stop))
    return true
  end
  -- node 0, its workers done: waits for the other nodes to finish (or fail)
  function w.wait_others()
    local keys = {}
    for k = 1, nnodes - 1 do keys[#keys + 1] = "launch/done/" .. k end
    while true do
      if pcall(store.wait, store, keys, M.TICK) then return true end
      if w.tick() then return false end
    end
  end
  return w
end

return M
