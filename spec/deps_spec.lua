-- tools/deps.sh, the first step of `make run` / `make test`: what it installs, and what it says
-- when it cannot. dpkg-query, id and apt-get are replaced on PATH by scripts that play a
-- machine missing libgloo-dev and dataset-fashion-mnist (and record what apt-get was asked).
local helpers = require("helpers")

local function fake_machine(uid)
  local dir = helpers.tmpdir()
  helpers.write(dir .. "/dpkg-query", [[#!/bin/sh
for a; do p=$a; done
case "$p" in libgloo-dev|dataset-fashion-mnist) echo "unknown ok not-installed"; exit 1 ;; esac
echo "install ok installed"
]])
  helpers.write(dir .. "/id", "#!/bin/sh\necho " .. uid .. "\n")
  helpers.write(dir .. "/apt-get", "#!/bin/sh\necho \"$@\" >> " .. dir .. "/apt.log\n")
  assert(os.execute(("chmod +x %q/dpkg-query %q/id %q/apt-get"):format(dir, dir, dir)))
  return dir
end

local function deps(dir, purpose, env)
  local err = os.tmpname()
  local out, code = helpers.run(("env %s PATH=%q:$PATH tools/deps.sh %s 2>%q"):format(env or "", dir, purpose, err))
  return out, helpers.read_file(err), code
end

describe("tools/deps.sh", function()
  it("prints the exact apt-get command and fails when not root", function()
    local dir = fake_machine(1000)
    local out, err, code = deps(dir, "run")
    assert.are.equal(1, code)
    assert.are.equal("", out)
    assert.are.equal([[
wick needs these Debian packages (run): libgloo-dev dataset-fashion-mnist
install them with:

    sudo apt-get update && sudo apt-get install -y --no-install-recommends libgloo-dev dataset-fashion-mnist

(or set WICK_SKIP_DEPS=1 to go on without them)
]], err)
    assert.is_nil(helpers.read_file(dir .. "/apt.log"))
  end)

  it("installs only what the purpose needs with apt-get as root", function()
    local dir = fake_machine(0)
    local out, _, code = deps(dir, "build")
    assert.are.equal(0, code)
    assert.are.equal("== tools/deps.sh: installing libgloo-dev\n", out)
    assert.are.equal("update -q\ninstall -y -q --no-install-recommends libgloo-dev\n",
      helpers.read_file(dir .. "/apt.log"))
  end)

  it("does nothing when WICK_SKIP_DEPS=1, and rejects an unknown purpose", function()
    local dir = fake_machine(1000)
    local out, err, code = deps(dir, "test", "WICK_SKIP_DEPS=1")
    assert.are.same({ "", "", 0 }, { out, err, code })
    out, err, code = deps(dir, "tset")
    assert.are.same({ "", "tools/deps.sh: unknown purpose 'tset' (expected build, run, test or ci)\n", 2 },
      { out, err, code })
  end)

  it("is what make run and make test call first", function()
    local mk = helpers.read_file("Makefile")
    assert.truthy(mk:find("deps:\n\ttools/deps.sh $(DEPS)\n", 1, true))
    assert.truthy(mk:find("run: DEPS = run\n", 1, true))
    assert.truthy(mk:find("test: DEPS = test\n", 1, true))
    -- a clean make: under `make test` the outer make's MAKELEVEL/MAKEFLAGS would add
    -- "Entering directory" lines and its jobserver
    local make = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -n "
    local dry = helpers.run(make .. "test BUILD=/nonexistent-build 2>&1")
    assert.are.equal("tools/deps.sh test\n", dry:match("^[^\n]*\n"))
    dry = helpers.run(make .. "run BUILD=/nonexistent-build 2>&1")
    assert.are.equal("tools/deps.sh run\n", dry:match("^[^\n]*\n"))
  end)
end)
