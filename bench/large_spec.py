"""First load of generated 2,000- and 20,000-operation JSON specs: wall time and peak memory.

    python -m bench.large_spec [--counts 2000 20000] [--pythonpath CHECKOUT ...]

Each load runs in a fresh process with an empty cache folder (parse, bundle, check, compile:
``load_api``), so the figure is what a user's first ``Client(spec=...)`` costs; the peak is the
process's maximum resident set size (imports included), CPU the process's user and system time
for the load (on a shared machine the wall time also holds other processes' turns).
``--pythonpath`` (repeatable) says which odm_dyn checkout is measured, so two can be measured
side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import specgen

_CHILD = """
import json, resource, sys, time
from odm_dyn.api.load import load_api
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
started, cpu_started = time.perf_counter(), cpu()
api = load_api(sys.argv[1])
seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"wall_s": round(seconds, 2), "cpu_s": round(cpu_seconds, 2), "peak_MB": peak // 2**20,
                  "operations": len(api.plans)}))
"""


_WHICH = """
import odm_dyn, os
where = os.path.realpath(odm_dyn.__file__)
assert where.startswith(os.path.realpath(os.environ["PYTHONPATH"] or "/")), where
"""


def measure(spec: Path, python: str, pythonpath: str | None) -> dict:
    env = dict(os.environ, ODM_DYN_CACHE_DIR=tempfile.mkdtemp(prefix="odm-dyn-large-"))
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(  # run from the spec's folder: a checkout in the current one would come first
        [python, "-c", _CHILD + _WHICH, str(spec)],
        env=env,
        cwd=spec.parent,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--pythonpath", action="append", help="an odm_dyn checkout to measure (repeatable)")
    args = parser.parse_args()
    checkouts = args.pythonpath or [os.environ.get("PYTHONPATH", "")]
    with tempfile.TemporaryDirectory(prefix="odm-dyn-specs-") as scratch:
        for count in args.counts:
            spec = specgen.generate(count, Path(scratch) / f"generated-{count}.json")
            size = spec.stat().st_size / 2**20
            for checkout in checkouts:
                result = measure(spec, sys.executable, checkout)
                print(f"{count:6} ops {size:5.1f} MB  {checkout or '(installed)'}: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
