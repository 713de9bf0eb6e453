-- wick.recipe{...}: the recipe object, config resolution (defaults <- --config files <- key=value)
-- and `wick run RECIPE` on the real program.
local wick = require("wick")
local config = wick.config
local helper = require("wick_run")

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return err
end

local function main() end

describe("wick.recipe", function()
  it("builds a recipe from config and main", function()
    local r = wick.recipe { config = { lr = 0.1 }, main = main }
    assert.is_true(wick.recipe.is_recipe(r))
    assert.is_false(wick.recipe.is_recipe({}))
    assert.are.same({ lr = 0.1 }, r:defaults())
    assert.are.equal("wick.Recipe(config = table)", tostring(r))
    local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
    assert.are.equal(here, wick.recipe { config = "x.yaml", main = main }.dir)
  end)

  it("checks its fields", function()
    assert.are.equal("wick.recipe: unknown field 'mian' (did you mean 'main'?)",
      errmsg(wick.recipe, { mian = main }))
    assert.are.equal("wick.recipe: 'main' must be a function (got nil)", errmsg(wick.recipe, { config = {} }))
    assert.are.equal("wick.recipe: 'config' must be a YAML file name or a table of defaults (got number)",
      errmsg(wick.recipe, { config = 3, main = main }))
    assert.are.equal("wick.recipe: expected a table {config = ..., main = function(cfg) ... end}",
      errmsg(wick.recipe, "x"))
  end)
end)

