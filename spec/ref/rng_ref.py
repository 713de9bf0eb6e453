# Reference values of PyTorch's CPU generator for spec/random_spec.lua, printed as a Lua table.
#   /usr/bin/python3 spec/ref/rng_ref.py > spec/ref/rng_ref.lua   (PyTorch 1.13, x86-64)
#   /usr/bin/python3 spec/ref/rng_ref.py --seed S                (one seed, for the live interop spec)
# Each case seeds a generator, runs its steps in order on it, and records every step's result,
# so the spec replays the same steps in wick and compares step by step.
import sys

import torch

DT = {"f32": torch.float32, "f64": torch.float64, "i64": torch.int64, "i32": torch.int32,
      "u8": torch.uint8, "bool": torch.bool, "f16": torch.float16}

SEEDS = [0, 1, 42, 12345, 2**32 + 7, -1, 2**63 - 1]
FULL_RANDPERM_SEEDS = [0, 42, 2**32 + 7]


def run_step(st, g):
    op = st["op"]
    dt = DT[st.get("dtype", "i64" if op in ("randperm", "randint") else "f32")]
    if op == "randperm":
        return torch.randperm(st["n"], generator=g, dtype=dt)
    if op == "rand":
        return torch.rand(st["size"], generator=g, dtype=dt)
    if op == "randn":
        return torch.randn(st["size"], generator=g, dtype=dt)
    if op == "randint":
        return torch.randint(st["low"], st["high"], st["size"], generator=g, dtype=dt)
    if op == "uniform_":
        return torch.empty(st["size"], dtype=dt).uniform_(st["from"], st["to"], generator=g)
    if op == "normal_":
        return torch.empty(st["size"], dtype=dt).normal_(st["mean"], st["std"], generator=g)
    if op == "bernoulli_":
        return torch.empty(st["size"], dtype=dt).bernoulli_(st["p"], generator=g)
    if op == "bernoulli":
        return torch.bernoulli(torch.tensor(st["probs"], dtype=dt), generator=g)
    if op == "exponential_":
        return torch.empty(st["size"], dtype=dt).exponential_(st["lambd"], generator=g)
    if op == "random_":
        t = torch.empty(st["size"], dtype=dt)
        if "to" in st:
            return t.random_(st.get("from", 0), st["to"], generator=g)
        return t.random_(generator=g)
    if op == "uniform_t":  # a transposed (non-contiguous) destination
        return torch.empty(st["size"], dtype=dt).t().uniform_(generator=g)
    if op == "normal_t":
        return torch.empty(st["size"], dtype=dt).t().normal_(generator=g)
    if op == "normal_tensor":
        return torch.normal(torch.tensor(st["mean"], dtype=dt), st["std"], generator=g)
    if op == "multinomial":
        return torch.multinomial(torch.tensor(st["probs"], dtype=dt), st["n"], st["replacement"], generator=g)
    if op == "state_hash":  # FNV-1a (32 bits) of the state bytes
        h = 2166136261
        for b in g.get_state().tolist():
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
        return h
    raise ValueError(op)


