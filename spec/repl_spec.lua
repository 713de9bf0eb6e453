-- The REPL: the real binary with piped input (values, multi-line statements, errors), the
-- policy of lua/wick/repl.lua (value display, completion, history path), and a terminal
-- session in tmux (line editing, completion, Ctrl-C, Ctrl-D, persistent history).
local repl = require("wick.repl")

local shell_quote = require("helpers").quote

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local WICK = require("helpers").wick_bin() -- $WICK_BIN, else the host running this spec

-- Runs `wick args` with `input` on a pipe; returns stdout, stderr, exit status.
local function run(input, args)
  local inp, out, errf = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(inp, "wb"))
  f:write(input)
  f:close()
  local cmd = string.format("WICK_HISTORY= %s %s < %s > %s 2> %s", shell_quote(WICK), args or "",
    inp, out, errf)
  local _, _, code = os.execute(cmd)
  local o, e = read_all(out), read_all(errf)
  os.remove(inp); os.remove(out); os.remove(errf)
  return o, e, code
end

describe("the REPL on a pipe", function()
  it("prints the values of expressions and nothing else", function()
    local out, err, code = run("x = 1 + 1\nx\nx * 21\n")
    assert.are.equal("2\n42\n", out)
    assert.are.equal("", err)
    assert.are.equal(0, code)
  end)

  it("continues incomplete statements over several lines", function()
    local out, err = run("function f(a)\n  return a * 2\nend\nf(21)\nfor i = 1,\n  3 do print(i) end\n" ..
      "t = {\n  1,\n  2,\n}\n#t\n")
    assert.are.equal("42\n1\n2\n3\n2\n", out)
    assert.are.equal("", err)
  end)

  it("reports errors on stderr, goes on, and exits non-zero at the end", function()
    local out, err, code = run("error('boom')\nx = = 1\nprint('after')\n1 + 1\n")
    assert.are.equal("after\n2\n", out)
    assert.are.equal("stdin:1: boom\nstack traceback:\n\t[C]: in function 'error'\n\tstdin:1: in main chunk\n" ..
      "stdin:1: unexpected symbol near '='\n", err)
    assert.are.equal(1, code)
    local _, _, ok_code = run("x = 1\nprint(x)\n")
    assert.are.equal(0, ok_code)
  end)

  it("reports a statement left unfinished at the end of input", function()
    local out, err, code = run("1\nfor i = 1, 2 do\n")
    assert.are.equal("1\n", out)
    assert.are.equal("stdin:1: 'end' expected near <eof>\n", err)
    assert.are.equal(1, code)
  end)

  it("shows tensors, tables and several values", function()
    local out, err = run("wick.arange(6):reshape(2, 3)\n{1, 2, 3}\n{lr = 0.1, name = 'x'}\n" ..
      "1, 'a', nil\nprint('hi')\nnil\n")
    assert.are.equal("tensor([[0, 1, 2],\n        [3, 4, 5]])\n{1, 2, 3}\n{lr = 0.1, name = \"x\"}\n" ..
      "1\ta\tnil\nhi\nnil\n", out)
    assert.are.equal("", err)
  end)

  it("runs after a script or -e with -i", function()
    local out, err = run("y * 2\n", "-e 'y = 21' -i")
    assert.are.equal("42\n", out)
    assert.are.equal("", err)
  end)
end)

describe("wick.repl.compile", function()
  it("compiles expressions so that they return their value", function()
    local fn = repl.compile("1 + 2")
    assert.are.equal(3, fn())
  end)

  it("compiles statements", function()
    local fn = repl.compile("local a = 5 return a")
    assert.are.equal(5, fn())
  end)

  it("tells incomplete input from errors", function()
    local fn, msg, incomplete = repl.compile("for i = 1, 2 do")
    assert.is_nil(fn)
    assert.are.equal("stdin:1: 'end' expected near <eof>", msg)
    assert.is_true(incomplete)
    fn, msg, incomplete = repl.compile("x = = 1")
    assert.is_nil(fn)
    assert.are.equal("stdin:1: unexpected symbol near '='", msg)
    assert.is_nil(incomplete)
    assert.is_true(select(3, repl.compile("s = [[abc")))
    assert.is_true(select(3, repl.compile("f(1,")))
  end)
end)

