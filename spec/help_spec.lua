-- help(f): every signature section of docs/reference.md is what help prints for its function,
-- in the REPL as from wick.help.
local helpers = require("helpers")
local help = require("wick.help")

local function lookup(path)
  local v = _G
  for part in path:gmatch("[^.]+") do v = v[part] end
  return v
end

describe("help", function()
  it("prints the docs section of each function of docs/reference.md, word for word", function()
    local n = 0
    for _, s in ipairs(help.sections()) do
      local f = s.name ~= "help" and lookup(s.name)
      if f then
        n = n + 1
        assert.are.equal(s.text, help.text(f), s.name)
        assert.are.equal(s.text, help.text(s.name), s.name)
      end
    end
    assert.is_true(n >= 11, "only " .. n .. " documented functions found")
    -- the signatures a DDP port needs are there
    for _, name in ipairs { "wick.dist.spawn", "wick.dist.init_process_group", "wick.data.DistributedSampler",
                            "wick.load", "wick.save", "wick.recipe.prepare", "wick.recipe.log" } do
      assert.truthy(help.text(name):find("^### `" .. name:gsub("%p", "%%%0")), name)
    end
    assert.truthy(help.text(wick.nn.DDP):find("^### `wick.nn.DistributedDataParallel%(module, {device_ids"))
  end)

  it("is the REPL's help(), and says when a function is not documented", function()
    local out, err, code = helpers.wick("", "help(wick.dist.spawn)\nhelp(print)\n")
    assert.are.equal(0, code, err)
    assert.are.equal(help.text(wick.dist.spawn), out:sub(1, #help.text(wick.dist.spawn)))
    assert.truthy(out:find("help: function: 0x%x+ is not a documented wick function %(docs/reference.md lists them%)\n"))
    assert.are.equal("help: no documentation for wick.nope in " .. help.docs_dir()
      .. " (docs/reference.md lists the documented functions)\n", help.text("wick.nope"))
  end)
end)
