-- SummaryWriter:add_hparams: the hparams plugin's experiment, session start and session end
-- summaries (tensorboard/plugins/hparams/plugin_data.proto, api.proto), written like PyTorch.
local core = require("wick.core")
local check = require("wick.tb.check")

local tb = core._tb
local DT_STRING, DT_BOOL, DT_FLOAT64 = 1, 2, 3 -- HParamInfo.type

-- google.protobuf.Value: number_value = 2, string_value = 3, bool_value = 4 (a oneof: a false
-- or 0 member is still written)
local function pb_value(op, k, v)
  if type(v) == "boolean" then return { 4, "int", v }, DT_BOOL end
  if type(v) == "string" then return { 3, "bytes", check.tag(op, v, "value of '" .. k .. "'") }, DT_STRING end
  if type(v) == "number" or core.is_tensor(v) then return { 2, "double", check.number(op, v, k) }, DT_FLOAT64 end
  error(("%s: hparam '%s' must be a number, string, boolean or tensor (got %s)"):format(op, k, type(v)), 0)
end

local function summary(tag, data_field, msg)
  -- HParamsPluginData{version = 0 (omitted), <data_field> = msg}
  local content = tb.encode({ { data_field, "msg", msg } })
  return tb.tensor(tag, nil, "hparams", content)
end

return function(SummaryWriter)
  -- add_hparams(hparam_dict, metric_dict, {hparam_domain_discrete, run_name, global_step}):
  -- a sub-run <log_dir>/<run_name or time> with the three hparams summaries and one scalar per
  -- metric, as torch.utils.tensorboard does.
  function SummaryWriter:add_hparams(hparam_dict, metric_dict, opts)
    local op = "add_hparams"
    opts = check.options(op, opts, { "hparam_domain_discrete", "run_name", "global_step" })
    local hkeys = check.sorted_keys(op, hparam_dict, "hparam_dict")
    local mkeys = check.sorted_keys(op, metric_dict, "metric_dict")
    local step = check.step(op, opts.global_step)
    local domains = opts.hparam_domain_discrete or {}
    if type(domains) ~= "table" then error(op .. ": hparam_domain_discrete must be a table (got " .. type(domains) .. ")", 0) end
    local infos, start = {}, {}
    for _, k in ipairs(hkeys) do
      local value, dtype = pb_value(op, k, hparam_dict[k])
      start[#start + 1] = { 1, "msg", { { 1, "bytes", k }, { 2, "msg", { value } } } } -- map entry
      local info = { { 1, "bytes", k }, { 4, "int", dtype } }
      local dom = domains[k]
      if dom ~= nil then
        if type(dom) ~= "table" or #dom == 0 then
          error(("%s: hparam_domain_discrete['%s'] must be a non-empty list"):format(op, k), 0)
        end
        local list = {}
        for i, d in ipairs(dom) do
          local dv, dt = pb_value(op, k, d)
          if dt ~= dtype then
            error(("%s: hparam_domain_discrete['%s'][%d] has another type than hparam_dict['%s']"):format(op, k, i, k), 0)
          end
          list[i] = { 1, "msg", { dv } }
        end
        info[#info + 1] = { 5, "msg", list }
      end
      infos[#infos + 1] = { 4, "msg", info }
    end
    local metrics = {}
    for i, k in ipairs(mkeys) do
      check.number(op, metric_dict[k], "metric_dict['" .. k .. "']")
      infos[#infos + 1] = { 5, "msg", { { 1, "msg", { { 2, "bytes", k } } } } } -- MetricInfo{name{tag}}
      metrics[i] = k
    end
    local run = opts.run_name
    if run == nil or run == "" then run = string.format("%.7f", tb.now()) end
    if type(run) ~= "string" then error(op .. ": run_name must be a string (got " .. type(run) .. ")", 0) end
    local exp = summary("_hparams_/experiment", 2, infos)
    local ssi = summary("_hparams_/session_start_info", 3, start)
    local sei = summary("_hparams_/session_end_info", 4, { { 1, "int", 1 } }) -- STATUS_SUCCESS
    if not self._active then return end
    local w = SummaryWriter(self.log_dir .. "/" .. run, { max_queue = self.max_queue, flush_secs = self.flush_secs,
                                                         filename_suffix = self.filename_suffix })
    local wt = tb.now()
    w:_write(exp, step, wt)
    w:_write(ssi, step, wt)
    w:_write(sei, step, wt)
    for _, k in ipairs(metrics) do w:add_scalar(k, metric_dict[k], step) end
    w:close()
  end
end
