-- `cmake --install` gives a wick that finds its Lua library next to itself.
local helpers = require("helpers")

describe("install", function()
  it("installs a binary that loads lua/wick from the prefix, with no environment", function()
    local build = helpers.build_dir()
    local prefix = os.tmpname()
    os.remove(prefix)
    local ok = os.execute(("cmake --install %q --prefix %q >/dev/null"):format(build, prefix))
    assert.is_true(ok)
    local out = helpers.run(("env -u WICK_LUA_DIR %q/bin/wick -e %q"):format(prefix,
      "print(package.searchpath('wick', package.path)); print(wick.ones(2):tolist()[2])"))
    assert.are.equal(prefix .. "/bin/../share/wick/lua/wick/init.lua\n1.0\n", out)
    os.execute(("rm -rf %q"):format(prefix))
  end)
end)
