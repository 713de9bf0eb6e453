-- nn.DistributedDataParallel: equivalence with one process on the whole batch (plain, no_sync,
-- frozen layers, unused parameters), identical replicas after construction, overlap of the
-- bucket all-reduces with backward, and the errors, with 2, 3 and 4 real ranks (`wick run -n N`
-- of spec/dist/ddp_worker.lua) over shared memory and over Gloo (WICK_DIST_SHM=0); state dicts
-- and options in this process, at world size 1.
local helper = require("spec.support.wick_run")
local nn, dist = wick.nn, wick.dist

local WORKER = helper.root .. "/spec/dist/ddp_worker.lua"

describe("nn.DistributedDataParallel", function()
  for _, case in ipairs({ { 2, "shm" }, { 3, "shm" }, { 4, "shm" }, { 2, "gloo" }, { 3, "gloo" }, { 4, "gloo" } }) do
    local n, backend = case[1], case[2]
    describe("with " .. n .. " ranks over " .. backend, function()
      local r
      local function out()
        if backend == "gloo" and not dist.is_gloo_available() then return nil end
        r = r or helper.run({ "run", "-n", tostring(n), WORKER },
          { env = { WICK_SPEC_TRANSPORT = backend, WICK_DIST_SHM = backend == "shm" and "1" or "0" } })
        assert.are.equal(0, r.code, r.err .. r.out)
        return r.out
      end
      local function ranks_ok(name)
        local o = out()
        if not o then return pending("wick was built without Gloo") end
        for k = 0, n - 1 do assert.matches("[" .. k .. "] " .. name .. " ok\n", o, 1, true) end
      end

      it("gives the parameters of one process with the whole batch (k SGD steps, 1e-5)", function()
        ranks_ok("equivalence")
      end)
      it("reduces the sum of micro-batches accumulated under no_sync", function() ranks_ok("no_sync") end)
      it("never sends frozen parameters, which stay bit-identical", function() ranks_ok("frozen") end)
      it("handles a parameter unused in forward with find_unused_parameters", function() ranks_ok("unused") end)
      it("averages a parameter used only in no_sync micro-batches (find_unused_parameters)", function()
        ranks_ok("unused_in_sync")
      end)
      it("leaves differently seeded ranks identical after construction (parameters and buffers)", function()
        ranks_ok("seeded")
      end)
      it("launches the first bucket's all-reduce before backward has finished", function() ranks_ok("overlap") end)
      it("broadcasts rank 0's buffers before each forward (broadcast_buffers)", function() ranks_ok("buffers") end)
      it("reduces within a process_group, and refuses a rank outside it", function() ranks_ok("subgroup") end)
      it("raises PyTorch's error at the next forward when a parameter got no gradient", function()
        ranks_ok("unused_error")
      end)
      it("raises on every rank, naming the rank and parameter, when the models differ", function()
        local o = out()
        if not o then return pending("wick was built without Gloo") end
        local last = n - 1
        for k = 0, last do
          assert.matches(("[%d] mismatch false DistributedDataParallel: DDP expects same model across all ranks, "
            .. "but rank %d's parameter 0 ('0.weight') has shape [5, 3] (f32), while rank 0's ('0.weight') "
            .. "has shape [4, 3] (f32).\n"):format(k, last), o, 1, true)
          assert.matches(("[%d] mismatch_count false DistributedDataParallel: DDP expects same model across "
            .. "all ranks, but rank %d has 4 params, while rank 0 has inconsistent 2 params.\n"):format(k, last), o, 1, true)
        end
      end)
    end)
  end

  it("needs an initialized process group", function()
    if dist.is_initialized() then return pending("a process group is already initialized") end
    local ok, err = pcall(nn.DDP, nn.Linear(2, 2))
    assert.is_false(ok)
    assert.are.equal("DistributedDataParallel: Default process group has not been initialized, please make sure "
      .. "to call init_process_group.", err)
  end)

  describe("at world size 1", function()
    local own
    before_each(function()
      own = not dist.is_initialized()
      if own then dist.init_process_group() end
    end)
    after_each(function() if own then dist.destroy_process_group() end end)

    local function model()
      wick.manual_seed(0)
      return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    end

    it("is nn.DDP, wraps ddp.module and keeps its keys without a module. prefix", function()
      assert.are.equal(nn.DistributedDataParallel, nn.DDP)
      local m = model()
      local ddp = nn.DDP(m)
      assert.are.equal(m, ddp.module)
      assert.are.same(m:state_dict():keys(), ddp:state_dict():keys())
      assert.are.equal("0.weight", ddp:state_dict():keys()[1])
      local names = {}
      for name in ddp:named_parameters() do names[#names + 1] = name end
      assert.are.same({ "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias" }, names)
      assert.are.equal(6, #ddp:parameters())
    end)

    it("loads state dicts with and without the module. prefix", function()
      local ddp = nn.DDP(model())
      local sd, prefixed = {}, {}
      for k, v in pairs(ddp:state_dict()) do
        sd[k] = wick.full(v:size(), 2, { dtype = v.dtype })
        prefixed["module." .. k] = wick.full(v:size(), 3, { dtype = v.dtype })
      end
      ddp:load_state_dict(sd)
      assert.are.equal(2, ddp.module[0].weight[0][0]:item())
      ddp:load_state_dict(prefixed)
      assert.are.equal(3, ddp.module[2].bias[0]:item())
    end)

    it("trains like the bare module, with no process group traffic", function()
      local m, ref = model(), model()
      local ddp = nn.DDP(m)
      local x = wick.randn({ 5, 3 })
      ddp(x):sum():backward()
      ref(x):sum():backward()
      for i, p in ipairs(m:parameters()) do assert.is_true(wick.equal(p.grad, ref:parameters()[i].grad)) end
      local st = ddp:comm_stats()
      assert.are.equal(0, st.bytes_sent)
      assert.are.equal(1, st.iterations)
    end)

    it("passes train/eval through to the module", function()
      local ddp = nn.DDP(model())
      ddp:eval()
      assert.is_false(ddp.module[1].training)
      ddp:train()
      assert.is_true(ddp.module[1].training)
    end)

    it("puts parameters in buckets in reverse order, the first one of 1 MiB by default", function()
      local m = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512), nn.Linear(512, 512))
      local b = nn.DDP(m):buckets()
      -- the first bucket closes at 1 MiB (2.bias, 2.weight: 1,050,624 bytes), the next at 25 MiB
      assert.are.same({ "2.bias", "2.weight" }, b[1].names)
      assert.are.same({ "1.bias", "1.weight", "0.bias", "0.weight" }, b[2].names)
      assert.are.same({ 1050624, 2101248 }, { b[1].bytes, b[2].bytes })
      -- an explicit cap: the first bucket still closes at 1 MiB (PyTorch 1.13), the next at the cap
      local b2 = nn.DDP(nn.Sequential(nn.Linear(256, 256), nn.Linear(256, 1024), nn.Linear(1024, 256)),
        { bucket_cap_mb = 0.25 }):buckets()
      assert.are.same({ { "2.bias", "2.weight" }, { "1.bias", "1.weight" }, { "0.bias", "0.weight" } },
        { b2[1].names, b2[2].names, b2[3].names })
    end)

    it("buckets parameters as PyTorch 1.13 (live comparison with python3-torch)", function()
      local py = os.getenv("WICK_TORCH_PYTHON") or "/usr/bin/python3"
      if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") ~= true then
        return pending("python3-torch not installed")
      end
      local p = io.popen(("%s %s/spec/ref/ddp_buckets_ref.py 2>&1"):format(py, helper.root))
      local src = p:read("a")
      p:close()
      local cases = assert(load(src, "ddp_buckets_ref"), src)()
      local function linears(n, size, dtype_of)
        local layers = {}
        for i = 0, n - 1 do layers[#layers + 1] = nn.Linear(size, size, { dtype = dtype_of and dtype_of(i) }) end
        return nn.Sequential(table.unpack(layers))
      end
      local frozen = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512), nn.Linear(512, 512))
      frozen[1]:requires_grad_(false)
      local models = {
        linears(8, 1024), linears(8, 1024),
        linears(6, 600, function(i) return i % 2 == 1 and "f64" or "f32" end),
        nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)),
        frozen,
      }
      assert.are.equal(#models, #cases, src)
      for i, c in ipairs(cases) do
        local got = {}
        for _, b in ipairs(nn.DDP(models[i], { bucket_cap_mb = c.cap }):buckets()) do got[#got + 1] = b.names end
        assert.are.same(c.buckets, got, c.name)
      end
    end)

    it("rejects bad options and modules without trainable parameters", function()
      local ok, err = pcall(nn.DDP, model(), { bucket_cap_mbs = 1 })
      assert.are.equal("DistributedDataParallel: unknown option 'bucket_cap_mbs' (did you mean 'bucket_cap_mb'?)", err)
      local m = model()
      m:requires_grad_(false)
      ok, err = pcall(nn.DDP, m)
      assert.is_false(ok)
      assert.are.equal("DistributedDataParallel is not needed when a module doesn't have any parameter that "
        .. "requires a gradient.", err)
      ok, err = pcall(nn.DDP, model(), { bucket_cap_mb = 0 })
      assert.are.equal("DistributedDataParallel: bucket_cap_mb must be a positive number (got 0)", err)
      ok, err = pcall(function() nn.DDP(model()):double() end)
      assert.are.equal("DistributedDataParallel: move or cast the module before wrapping it (ddp:double is not supported)", err)
      ok, err = pcall(nn.DDP, "net")
      assert.are.equal("DistributedDataParallel: expected an nn.Module (got string)", err)
    end)

    it("takes PyTorch's device_ids/output_device, and is nn.parallel.DistributedDataParallel", function()
      assert.are.equal(nn.DDP, nn.parallel.DistributedDataParallel)
      assert.are.equal(nn.DataParallel, nn.parallel.DataParallel)
      -- a CPU module: PyTorch's rule (device_ids only for a module on one CUDA device)
      local ok, err = pcall(nn.parallel.DistributedDataParallel, model(), { device_ids = { 0 } })
      assert.is_false(ok)
      assert.are.equal("DistributedDataParallel: device_ids and output_device only work with a module on one "
        .. "CUDA device, but got device_ids {0}, output_device nil and module parameters on cpu (leave them out "
        .. "for a CPU module)", err)
      ok, err = pcall(nn.DDP, model(), { output_device = "cuda:1" })
      assert.are.equal("DistributedDataParallel: device_ids and output_device only work with a module on one "
        .. "CUDA device, but got device_ids nil, output_device cuda:1 and module parameters on cpu (leave them "
        .. "out for a CPU module)", err)
      -- nil (a CPU module's value in PyTorch) is accepted
      local ddp = nn.DDP(model(), { device_ids = nil, output_device = nil })
      assert.are.same({ 5, 2 }, ddp(wick.randn(5, 3)).shape)
    end)

    it("does not reduce under no_sync and raises when a forward had no backward", function()
      local m = model()
      local ddp = nn.DDP(m)
      local x = wick.randn({ 5, 3 })
      ddp:no_sync(function() ddp(x):sum():backward() end)
      assert.are.equal(0, ddp:comm_stats().iterations)
      ddp(x)
      local ok, err = pcall(ddp, x)
      assert.is_false(ok)
      assert.matches("^DistributedDataParallel: Expected to have finished reduction in the prior iteration", err)
      assert.matches("Parameter indices which did not receive grad for rank 0: 0 1 2 3 4 5%.", err)
    end)
  end)
end)