def cases_for(seed, full):
    cases = []
    ns = [0, 1, 2, 10, 100] + ([1000] if full else [])
    for n in ns:
        cases.append({"seed": seed, "steps": [{"op": "randperm", "n": n}]})
    sizes = [1, 5, 16, 17, 100]
    for op in ("rand", "randn"):
        for dt in ("f32", "f64"):
            cases.append({"seed": seed, "steps": [{"op": op, "size": [s], "dtype": dt} for s in sizes]})
    cases.append({"seed": seed, "steps": [
        {"op": "randint", "low": 0, "high": 10, "size": [20]},
        {"op": "randint", "low": -5, "high": 5, "size": [7]},
        {"op": "randint", "low": 0, "high": 2**40, "size": [5]},
        {"op": "randint", "low": 0, "high": 3, "size": [4], "dtype": "i32"},
        {"op": "randint", "low": 0, "high": 7, "size": [2, 3], "dtype": "f32"},
        {"op": "randint", "low": -2**40, "high": 2**40, "size": [3], "dtype": "f64"},
    ]})
    cases.append({"seed": seed, "steps": [
        {"op": "uniform_", "size": [17], "from": -2.0, "to": 3.0},
        {"op": "uniform_", "size": [5], "from": -2.5, "to": 7.25, "dtype": "f64"},
        {"op": "normal_", "size": [20], "mean": 1.5, "std": 0.5},
        {"op": "normal_", "size": [7], "mean": 1.5, "std": 0.5},
        {"op": "normal_", "size": [20], "mean": -1.0, "std": 2.0, "dtype": "f64"},
        {"op": "normal_", "size": [3], "mean": -1.0, "std": 2.0, "dtype": "f64"},
        {"op": "bernoulli_", "size": [20], "p": 0.3},
        {"op": "bernoulli_", "size": [6], "p": 0.7, "dtype": "i64"},
        {"op": "bernoulli", "probs": [0.1, 0.5, 0.9, 0.0, 1.0, 0.25, 0.75, 0.5, 0.5, 0.33]},
        {"op": "bernoulli", "probs": [0.2, 0.4, 0.6, 0.8], "dtype": "f64"},
        {"op": "exponential_", "size": [10], "lambd": 2.0},
        {"op": "random_", "size": [5], "dtype": "i64"},
        {"op": "random_", "size": [5], "to": 100, "dtype": "i32"},
        {"op": "random_", "size": [5], "from": -7, "to": 9, "dtype": "f32"},
        {"op": "random_", "size": [5], "dtype": "f32"},
        {"op": "uniform_t", "size": [3, 4]},
        {"op": "normal_t", "size": [4, 5]},
        {"op": "normal_tensor", "mean": [0.0, 10.0, 100.0], "std": 2.0},
        {"op": "multinomial", "probs": [0.1, 0.2, 0.3, 0.4, 0.0, 1.5], "n": 4, "replacement": False},
        {"op": "multinomial", "probs": [0.1, 0.2, 0.3, 0.4, 0.0, 1.5], "n": 1, "replacement": True},
        {"op": "multinomial", "probs": [[0.1, 0.2, 0.7], [1.0, 1.0, 1.0]], "n": 6, "replacement": True},
        {"op": "multinomial", "probs": [[3.0, 0.5, 0.25], [0.0, 1.0, 2.0]], "n": 5, "replacement": True,
         "dtype": "f64"},
        {"op": "multinomial", "probs": [[3.0, 0.5, 0.25], [0.0, 1.0, 2.0]], "n": 2, "replacement": False,
         "dtype": "f64"},
        {"op": "state_hash"},
    ]})
    return cases


def generator_cases():
    return [
        {"gen": "fresh", "steps": [{"op": "randperm", "n": 10}, {"op": "rand", "size": [5]},
                                   {"op": "randn", "size": [3]}, {"op": "state_hash"}]},
        {"gen_seed": 7, "steps": [{"op": "rand", "size": [17]}, {"op": "randint", "low": 0, "high": 50, "size": [6]},
                                  {"op": "randperm", "n": 20}]},
    ]


def run_case(case):
    if "seed" in case:
        torch.manual_seed(case["seed"])
        g = torch.default_generator
    else:
        g = torch.Generator()
        if "gen_seed" in case:
            g.manual_seed(case["gen_seed"])
    out = []
    for st in case["steps"]:
        r = run_step(st, g)
        if isinstance(r, int):
            out.append({"int": r})
            continue
        fmt = {torch.float32: "%.9g", torch.float16: "%.5g", torch.float64: "%.17g"}.get(r.dtype)
        vals = r.reshape(-1).tolist()
        out.append({"shape": list(r.shape),
                    "values": [fmt % v if fmt else str(int(v)) for v in vals]})
    return out


def lua_value(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s = %s" % (k, lua_value(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "{" + ", ".join(lua_value(x) for x in v) + "}"
    if isinstance(v, str):
        return v if v[0] in "-0123456789" else '"%s"' % v
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        seed = int(sys.argv[2])
        cases = cases_for(seed, True)
    else:
        cases = []
        for s in SEEDS:
            cases += cases_for(s, s in FULL_RANDPERM_SEEDS)
        cases += generator_cases()
    print("-- generated by spec/ref/rng_ref.py (PyTorch %s); do not edit" % torch.__version__)
    print("return {")
    for c in cases:
        c = dict(c)
        c["results"] = run_case(c)
        print("  %s," % lua_value(c))
    print("}")


if __name__ == "__main__":
    main()
