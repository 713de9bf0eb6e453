# Launcher start-up to the first completed collective with 2 ranks: `wick run -n 2 first.lua`
# vs `python3 -m torch.distributed.run --standalone --nproc_per_node 2 first_torch.py` (torchrun; 1.13 spells it with _).
# The time is from just before starting the launcher to the last rank's end of its first
# all_reduce (both print CLOCK_MONOTONIC, the clock of time.monotonic here). Median of R runs.
# usage: /usr/bin/python3 bench/dist/startup.py path/to/wick [runs = 5]
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))


def once(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=os.environ.get("TMPDIR", "/tmp"))
    t_exit = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    firsts = [float(l.split()[-1]) for l in p.stdout.splitlines() if "first " in l]
    if len(firsts) != 2:
        sys.exit(f"expected 2 'first' lines from {' '.join(cmd)}:\n{p.stdout}")
    return max(firsts) - t0, t_exit


def main():
    wick = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    cmds = {
        "wick run -n 2": [wick, "run", "-n", "2", os.path.join(here, "first.lua")],
        # --redirects/--tee 1: torch 1.13's default ("0") breaks on Python 3.12 (Std.from_str
        # gives None for 0 as IntFlag iteration skips it); 1 sends stdout to a log and the console
        "torchrun --nproc-per-node 2": ["/usr/bin/python3", "-m", "torch.distributed.run", "--standalone",
                                        "--nproc_per_node", "2", "--redirects", "1", "--tee", "1",
                                        os.path.join(here, "first_torch.py")],
    }
    res = {}
    for name, cmd in cmds.items():
        once(cmd)  # warm the page cache
        times = [once(cmd) for _ in range(runs)]
        res[name] = (statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
        print(f"{name:30s} first collective {res[name][0] * 1000:8.1f} ms   exit {res[name][1] * 1000:8.1f} ms"
              f"   (median of {runs})", flush=True)
    w, t = res["wick run -n 2"][0], res["torchrun --nproc-per-node 2"][0]
    print(f"start-up ratio wick/torchrun: {w / t:.3f} (target <= 0.1)")


main()
