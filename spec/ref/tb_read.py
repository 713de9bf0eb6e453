#!/usr/bin/env python3
"""The real peer of wick.tb: reads event files with TensorBoard's own reader and prints what it
read as a Lua table literal (spec/tb/*_spec.lua compare it with what they wrote).

  tb_read.py read <logdir>       every run under logdir (EventAccumulator, purge on): scalars,
                                 histograms, images (decoded with PIL), tensors, plugin contents
  tb_read.py records <file>      TensorBoard's record reader on one file: records read, first event
  tb_read.py torch_pr <labels> <predictions> <num_thresholds> [weights]
                                 torch.utils.tensorboard's pr_curve tensor for the same inputs
  tb_read.py serve <logdir>      the TensorBoard server itself (--load_fast=true: the Rust data
                                 server), asked over HTTP what it shows
  tb_read.py batch read:<dir> records:<file> ...   several of the above in one run
  tb_read.py torch_hist <dir> <values> <bins> [max_bins]
                                 torch.utils.tensorboard's add_histogram of the comma-separated
                                 values (bins "tensorflow", an integer or comma-separated edges),
                                 then read back like `read` (needs /usr/bin/python3 with torch)
Needs the tensorboard package on sys.path (PYTHONPATH=build/pydeps-tb)."""
import math
import os
import sys

import numpy  # noqa: F401  the system numpy first: torch 1.13 is built against it


