# PyTorch side of spec/torchload_spec.lua: writes .pt files with torch.save (and a few hostile
# or damaged ones) into DIR, and prints the expected contents as a Lua chunk.
# Run: /usr/bin/python3 spec/ref/torchload_ref.py DIR
import collections
import io
import pickle
import random
import sys
import zipfile

import torch

FUZZ = 200
DTYPES = {torch.float32: "f32", torch.float64: "f64", torch.float16: "f16", torch.bfloat16: "bf16",
          torch.int64: "i64", torch.int32: "i32", torch.uint8: "u8", torch.bool: "bool"}


def lua_value(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return repr(x) if x == x else "0/0"
    return repr(x)


def describe(sd):
    out = []
    for k, t in sd.items():
        vals = ", ".join(lua_value(v) for v in t.reshape(-1).tolist())
        shape = ", ".join(str(s) for s in t.shape)
        out.append('{name = %r, dtype = "%s", shape = {%s}, values = {%s}}' % (k, DTYPES[t.dtype], shape, vals))
    return "{" + ",\n".join(out) + "}"


def rezip(src, dst, compression):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


def raw_zip(path, pkl, members=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        for name, data in members:
            z.writestr(name, data)


class Rebuild:
    """Pickles as _rebuild_tensor_v2(storage '0' of 4 floats, offset, size, stride, ...)."""

    def __init__(self, offset, size, stride):
        self.args = (offset, size, stride)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (FakeStorage(),) + self.args + (False, collections.OrderedDict()))


class FakeStorage:
    pass


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, "0", "cpu", 4)
        return None


def crafted(obj):
    f = io.BytesIO()
    Pickler(f, protocol=2).dump(obj)
    return f.getvalue()


def main(d):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Flatten(),
                                torch.nn.Linear(12, 2))
    model(torch.randn(2, 2, 4, 4))  # moves the BatchNorm statistics
    sd = model.state_dict()
    torch.save(sd, f"{d}/model.pt")
    base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    mixed = collections.OrderedDict([
        ("f64", base), ("t", base.t()), ("row", base[1]), ("col", base[:, 2]),  # views of one storage
        ("f16", torch.tensor([0.5, -2.25, 65504.0], dtype=torch.float16)),
        ("bf16", torch.tensor([1.5, -3.0], dtype=torch.bfloat16)),
        ("i64", torch.tensor([-(2 ** 40), 7])), ("i32", torch.tensor([[1, -2]], dtype=torch.int32)),
        ("u8", torch.tensor([0, 255], dtype=torch.uint8)), ("bool", torch.tensor([True, False])),
        ("scalar", torch.tensor(3.5)), ("empty", torch.zeros(0, 3)),
    ])
    torch.save(mixed, f"{d}/mixed.pt", pickle_protocol=4)
    torch.save({"model": sd, "ema": {"w": torch.ones(2)}}, f"{d}/nested.pt")
    rezip(f"{d}/model.pt", f"{d}/deflated.pt", zipfile.ZIP_DEFLATED)
    torch.save({"w": torch.ones(2), "epoch": 3}, f"{d}/notensor.pt")
    torch.save([torch.ones(2)], f"{d}/list.pt")
    raw_zip(f"{d}/evil.pt", b"cos\nsystem\n(S'echo pwned'\ntR.")
    raw_zip(f"{d}/global.pt", b"\x80\x02cbuiltins\nset\n)R.")
    raw_zip(f"{d}/opcode.pt", b"\x80\x02}(X\x01\x00\x00\x00aI1\ns.")
    raw_zip(f"{d}/oob.pt", crafted({"w": Rebuild(2, (3,), (1,))}), [("archive/data/0", b"\0" * 16)])
    raw_zip(f"{d}/short.pt", crafted({"w": Rebuild(0, (2,), (1,))}), [("archive/data/0", b"\0" * 12)])
    raw_zip(f"{d}/nostorage.pt", crafted({"w": Rebuild(0, (2,), (1,))}))
    raw_zip(f"{d}/trunc_pickle.pt", crafted({"w": Rebuild(0, (2,), (1,))})[:-7], [("archive/data/0", b"\0" * 16)])
    with open(f"{d}/model.pt", "rb") as f:
        data = f.read()
    with open(f"{d}/truncated.pt", "wb") as f:
        f.write(data[: len(data) // 2])
    bad_crc = bytearray(data)
    bad_crc[64 + 40] ^= 0xFF  # inside data.pkl's bytes (its local header is padded to 64 bytes)
    with open(f"{d}/crc.pt", "wb") as f:
        f.write(bytes(bad_crc))
    # mutated pickles in valid zips (the CRC would catch a damaged member): load or refuse, never crash
    rng = random.Random(0)
    with zipfile.ZipFile(f"{d}/model.pt") as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    pkl_name, pkl = members[0]
    for i in range(FUZZ):
        b = bytearray(pkl)
        if i % 4 == 0:
            b = b[: rng.randrange(len(b))]
        else:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        with zipfile.ZipFile(f"{d}/fuzz_{i}.pt", "w") as z:
            z.writestr(pkl_name, bytes(b))
            for name, data in members[1:]:
                z.writestr(name, data)
    print("return {model = %s,\nmixed = %s,\nnested = %s}" % (
        describe(sd), describe(mixed),
        describe(collections.OrderedDict([("model." + k, v) for k, v in sd.items()] + [("ema.w", torch.ones(2))]))))


if __name__ == "__main__":
    main(sys.argv[1])