describe("wick.repl.show", function()
  it("shows scalars like print and strings as they are", function()
    assert.are.equal("1", repl.show(1))
    assert.are.equal("0.5", repl.show(0.5))
    assert.are.equal("2.0", repl.show(2.0))
    assert.are.equal("nil", repl.show(nil))
    assert.are.equal("true", repl.show(true))
    assert.are.equal("a b", repl.show("a b"))
  end)

  it("shows tables as literals, keys sorted", function()
    assert.are.equal("{}", repl.show({}))
    assert.are.equal("{1, 2, 3}", repl.show({1, 2, 3}))
    assert.are.equal('{lr = 0.1, name = "x"}', repl.show({name = "x", lr = 0.1}))
    assert.are.equal('{10, 20, ["a b"] = true, n = 2, [false] = 0}',
      repl.show({10, 20, n = 2, ["a b"] = true, [false] = 0}))
    assert.are.equal('{[1.5] = "x", ["end"] = 1}', repl.show({[1.5] = "x", ["end"] = 1}))
    assert.are.equal('{"line\\nbreak"}', repl.show({"line\nbreak"}))
  end)

  it("limits nesting depth and the number of entries, and marks cycles", function()
    assert.are.equal("{a = {b = {c = {d = {...}}}}}", repl.show({a = {b = {c = {d = {e = 1}}}}}))
    local big = {}
    for i = 1, 150 do big[i] = i end
    local s = repl.show(big)
    local tail = "\n  99, 100, ... (50 more),\n}"
    assert.are.equal(tail, s:sub(-#tail))
    local t = {}
    t.self = t
    assert.are.equal("{self = <cycle>}", repl.show(t))
    local shared = {1}
    assert.are.equal("{a = {1}, b = {1}}", repl.show({a = shared, b = shared}))
  end)

  it("breaks long tables over lines and indents tensors inside them", function()
    local s = repl.show({weight = wick.arange(4):reshape(2, 2), bias = wick.tensor{1, 2}})
    assert.are.equal("{\n  bias = tensor([1, 2]),\n  weight = tensor([[0, 1],\n                   [2, 3]]),\n}", s)
    local long = {}
    for i = 1, 30 do long[i] = 1000 + i end
    assert.are.equal("{\n  1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013,\n" ..
      "  1014, 1015, 1016, 1017, 1018, 1019, 1020, 1021, 1022, 1023, 1024, 1025, 1026,\n" ..
      "  1027, 1028, 1029, 1030,\n}", repl.show(long))
  end)

  it("uses __tostring and survives one that fails", function()
    local obj = setmetatable({}, {__tostring = function() return "<obj>" end})
    assert.are.equal("{<obj>}", repl.show({obj}))
    local bad = setmetatable({}, {__tostring = function() error("nope", 0) end})
    assert.are.equal("{<error in __tostring: nope>}", repl.show({bad}))
  end)

  it("joins several results with tabs", function()
    assert.are.equal("1\tx\t{2}", repl.format_results(1, "x", {2}))
    assert.is_nil(repl.format_results())
  end)
end)

describe("wick.repl.complete", function()
  local env = {wick = wick, string = string, x = 1, xylophone = {}, _hidden = 1,
    t = wick.zeros(2), s = "str", cfg = {lr = 0.1, layers = {fc1 = 1}, run = function() end}}

  it("completes fields of modules", function()
    local c, word = repl.complete("x = wick.ze", env)
    assert.are.same({"wick.zeros", "wick.zeros_like"}, c)
    assert.are.equal("wick.ze", word)
    assert.are.same({"cfg.layers.fc1"}, (repl.complete("cfg.layers.f", env)))
  end)

  it("completes globals and keywords", function()
    assert.are.same({"x", "xylophone"}, (repl.complete("x", env)))
    assert.are.same({"while", "wick"}, (repl.complete("print(w", env)))
    assert.are.same({}, (repl.complete("_h", {})))
    assert.are.same({"_hidden"}, (repl.complete("_h", env)))
  end)

  it("completes tensor methods after ':' and properties after '.'", function()
    local c = repl.complete("t:resh", env)
    assert.are.same({"t:reshape", "t:reshape_as"}, c)
    assert.are.same({"t.shape"}, (repl.complete("t.sha", env)))
    assert.are.same({}, (repl.complete("t:sha", env)))
    assert.are.same({"s:upper"}, (repl.complete("s:up", env)))
    assert.are.same({"cfg:run"}, (repl.complete("cfg:r", env)))
  end)

  it("completes nn.Module instances: methods after ':', children and parameters after '.'", function()
    local net = wick.nn.Sequential(wick.nn.Linear(2, 2))
    net.head = wick.nn.Linear(2, 1)
    local e = { net = net }
    assert.are.same({ "net:named_buffers", "net:named_children", "net:named_modules", "net:named_parameters" },
      (repl.complete("net:named_", e)))
    assert.are.same({ "net:parameters" }, (repl.complete("net:para", e)))
    assert.are.same({ "net.head" }, (repl.complete("net.he", e)))
    assert.are.same({ "net.head.bias" }, (repl.complete("net.head.bi", e)))
    assert.are.same({ "net.train", "net.training" }, (repl.complete("net.trai", e)))
    assert.are.same({}, (repl.complete("net:is_mod", e)))
  end)

  it("completes an optimizer's API, not its internal helpers", function()
    local e = { opt = wick.optim.SGD(wick.nn.Linear(2, 2):parameters(), { lr = 0.1 }) }
    assert.are.same({ "opt:add_param_group", "opt:load_state_dict", "opt:state_dict", "opt:step", "opt:zero_grad" },
      (repl.complete("opt:", e)))
    assert.are.same({}, (repl.complete("opt.check", e)))
    assert.are.same({}, (repl.complete("opt.su", e)))
  end)

  it("offers nothing for unknown names and numbers", function()
    assert.are.same({}, (repl.complete("nothing.he", env)))
    assert.are.same({}, (repl.complete("x = 1.5", env)))
    assert.are.same({}, (repl.complete("a:b.c", env)))
  end)

  it("indents on an empty line", function()
    assert.are.same({"  "}, (repl.complete("", env)))
  end)

  it("lays candidates out in columns", function()
    assert.are.equal("ab  cd  ef  gh", repl.columns({"ab", "cd", "ef", "gh"}, 20))
    assert.are.equal("ab  cd\nef  gh", repl.columns({"ab", "ef", "cd", "gh"}, 8))
  end)
end)

describe("wick.repl.history_path", function()
  local function env(t) return function(k) return t[k] end end

  it("uses $WICK_HISTORY, else ~/.wick_history, else none", function()
    assert.are.equal("/tmp/h", repl.history_path(env{WICK_HISTORY = "/tmp/h", HOME = "/home/u"}))
    assert.is_nil(repl.history_path(env{WICK_HISTORY = "", HOME = "/home/u"}))
    assert.are.equal("/home/u/.wick_history", repl.history_path(env{HOME = "/home/u/"}))
    assert.is_nil(repl.history_path(env{}))
    assert.is_nil(repl.history_path(env{HOME = ""}))
  end)
end)

describe("the REPL on a terminal (tmux)", function()
  local has_tmux = os.execute("command -v tmux > /dev/null 2>&1")
  local sock = os.tmpname() -- our own server socket: no clash with the user's tmux
  os.remove(sock)
  local tmux = "tmux -S " .. sock .. " -f /dev/null "

  local function sh(cmd) return os.execute(tmux .. cmd .. " > /dev/null 2>&1") end
  local function keys(...)
    for _, k in ipairs({...}) do
      if k:match("^[CM]%-.$") or k == "Enter" or k == "Tab" or k == "Up" then sh("send-keys -t repl " .. k)
      else sh("send-keys -t repl -l " .. shell_quote(k)) end
    end
  end
  local function pane()
    local p = io.popen(tmux .. "capture-pane -p -t repl 2>/dev/null")
    local s = p:read("a")
    p:close()
    return s
  end
  -- Waits until the pane shows `text` (plain); fails with the pane's contents after 5 s.
  local function wait_for(text)
    for _ = 1, 100 do
      local s = pane()
      if s:find(text, 1, true) then return s end
      os.execute("sleep 0.05")
    end
    error("the terminal never showed " .. string.format("%q", text) .. "; it shows:\n" .. pane(), 2)
  end
  local function wait_exit()
    for _ = 1, 100 do
      if not sh("has-session -t repl") then return true end
      os.execute("sleep 0.05")
    end
    return false
  end
  local function start(env)
    assert(sh("new-session -d -s repl -x 100 -y 40 " .. shell_quote("env " .. env .. " " .. shell_quote(WICK))))
    wait_for("Ctrl-D to exit.")
  end

  local hist = os.tmpname()
  os.remove(hist)
  after_each(function()
    if has_tmux then sh("kill-server") end
    os.remove(sock)
    os.remove(hist)
  end)

  it("edits lines, completes, survives Ctrl-C and keeps history", function()
    if not has_tmux then pending("tmux not installed") return end
    start("WICK_HISTORY=" .. shell_quote(hist))
    assert.is_truthy(pane():find("^wick " .. wick.__version__:gsub("%.", "%%.") .. " %(Lua 5%.4%) — tensors"))
    keys("x = 1 + 1", "Enter", "x", "Enter")
    wait_for("> x\n2\n>")
    keys("wick.ze", "Tab")
    wait_for("> wick.zeros")
    keys("Tab")
    wait_for("wick.zeros_like")
    keys("C-u", "while true do end", "Enter")
    wait_for("> while true do end\n")
    os.execute("sleep 0.2")
    keys("C-c")
    wait_for("interrupted!")
    keys("x * 21", "Enter")
    wait_for("> x * 21\n42\n")
    keys("abc")
    wait_for("> abc")
    keys("C-c")
    wait_for("> abc^C\n")
    keys("for i = 1, 2 do", "Enter", "print(i * 10)", "Enter", "end", "Enter")
    wait_for(">> end\n10\n20\n")
    keys("C-d")
    assert.is_true(wait_exit(), "Ctrl-D did not end the REPL")
    -- a new session finds the previous statements with the Up arrow
    start("WICK_HISTORY=" .. shell_quote(hist))
    keys("Up")
    wait_for("> for i = 1, 2 do")
    keys("C-u", "C-d")
    assert.is_true(wait_exit())
  end)

  it("works without a home directory", function()
    if not has_tmux then pending("tmux not installed") return end
    start("-u HOME -u WICK_HISTORY")
    keys("1 + 2", "Enter")
    wait_for("> 1 + 2\n3\n")
    keys("C-d")
    assert.is_true(wait_exit())
  end)
end)