describe("Recipe:resolve", function()
  local r = wick.recipe {
    config = {
      lr = 0.1, epochs = 3, name = "run", flag = false, sizes = { 64, 32 },
      optim = { momentum = 0.9, lr_schedule = { step = 10 } }, extra = {},
    },
    main = main,
  }
  local dir
  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmdir(dir) end)

  it("types key=value overrides with the YAML rules", function()
    local cfg = r:resolve({}, { "lr=1", "epochs=5", "name=abc", "flag=true", "sizes=[1, 2, 3]",
      "optim.momentum=0.5", "optim.lr_schedule.step=2" })
    assert.are.equal(1.0, cfg.lr)
    assert.are.equal("float", math.type(cfg.lr)) -- an integer is fine for a float default
    assert.are.equal(5, cfg.epochs)
    assert.are.equal("abc", cfg.name)
    assert.is_true(cfg.flag)
    assert.are.same({ 1, 2, 3 }, cfg.sizes)
    assert.are.same({ momentum = 0.5, lr_schedule = { step = 2 } }, cfg.optim)
    -- numbers given for a string default keep their text
    assert.are.equal("2024", r:resolve({}, { "name=2024" }).name)
    assert.are.equal("1.50", r:resolve({}, { "name=1.50" }).name)
    -- an empty table default takes any keys
    assert.are.same({ a = 1, b = { c = true } }, r:resolve({}, { "extra.a=1", "extra.b.c=true" }).extra)
    -- null is allowed anywhere and shows in the resolved config
    assert.are.equal(config.null, r:resolve({}, { "optim=null" }).optim)
  end)

  it("rejects unknown keys with a suggestion", function()
    local rr = wick.recipe { config = { learning_rate = 0.1, optim = { lr = 1.0 } }, main = main }
    assert.are.equal("unknown config key 'lerning_rate' (did you mean 'learning_rate'?)",
      errmsg(rr.resolve, rr, {}, { "lerning_rate=0.2" }))
    assert.are.equal("unknown config key 'optim.lrr' (did you mean 'optim.lr'?)",
      errmsg(rr.resolve, rr, {}, { "optim.lrr=0.2" }))
    assert.are.equal("unknown config key 'zzz'", errmsg(rr.resolve, rr, {}, { "zzz=1" }))
    assert.are.equal("unknown config key 'optm' (did you mean 'optim'?)",
      errmsg(rr.resolve, rr, {}, { "optm.lr=1" }))
  end)

  it("rejects clearly wrong types", function()
    assert.are.equal("config key 'lr' expects a number, got string 'abc'", errmsg(r.resolve, r, {}, { "lr=abc" }))
    assert.are.equal("config key 'epochs' expects an integer, got number 2.5", errmsg(r.resolve, r, {}, { "epochs=2.5" }))
    assert.are.equal("config key 'flag' expects a boolean, got integer 1", errmsg(r.resolve, r, {}, { "flag=1" }))
    assert.are.equal("config key 'sizes' expects a list, got integer 3", errmsg(r.resolve, r, {}, { "sizes=3" }))
    assert.are.equal("config key 'optim' expects a table, got string 'x'", errmsg(r.resolve, r, {}, { "optim=x" }))
    assert.are.equal("config key 'name' expects a string, got list", errmsg(r.resolve, r, {}, { "name=[1]" }))
    assert.are.equal("config key 'lr' is number 0.1, not a table (cannot set 'lr.x')",
      errmsg(r.resolve, r, {}, { "lr.x=1" }))
    assert.are.equal("bad override 'lr' (expected key=value, e.g. lr=0.1 or optim.momentum=0.9)",
      errmsg(r.resolve, r, {}, { "lr" }))
    assert.are.equal("override 'sizes=[1,': config: did not find expected node content at line 2, column 1",
      errmsg(r.resolve, r, {}, { "sizes=[1," }))
    assert.are.equal(3, r:resolve({}, { "epochs=3.0" }).epochs) -- an integral float is an integer
  end)

  it("merges --config files in order: maps deeply, lists replaced", function()
    helper.write(dir .. "/a.yaml", "lr: 0.2\noptim:\n  momentum: 0.8\nsizes: [1]\n")
    helper.write(dir .. "/b.yaml", "optim: {lr_schedule: {step: 5}}\nepochs: 7\n")
    local cfg = r:resolve({ dir .. "/a.yaml", dir .. "/b.yaml" }, { "lr=0.3" })
    assert.are.equal(0.3, cfg.lr)
    assert.are.equal(7, cfg.epochs)
    assert.are.same({ 1 }, cfg.sizes)
    assert.are.same({ momentum = 0.8, lr_schedule = { step = 5 } }, cfg.optim)
    helper.write(dir .. "/bad.yaml", "optim:\n  momentun: 0.1\n")
    assert.are.equal(dir .. "/bad.yaml: unknown config key 'optim.momentun' (did you mean 'optim.momentum'?)",
      errmsg(r.resolve, r, { dir .. "/bad.yaml" }))
    helper.write(dir .. "/list.yaml", "- 1\n")
    assert.are.equal(dir .. "/list.yaml: a config must be a mapping of keys to values, got list",
      errmsg(r.resolve, r, { dir .. "/list.yaml" }))
    assert.are.equal("config: cannot open '" .. dir .. "/none.yaml': No such file or directory",
      errmsg(r.resolve, r, { dir .. "/none.yaml" }))
  end)

  it("loads defaults from a YAML file beside the recipe, keeping null keys", function()
    helper.write(dir .. "/d.yaml", "checkpoint: null\nlr: 0.1\n")
    local rr = wick.recipe { config = "d.yaml", main = main }
    rr.dir = dir
    local cfg = rr:resolve({}, { "checkpoint=/tmp/x.st" })
    assert.are.equal("/tmp/x.st", cfg.checkpoint)
    assert.are.equal(config.null, rr:resolve().checkpoint)
  end)
end)

