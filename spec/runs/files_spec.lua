-- A run directory's files are written atomically and checked (issue 15, defect 1): a full disk
-- (a real 1 MB tmpfs when this machine lets root mount one; /dev/full behind the temporary
-- name everywhere) leaves the old meta.yaml whole, says so, and fails the command.
local helpers = require("helpers")
local files = require("wick.runs.files")
local q, slurp = helpers.quote, helpers.read_file

local function wick_cmd(args) return q(helpers.wick_bin()) .. " " .. args end

-- a recipe that checkpoints and then, with fill=true, fills the disk of its run directory
local RECIPE = [[
return wick.recipe {
  config = { fill = false, link = false },
  main = function(cfg)
    local model = wick.nn.Linear(4, 2)
    wick.recipe.resume({ model = model })
    wick.recipe.checkpoint({ model = model }, { epoch = 1 })
    local dir = wick.run_dir()
    if cfg.fill then
      local f = assert(io.open(dir .. "/filler", "wb"))
      local chunk = string.rep("x", 65536)
      while f:write(chunk) and f:flush() do end
      f:close()
    end
    if cfg.link then os.execute("ln -s /dev/full '" .. dir .. "/meta.yaml.tmp'") end
    return { loss = 0.5 }
  end,
}
]]

describe("run files", function()
  local tmp = helpers.tmpdir()
  local recipe = tmp .. "/fill.lua"
  helpers.write(recipe, RECIPE)
  teardown(function() os.execute("rm -rf " .. q(tmp)) end)

  it("write_file keeps the old file and names the error when the disk is full", function()
    local path = tmp .. "/meta.yaml"
    helpers.write(path, "status: running\n")
    assert(os.execute("ln -s /dev/full " .. q(path .. ".tmp")))
    local msg = helpers.err(files.write_file, path, "status: completed\n")
    assert.are.equal("cannot write " .. path .. ": No space left on device", msg)
    assert.are.equal("status: running\n", slurp(path))
    assert.is_nil(io.open(path .. ".tmp")) -- the temporary name is cleaned up
    files.write_file(path, "status: completed\n")
    assert.are.equal("status: completed\n", slurp(path))
  end)

  it("a run whose meta.yaml cannot be written exits non-zero and keeps the old meta.yaml", function()
    local dir = tmp .. "/linked"
    local out, code = helpers.run(wick_cmd(("run --run-dir %s %s link=true 2>&1"):format(q(dir), q(recipe))))
    assert.are.equal(1, code, out)
    assert.are.equal(("wick run: could not record the run in %s: cannot write %s/meta.yaml: No space left on device")
      :format(dir, dir), out:match("[^\n]*\n$"):sub(1, -2))
    assert.is_truthy(slurp(dir .. "/meta.yaml"):find("status: running", 1, true))
    out, code = helpers.run(wick_cmd(("run --resume %s link=false 2>&1"):format(q(dir))))
    assert.are.equal(0, code, out)
    assert.is_truthy(slurp(dir .. "/meta.yaml"):find("status: completed", 1, true))
  end)

  it("a full tmpfs leaves the run resumable once space is freed", function()
    local mnt = tmp .. "/mnt"
    os.execute("mkdir -p " .. q(mnt))
    if not os.execute("mount -t tmpfs -o size=1m tmpfs " .. q(mnt) .. " 2>/dev/null") then
      pending("cannot mount a tmpfs here (needs root in a machine that allows it); the /dev/full tests cover the checks")
      return
    end
    finally(function() os.execute("umount " .. q(mnt)) end)
    local dir = mnt .. "/run"
    local out, code = helpers.run(wick_cmd(("run --run-dir %s %s fill=true 2>&1"):format(q(dir), q(recipe))))
    assert.are.equal(1, code, out)
    assert.is_truthy(out:find(("wick run: could not record the run in %s: cannot write %s/meta.yaml: No space left on device\n")
      :format(dir, dir), 1, true), out)
    os.remove(dir .. "/filler")
    local meta = slurp(dir .. "/meta.yaml")
    assert.is_truthy(meta:find("status: running", 1, true), meta)
    out, code = helpers.run(wick_cmd(("run --resume %s fill=false 2>&1"):format(q(dir))))
    assert.are.equal(0, code, out)
    assert.is_truthy(out:find("from checkpoint.safetensors (epoch 1)", 1, true), out)
    assert.is_truthy(slurp(dir .. "/meta.yaml"):find("status: completed", 1, true))
  end)
end)
