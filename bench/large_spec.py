"""First load of generated JSON specs of several sizes: wall, CPU and peak memory, and how they grow.

    python -m bench.large_spec [--counts 2500 5000 10000 20000] [--rounds 1] [--pythonpath CHECKOUT ...]

Each load runs in a fresh process with an empty cache folder (parse, bundle, check, compile:
``load_api``), so the figure is what a user's first ``Client(spec=...)`` costs. ``peak_MB`` is
the process's own high-water mark (``VmHWM``: imports included), ``load_MB`` what the load
added to the resident size the imports had left; CPU is the process's user and system time for
the load (on a shared machine the wall time also holds other processes' turns). At each size
the cost per 1,000 operations is given on average and at the margin (from the size before): a
load linear in the spec's size has a margin that does not grow (the average falls, as the fixed
cost of the imports it makes and the bundled spec spreads). ``--pythonpath``
(repeatable) says which odm_dyn checkout is measured, so two can be measured side by side in
one run (interleaved, round by round).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import specgen

COUNTS = (2500, 5000, 10000, 20000)
QUICK_COUNTS = (500, 1000, 2000)

_CHILD = """
import json, resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
def status(field):  # this process's own figures: ru_maxrss would carry the spawning parent's peak
    with open("/proc/self/status") as lines:
        return [int(line.split()[1]) * 1024 for line in lines if line.startswith(field + ":")][0]
from odm_dyn.api.load import load_api
resident = status("VmRSS")
started, cpu_started = time.perf_counter(), cpu()
api = load_api(sys.argv[1])
seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
peak = status("VmHWM")
print(json.dumps({"wall_s": round(seconds, 3), "cpu_s": round(cpu_seconds, 3), "peak_MB": round(peak / 2**20, 1),
                  "load_MB": round((peak - resident) / 2**20, 1), "operations": len(api.plans)}))
"""


_WHICH = """
import odm_dyn, os
where = os.path.realpath(odm_dyn.__file__)
assert where.startswith(os.path.realpath(os.environ["PYTHONPATH"] or "/")), where
"""


def measure(spec: Path, python: str, pythonpath: str | None) -> dict[str, Any]:
    """One first load of ``spec`` in a fresh process (its own empty cache folder)."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    with tempfile.TemporaryDirectory(prefix="odm-dyn-large-") as cache:
        env["ODM_DYN_CACHE_DIR"] = cache
        done = subprocess.run(  # run from the spec's folder: a checkout in the current one would come first
            [python, "-c", _CHILD + _WHICH, str(spec)],
            env=env,
            cwd=spec.parent,
            capture_output=True,
            text=True,
            timeout=900,
        )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout)


def figures(
    counts: tuple[int, ...] = COUNTS, rounds: int = 1, pythonpath: str | None = None, scratch: Path | None = None
) -> dict[str, Any]:
    """``make bench``'s figure: the first load at each size (medians of ``rounds``), with seconds
    and MB per 1,000 operations, and the growth from the smallest to the largest size."""
    with tempfile.TemporaryDirectory(prefix="odm-dyn-specs-") as own:
        folder = scratch or Path(own)
        specs = {count: specgen.generate(count, folder / f"generated-{count}.json") for count in counts}
        runs: dict[int, list[dict[str, Any]]] = {count: [] for count in counts}
        for _ in range(rounds):  # interleaved: a slow moment of the machine spreads over the sizes
            for count, spec in specs.items():
                runs[count].append(measure(spec, sys.executable, pythonpath))
        sizes = {str(count): _median(runs[count], specs[count]) for count in counts}
    return {"sizes": sizes, "growth": _growth(sizes)}


def _median(runs: list[dict[str, Any]], spec: Path) -> dict[str, Any]:
    ok = sorted((run for run in runs if "error" not in run), key=lambda run: run["wall_s"])
    if not ok:
        return runs[0]
    chosen = dict(ok[len(ok) // 2])
    thousands = chosen["operations"] / 1000
    chosen.update(
        spec_MB=round(spec.stat().st_size / 2**20, 1),
        wall_s_per_1000=round(chosen["wall_s"] / thousands, 3),
        cpu_s_per_1000=round(chosen["cpu_s"] / thousands, 3),
        load_MB_per_1000=round(chosen["load_MB"] / thousands, 2),
        rounds=len(ok),
    )
    return chosen


def _growth(sizes: dict[str, dict[str, Any]]) -> dict[str, float] | None:
    """The marginal CPU and memory per operation between the two largest sizes over that from the
    smallest to the largest but one (1.0: linear; more: an operation costs more in a larger spec).

    Each row also gets its margin from the size before, for the table. The growth compares wide
    spans: a margin is a difference of two measurements, and over the smallest step (2,500
    operations, about half a second) one slow moment of a shared machine doubled or halved it.
    """
    ok = [row for row in sizes.values() if "error" not in row]
    for before, row in zip(ok, ok[1:]):
        row["cpu_s_margin_per_1000"] = round(_margin(before, row, "cpu_s"), 3)
        row["load_MB_margin_per_1000"] = round(_margin(before, row, "load_MB"), 2)
    if len(ok) < 3:
        return None
    early, late = (ok[0], ok[-2]), (ok[-2], ok[-1])
    return {
        "cpu_per_op": round(_margin(*late, "cpu_s") / max(_margin(*early, "cpu_s"), 1e-3), 2),
        "memory_per_op": round(_margin(*late, "load_MB") / max(_margin(*early, "load_MB"), 1e-2), 2),
    }


def _margin(smaller: dict[str, Any], larger: dict[str, Any], key: str) -> float:
    """``key``'s cost per 1,000 operations from one size to a larger one."""
    return (larger[key] - smaller[key]) / ((larger["operations"] - smaller["operations"]) / 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pythonpath", action="append", help="an odm_dyn checkout to measure (repeatable)")
    args = parser.parse_args()
    checkouts = args.pythonpath or [os.environ.get("PYTHONPATH", "")]
    with tempfile.TemporaryDirectory(prefix="odm-dyn-specs-") as scratch:
        specs = {count: specgen.generate(count, Path(scratch) / f"generated-{count}.json") for count in args.counts}
        for _ in range(args.rounds):
            for count, spec in specs.items():
                for checkout in checkouts:  # side by side: each size loaded by every checkout in turn
                    result = measure(spec, sys.executable, checkout)
                    print(f"{count:6} ops  {checkout or '(installed)'}: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
