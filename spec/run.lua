-- Runs the busted specs inside the real wick host: `wick spec/run.lua [busted args]`.
-- Slow specs (tagged #slow) run only when WICK_SLOW=1 or when asked for with --tags.
local here = debug.getinfo(1, "S").source:match("^@(.*)/run%.lua$") or "spec"
local root = here:gsub("/spec$", "")
local user = { ... }
-- --no-auto-insulate: spec files share loaded modules, so objects made by one module (an
-- nn.Module built in a spec) are recognised by another (wick.tb's add_graph) when several spec
-- files run in one process; ctest runs each file in its own process anyway.
local args = { "-o", here .. "/support/output.lua", "--lpath=" .. here .. "/support/?.lua",
  "--no-auto-insulate" }
local has_paths, has_tags = false, false
for _, a in ipairs(user) do
  if a:sub(1, 1) ~= "-" then has_paths = true end
  if a:match("^%-%-tags") or a:match("^%-%-exclude%-tags") or a == "-t" then has_tags = true end
  args[#args + 1] = a
end
if not has_tags and os.getenv("WICK_SLOW") ~= "1" then args[#args + 1] = "--exclude-tags=slow" end
if not has_paths then args[#args + 1] = here end
arg = { [0] = "busted" }
for i, a in ipairs(args) do arg[i] = a end
package.path = root .. "/spec/support/?.lua;" .. package.path
require("busted.runner")({ standalone = false })