def lua(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "0/0"
        if math.isinf(v):
            return "math.huge" if v > 0 else "-math.huge"
        return repr(v)
    if isinstance(v, bytes):
        return lua(v.decode("latin-1"))
    if isinstance(v, str):
        return "'" + "".join(c if 32 <= ord(c) < 127 and c not in "'\\" else "\\u{%x}" % ord(c) for c in v) + "'"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua(k), lua(x)) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def text(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def read_run(path):
    from tensorboard.backend.event_processing import event_accumulator as ea
    from google.protobuf import json_format
    acc = ea.EventAccumulator(path, size_guidance={k: 0 for k in
                              [ea.SCALARS, ea.HISTOGRAMS, ea.IMAGES, ea.TENSORS, ea.COMPRESSED_HISTOGRAMS, ea.AUDIO]})
    acc.Reload()
    tags = acc.Tags()
    out = {"scalars": {}, "histograms": {}, "images": {}, "tensors": {}, "plugins": {}}
    for t in tags["scalars"]:
        out["scalars"][t] = [{"step": e.step, "value": e.value, "wall_time": e.wall_time} for e in acc.Scalars(t)]
    for t in tags["histograms"]:
        out["histograms"][t] = [{"step": e.step, "min": e.histogram_value.min, "max": e.histogram_value.max,
                                 "num": e.histogram_value.num, "sum": e.histogram_value.sum,
                                 "sum_squares": e.histogram_value.sum_squares,
                                 "limits": list(e.histogram_value.bucket_limit),
                                 "counts": list(e.histogram_value.bucket)} for e in acc.Histograms(t)]
    for t in tags["images"]:
        rows = []
        for e in acc.Images(t):
            import io
            from PIL import Image
            im = Image.open(io.BytesIO(e.encoded_image_string))
            im.load()
            row = {"step": e.step, "width": e.width, "height": e.height, "mode": im.mode,
                   "size": list(im.size)}
            if im.size[0] * im.size[1] <= 64:
                row["pixels"] = [list(p) if isinstance(p, tuple) else p for p in im.getdata()]
            rows.append(row)
        out["images"][t] = rows
    from tensorboard.util import tensor_util
    for t in tags["tensors"]:
        rows = []
        for e in acc.Tensors(t):
            arr = tensor_util.make_ndarray(e.tensor_proto)
            vals = [text(x) if isinstance(x, bytes) else float(x) for x in arr.reshape(-1).tolist()]
            rows.append({"step": e.step, "dtype": e.tensor_proto.dtype, "shape": list(arr.shape), "values": vals})
        out["tensors"][t] = rows
        md = acc.SummaryMetadata(t)
        out["plugins"][t] = {"plugin": md.plugin_data.plugin_name, "data_class": md.data_class}
    # plugin contents, decoded where we know the proto
    try:
        hp = acc.PluginTagToContent("hparams")
    except KeyError:
        hp = {}
    if hp:
        from tensorboard.plugins.hparams import plugin_data_pb2
        out["hparams"] = {}
        for tag, content in hp.items():
            m = plugin_data_pb2.HParamsPluginData.FromString(content)
            out["hparams"][tag] = json_format.MessageToDict(m, preserving_proto_field_name=True)
    for name, mod, cls in [("pr_curves", "tensorboard.plugins.pr_curve.plugin_data_pb2", "PrCurvePluginData"),
                           ("mesh", "tensorboard.plugins.mesh.plugin_data_pb2", "MeshPluginData"),
                           ("custom_scalars", None, None)]:
        try:
            c = acc.PluginTagToContent(name)
        except KeyError:
            continue
        if not c:
            continue
        out[name] = {}
        for tag, content in c.items():
            if mod:
                import importlib
                m = getattr(importlib.import_module(mod), cls).FromString(content)
                out[name][tag] = json_format.MessageToDict(m, preserving_proto_field_name=True)
            else:
                out[name][tag] = {}
    if "custom_scalars__config__" in out["tensors"]:
        from tensorboard.plugins.custom_scalar import layout_pb2
        raw = acc.Tensors("custom_scalars__config__")[-1].tensor_proto.string_val[0]
        layout = layout_pb2.Layout.FromString(raw)
        out["layout"] = json_format.MessageToDict(layout, preserving_proto_field_name=True)
        for row in out["tensors"]["custom_scalars__config__"]:
            row["values"] = ["<layout>"]
    if tags.get("graph"):
        g = acc.Graph()
        out["graph"] = {"versions": g.versions.producer, "nodes": [
            {"name": n.name, "op": n.op, "input": list(n.input),
             "shapes": [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]}
            for n in g.node]}
    pbtxt = os.path.join(path, "projector_config.pbtxt")
    if os.path.exists(pbtxt):
        from google.protobuf import text_format
        from tensorboard.plugins.projector import projector_config_pb2
        cfg = text_format.Parse(open(pbtxt).read(), projector_config_pb2.ProjectorConfig())
        out["projector"] = []
        for e in cfg.embeddings:
            row = json_format.MessageToDict(e, preserving_proto_field_name=True)
            import numpy as np
            mat = np.loadtxt(os.path.join(path, e.tensor_path), delimiter="\t", ndmin=2, dtype=np.float32)
            row["shape"] = list(mat.shape)
            row["values"] = [float(x) for x in mat.reshape(-1)]
            if e.metadata_path:
                row["metadata"] = open(os.path.join(path, e.metadata_path), encoding="utf-8").read().split("\n")
            if e.sprite.image_path:
                from PIL import Image
                im = Image.open(os.path.join(path, e.sprite.image_path))
                im.load()
                row["sprite_size"] = list(im.size)
                row["sprite_pixels"] = [list(p) for p in im.getdata()] if im.size[0] * im.size[1] <= 64 else None
            out["projector"].append(row)
    return out


def read(logdir):
    runs = {}
    for d, _, files in sorted(os.walk(logdir)):
        if any("tfevents" in f for f in files):
            rel = os.path.relpath(d, logdir)
            runs[rel] = read_run(d)
    return runs


def records(path):
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.compat.proto import event_pb2
    n, first, steps = 0, None, []
    for rec in event_file_loader.RawEventFileLoader(path).Load():
        ev = event_pb2.Event.FromString(rec)
        if first is None:
            first = {"file_version": ev.file_version, "writer": ev.source_metadata.writer, "wall_time": ev.wall_time}
        steps.append(ev.step)
        n += 1
    return {"count": n, "first": first, "steps": steps}


def torch_hist(d, *cases):
    """Each case "values;bins;max_bins" becomes tag h<i> at step 1 (values and edges
    comma-separated; bins "tensorflow", an integer or edges; max_bins may be empty)."""
    sys.modules.pop("tensorboard", None)
    import numpy as np
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard import summary as ts
    try:
        np.greater(np.array([1]), 0, dtype=np.int32)
    except TypeError:
        # torch 1.13's make_histogram calls np.greater(counts, 0, dtype=np.int32), which newer
        # numpy refuses; same result with the cast after the comparison. Nothing else changes.
        class _np:
            def __getattr__(self, k):
                return getattr(np, k)

            @staticmethod
            def greater(a, b, dtype=None):
                return np.greater(a, b).astype(dtype)
        ts.np = _np()
    w = SummaryWriter(d)
    for i, case in enumerate(cases):
        values, bins, max_bins = case.split(";")
        vals = np.array([float(x) for x in values.split(",")], dtype=np.float64)
        if bins != "tensorflow":
            bins = int(bins) if "," not in bins else np.array([float(x) for x in bins.split(",")])
        w.add_histogram("h%d" % i, vals, 1, bins=bins, max_bins=int(max_bins) if max_bins else None)
    w.close()
    return read(d)


def torch_pr(labels, predictions, num_thresholds, weights=""):
    """torch.utils.tensorboard's pr_curve data for comma-separated labels and predictions."""
    sys.modules.pop("tensorboard", None)
    import numpy as np
    from torch.utils.tensorboard import summary as ts
    lab = np.array([float(x) for x in labels.split(",")], dtype=np.float32)
    pred = np.array([float(x) for x in predictions.split(",")], dtype=np.float32)
    w = np.array([float(x) for x in weights.split(",")], dtype=np.float32) if weights else None
    s = ts.pr_curve("pr", lab, pred, int(num_thresholds), w)
    v = s.value[0]
    return {"shape": [d.size for d in v.tensor.tensor_shape.dim], "values": list(v.tensor.float_val)}


def serve(logdir):
    """Runs the real TensorBoard server (Rust data server: --load_fast=true) on logdir and
    returns what its HTTP API answers."""
    import json
    import re
    import subprocess
    import time
    import urllib.request
    p = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--port", "0",
                          "--host", "127.0.0.1", "--load_fast=true"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url, log = None, []
        deadline = time.time() + 60
        while url is None and time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            log.append(line)
            m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
        if url is None:
            raise RuntimeError("tensorboard did not start:\n" + "".join(log))

        def get(path, body=None):
            req = urllib.request.Request(url + path, data=body and json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read().decode())
        # the data server loads in the background: wait until the answers stop changing
        prev = None
        while time.time() < deadline:
            cur = [get("data/runs"), get("data/plugin/scalars/tags"), get("data/plugin/histograms/tags")]
            if cur == prev and cur[0]:
                break
            prev = cur
            time.sleep(1.0)
        out = {"runs": cur[0], "scalars": {}, "histograms": {}}
        for run, tags in cur[1].items():
            for tag in tags:
                q = urllib.parse.urlencode({"run": run, "tag": tag})
                out["scalars"][run + "|" + tag] = get("data/plugin/scalars/scalars?" + q)
        for run, tags in cur[2].items():
            for tag in tags:
                q = urllib.parse.urlencode({"run": run, "tag": tag})
                out["histograms"][run + "|" + tag] = get("data/plugin/histograms/histograms?" + q)
        for plugin in ["images", "text", "pr_curves", "mesh"]:
            out[plugin] = get("data/plugin/%s/tags" % plugin)
        out["graph_runs"] = sorted(get("data/plugin/graphs/info").keys())
        sg = get("data/plugin/hparams/session_groups", {
            "experimentName": "", "allowedStatuses": ["STATUS_SUCCESS", "STATUS_UNKNOWN", "STATUS_RUNNING",
                                                      "STATUS_FAILURE"], "colParams": [], "startIndex": 0,
            "sliceSize": 100})
        out["session_groups"] = [{"name": g["name"], "hparams": g["hparams"],
                                  "metrics": {m["name"]["tag"]: m["value"] for m in g["metricValues"]}}
                                 for g in sg.get("sessionGroups", [])]
        return out
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    mode = sys.argv[1]
    if mode == "read":
        print("return " + lua(read(sys.argv[2])))
    elif mode == "records":
        print("return " + lua(records(sys.argv[2])))
    elif mode == "batch":  # batch read:<dir> records:<file> ...: one interpreter start for many
        out = {}
        for a in sys.argv[2:]:
            kind, path = a.split(":", 1)
            out[a] = read(path) if kind == "read" else records(path)
        print("return " + lua(out))
    elif mode == "serve":
        import urllib.parse  # noqa: F401
        print("return " + lua(serve(sys.argv[2])))
    elif mode == "torch_pr":
        print("return " + lua(torch_pr(*sys.argv[2:])))
    elif mode == "torch_hist":
        print("return " + lua(torch_hist(*sys.argv[2:])))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