describe("wick run RECIPE", function()
  local dir
  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmdir(dir) end)

  it("runs recipes/hello.lua with its defaults", function()
    local r = helper.run({ "run", "recipes/hello.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal([[
# resolved config of recipes/hello.lua
data:
  intercept: 2.0
  n: 100
  noise: 0.1
  slope: 3.0
dtype: f64
name: hello
hello: y = 2.9922 * x + 2.0000 fitted on 100 points (true: 3 * x + 2), mse 0.00502
]], r.out)
    assert.are.equal("", r.err)
  end)

  it("applies overrides and --config files", function()
    helper.write(dir .. "/more.yaml", "data:\n  slope: -1.5\n  n: 20\n")
    local r = helper.run({ "run", "recipes/hello.lua", "--config", dir .. "/more.yaml", "data.noise=0",
      "data.intercept=4", "name=line" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("line: y = %-1%.5000 %* x %+ 4%.0000 fitted on 20 points %(true: %-1%.5 %* x %+ 4%)", r.out)
    assert.matches("\n  noise: 0%.0\n", r.out)
  end)

  it("rejects an unknown key with a suggestion, before running anything", function()
    local r = helper.run({ "run", "recipes/hello.lua", "data.nosie=0" })
    assert.are.equal(1, r.code)
    assert.are.equal("", r.out)
    assert.are.equal("wick run: unknown config key 'data.nosie' (did you mean 'data.noise'?)\n", r.err)
    r = helper.run({ "run", "recipes/hello.lua", "data.n=abc" })
    assert.are.equal(1, r.code)
    assert.are.equal("wick run: config key 'data.n' expects an integer, got string 'abc'\n", r.err)
  end)

  it("reports config file errors with file, line and column", function()
    helper.write(dir .. "/bad.yaml", "data:\n  n: 3\n  slope: 1: 2\n")
    local r = helper.run({ "run", "recipes/hello.lua", "--config=" .. dir .. "/bad.yaml" })
    assert.are.equal(1, r.code)
    assert.are.equal("wick run: config: " .. dir .. "/bad.yaml:3:11: mapping values are not allowed in this context\n", r.err)
    r = helper.run({ "run", "recipes/hello.lua", "--config", dir .. "/none.yaml" })
    assert.are.equal(1, r.code)
    assert.are.equal("wick run: config: cannot open '" .. dir .. "/none.yaml': No such file or directory\n", r.err)
  end)

  it("finds the recipe's config beside it, from any directory", function()
    helper.write(dir .. "/r.yaml", "greeting: hi\ncount: 2\n")
    helper.write(dir .. "/r.lua", [[
return wick.recipe { config = "r.yaml", main = function(cfg)
  for i = 1, cfg.count do print(cfg.greeting .. " " .. i) end
end }
]])
    local r = helper.run({ "run", dir .. "/r.lua", "count=3" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("# resolved config of " .. dir .. "/r.lua\ncount: 3\ngreeting: hi\nhi 1\nhi 2\nhi 3\n", r.out)
  end)

  it("prints a traceback and fails when main raises", function()
    helper.write(dir .. "/boom.lua", [[
return wick.recipe { config = { lr = 0.1 }, main = function(cfg)
  error("boom at lr " .. cfg.lr)
end }
]])
    local r = helper.run({ "run", dir .. "/boom.lua" })
    assert.are.equal(1, r.code)
    assert.are.equal("# resolved config of " .. dir .. "/boom.lua\nlr: 0.1\n", r.out)
    assert.matches("^wick: " .. dir:gsub("%p", "%%%0") .. "/boom%.lua:2: boom at lr 0%.1\nstack traceback:\n", r.err)
  end)

  it("prints a recipe's default config with --help", function()
    local r = helper.run({ "run", "recipes/hello.lua", "--help" })
    assert.are.equal(0, r.code, r.err)
    assert.matches("^usage: wick run recipes/hello.lua %[%-%-config FILE.yaml%]%.%.%. %[key.sub=value%]%.%.%.\n", r.out)
    assert.matches("default config %(recipes/hello.yaml%):\ndata:\n", r.out)
  end)
end)

-- The README's first example, typed without `run`: a file returning a recipe runs as
-- `wick run FILE` would (it used to crash in wick.recipe, or exit 0 having done nothing).
describe("wick RECIPE (without run)", function()
  local dir
  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmdir(dir) end)

  it("runs recipes/hello.lua as wick run does, with overrides", function()
    local direct = helper.run({ "recipes/hello.lua", "data.n=20" })
    local run = helper.run({ "run", "recipes/hello.lua", "data.n=20" })
    assert.are.equal(0, direct.code, direct.err)
    assert.are.equal("", direct.err)
    assert.are.equal(run.out, direct.out)
    assert.matches("\nhello: y = [%d.]+ %* x %+ 2%.0000 fitted on 20 points", direct.out)
  end)

  it("runs a recipe returned through a local, and still rejects unknown keys", function()
    helper.write(dir .. "/r.lua", [[
local r = wick.recipe { config = { count = 2 }, main = function(cfg) print("count " .. cfg.count) end }
return r
]])
    local r = helper.run({ dir .. "/r.lua", "count=3" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("# resolved config of " .. dir .. "/r.lua\ncount: 3\ncount 3\n", r.out)
    r = helper.run({ dir .. "/r.lua", "cuont=3" })
    assert.are.equal(1, r.code)
    assert.are.equal("wick run: unknown config key 'cuont' (did you mean 'count'?)\n", r.err)
  end)

  it("leaves plain scripts alone", function()
    helper.write(dir .. "/s.lua", "print('args', ...)\nreturn 42\n")
    local r = helper.run({ dir .. "/s.lua", "a" })
    assert.are.same({ "args\ta\n", "", 0 }, { r.out, r.err, r.code })
  end)
end)
