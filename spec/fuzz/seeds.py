"""Writes the fuzz targets' seed inputs: valid safetensors files, torch.save state dicts and
their bare pickles, so the fuzzers start from files the readers accept.
Usage: /usr/bin/python3 spec/fuzz/seeds.py OUT_DIR   (torch from Debian's python3-torch)"""
import io
import json
import os
import struct
import sys
import zipfile

out = sys.argv[1]
for d in ("safetensors", "torchload", "pickle"):
    os.makedirs(os.path.join(out, d), exist_ok=True)


def safetensors(tensors, metadata=None):
    """The format by hand (no PyPI package needed): u64 header length, JSON header, data."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


seeds = {
    "one": safetensors({"w": ("F32", [2, 3], struct.pack("<6f", *range(6)))}),
    "mixed": safetensors({
        "a": ("F64", [2], struct.pack("<2d", 1.5, -2)),
        "b": ("I64", [], struct.pack("<q", 7)),
        "c": ("BOOL", [3], b"\x00\x01\x02"),
        "d": ("BF16", [1, 2], b"\x80\x3f\x00\x40"),
        "e": ("U8", [0], b""),
    }, {"format": "pt", "epoch": "3"}),
}
for name, blob in seeds.items():
    with open(os.path.join(out, "safetensors", name), "wb") as f:
        f.write(blob)

try:
    import torch
except ImportError:  # the torch seeds are optional: the fuzzers still run from the others
    print("seeds.py: torch not available, no .pth seeds", file=sys.stderr)
    sys.exit(0)

torch.manual_seed(0)
dicts = {
    "linear": torch.nn.Linear(3, 2).state_dict(),
    "bn": torch.nn.BatchNorm2d(2).state_dict(),  # i64 num_batches_tracked, f32 buffers
    "nested": {"model": {"w": torch.arange(6.0).view(2, 3).t()}, "step": torch.tensor(3)},
    "shared": (lambda t: {"a": t, "b": t[1:], "c": torch.zeros(2, dtype=torch.float64)})(torch.ones(4)),
}
for name, sd in dicts.items():
    buf = io.BytesIO()
    torch.save(sd, buf)
    blob = buf.getvalue()
    with open(os.path.join(out, "torchload", name + ".pth"), "wb") as f:
        f.write(blob)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
        with open(os.path.join(out, "pickle", name + ".pkl"), "wb") as f:
            f.write(z.read(pkl))
