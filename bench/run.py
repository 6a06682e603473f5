"""``make bench``: odm_dyn against its peers, measured side by side in one run (issue 6).

    python -m bench.run [--quick] [--out bench/results]

Starts the embedded ODM server in its own process (``odm-dyn serve``), then measures, in this
order: CPU and wall per ``getTaskInfo`` call (interleaved rounds over all clients), cold start
as whole processes (wall and peak memory), spec load and build (first and cached) for the Tasks
spec, the vendor's whole API and a generated 1,000-operation spec, the first load of generated
JSON specs up to 20,000 operations (``large_spec.py``), the server's throughput from 8 threads,
and AsyncClient's figures (``asyncbench.py``). Writes ``latest.md``,
``latest.json`` and ``latest.png`` into the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from . import asyncbench, large_spec, peers, readme, report, specgen, throughput
from .percall import measure, paired_ratio
from .server import BareServerProcess, ServerProcess, publish_task

ROOT = Path(__file__).resolve().parents[1]
VENDOR_API = ROOT.parent / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="odm-bench-") as scratch:
        results = run(Path(scratch), quick=args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2))
    before_file = args.out / "before.json"
    before = json.loads(before_file.read_text()) if before_file.exists() else None
    markdown = report.markdown(results, before)
    (args.out / "latest.md").write_text(markdown)
    report.chart(results, args.out / "latest.png")
    if not args.quick:  # a smoke run's figures are not the README's
        readme.update(ROOT / "README.md", markdown)
    print(markdown)
    return 0


def run(scratch: Path, *, quick: bool = False) -> dict[str, Any]:
    _compiled_bytecode()
    big_spec = specgen.generate(1000, scratch / "generated-1000.yaml")
    import odm_dyn

    specs = {"Tasks spec": odm_dyn.TASKS_SPEC, "1,000-operation spec": str(big_spec)}
    if VENDOR_API.exists():
        specs["vendor API (244 ops)"] = str(VENDOR_API)
    cache = scratch / "cache"
    os.environ["ODM_DYN_CACHE_DIR"] = str(cache)  # this process and its children: a cache of our own
    results: dict[str, Any] = {"machine": _machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    repeats = 1 if quick else 3
    results["spec_load"] = {name: _spec_load(spec, cache, repeats) for name, spec in specs.items()}
    results["large_spec"] = _large_spec(scratch, quick)
    with ServerProcess() as server:
        task_id = publish_task(server.url)
        results["per_call"] = _per_call(server, task_id, specs, quick)
        results["cold_start"], results["cold_start_paired"] = _cold_starts(
            server, task_id, cache, rounds=2 if quick else 11
        )
        with BareServerProcess() as bare:
            servers = {"embedded server": (server, task_id), "bare WSGI app": (bare, bare.task_id)}
            compared = throughput.compare(servers, rounds=2 if quick else 3, seconds=2.0 if quick else 3.0)
        results["throughput"] = compared["embedded server"]
        results["throughput_bare"] = compared["bare WSGI app"]
    if VENDOR_API.exists():
        results["contract_report"] = _contract_report(VENDOR_API)
    results["async"] = _async_figures(quick)
    return results


def _async_figures(quick: bool) -> dict[str, Any]:
    """AsyncClient against bare httpx and aiopenapi3, and 200 waits on one loop against 200
    threads (issue 18), on a server of its own whose tasks take 2 s."""
    with ServerProcess(task_seconds=2.0) as server:
        task_id = publish_task(server.url)
        return asyncbench.measure(server, task_id, rounds=5 if quick else 15, per_round=100 if quick else 200)


def _compiled_bytecode() -> None:
    """Every process of the run imports from bytecode, as an installed package does.

    With ``PYTHONDONTWRITEBYTECODE`` set, a child would compile each of odm_dyn's modules from
    source on every start while its peers' site-packages come with bytecode: the cold starts
    would compare a compiler with an import.
    """
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    for folder in ("odm_dyn", "bench"):
        compileall.compile_dir(ROOT / folder, quiet=1)


# --------------------------------------------------------------------------- per call


def _per_call(server: ServerProcess, task_id: str, specs: dict[str, Any], quick: bool) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for name, factory in peers.PEERS.items():
        try:
            calls[name] = factory(server.url, server.token, task_id)
            calls[name]()
        except Exception as exc:  # a peer that cannot be set up is reported, not fatal
            calls.pop(name, None)
            missing[name] = f"{type(exc).__name__}: {exc}"[:200]
    for label, spec in specs.items():
        if label != "Tasks spec":
            calls[f"odm_dyn ({label})"] = peers.odm_dyn_client(server.url, server.token, task_id, spec=spec)
    samples = measure(calls, rounds=5 if quick else 15, per_round=100 if quick else 200)
    base = samples["bare requests"]
    table = {  # a ratio between clients: the median of the rounds' own ratios (bench/percall.py)
        name: {
            "cpu_ms": s.median_cpu() * 1e3,
            "cpu_p90_ms": s.p90_cpu() * 1e3,
            "wall_ms": s.median_wall() * 1e3,
            "wall_p90_ms": s.p90_wall() * 1e3,
            "cpu_ratio": paired_ratio(s.round_cpu, base.round_cpu),
            "wall_ratio": paired_ratio(s.round_wall, base.round_wall),
            "round_cpu_ms": [x * 1e3 for x in s.round_cpu],
            "calls": len(s.cpu),
        }
        for name, s in samples.items()
    }
    return {"clients": table, "not_measured": missing}


# --------------------------------------------------------------------------- cold start


def _cold_starts(
    server: ServerProcess, task_id: str, cache: Path, rounds: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """Each program's median wall and peak memory, and odm_dyn's wall over bare requests' as the
    median of the rounds' own ratios."""
    env = {"URL": server.url, "TOKEN": server.token, "TASK": task_id}
    out: dict[str, Any] = {}
    first_cache = cache.parent / "first-run-cache"
    out["odm_dyn (first ever: empty cache)"] = _process(
        peers.SNIPPETS["odm_dyn"], env, {"ODM_DYN_CACHE_DIR": str(first_cache)}
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in peers.SNIPPETS}
    for _ in range(rounds):  # interleaved, like the per-call rounds
        for name, snippet in peers.SNIPPETS.items():
            runs[name].append(_process(snippet, env))
    for name, measured in runs.items():
        ok = [m for m in measured if "error" not in m]
        if not ok:
            out[name] = measured[0]
            continue
        walls, rss = sorted(m["wall_s"] for m in ok), sorted(m["peak_mib"] for m in ok)
        out[name] = {"wall_s": walls[len(walls) // 2], "peak_mib": rss[len(rss) // 2]}
    both = [(o, r) for o, r in zip(runs["odm_dyn"], runs["bare requests"]) if "wall_s" in o and "wall_s" in r]
    ours, theirs = [o["wall_s"] for o, _ in both], [r["wall_s"] for _, r in both]
    paired = {"odm_dyn x bare requests": paired_ratio(ours, theirs)} if both else {}
    return out, paired


def _process(snippet: str, values: dict[str, str], env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a whole program; its wall time and its own peak RSS (``wait4`` gives one child's)."""
    prologue = "".join(f"{key} = {value!r}\n" for key, value in values.items())
    snippet += _PEAK_EPILOGUE
    env = {**os.environ, **(env_extra or {}), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", prologue + snippet], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = child.communicate(timeout=300)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        text = stderr.decode(errors="replace").strip()
        return {"error": text.splitlines()[-1] if text else f"exit {child.returncode}"}
    peak = [line for line in stdout.decode().splitlines() if line.startswith("PEAK_KIB ")]
    return {"wall_s": wall, "peak_mib": int(peak[-1].split()[1]) / 1024}


# The child's own high-water mark. Not getrusage(RUSAGE_CHILDREN): Linux carries a spawning
# parent's peak across exec into the child's ru_maxrss, so every child would report this
# harness's 170 MiB. VmHWM belongs to the program's own address space.
_PEAK_EPILOGUE = """
import resource, sys
try:
    with open("/proc/self/status") as _status:
        _peak = [int(l.split()[1]) for l in _status if l.startswith("VmHWM:")][0]
except OSError:
    _peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
print("PEAK_KIB", _peak)
"""


# --------------------------------------------------------------------------- spec load


_LOAD_SNIPPET = textwrap.dedent(
    """
    import json, resource, sys, time
    started = time.perf_counter()
    from odm_dyn.api import load_api
    api = load_api(SPEC)
    loaded = time.perf_counter() - started
    print(json.dumps({"seconds": loaded, "operations": len(api.plans), "heavy": sorted(
        m for m in ("yaml", "jsonschema", "openapi_spec_validator", "openapi_schema_validator", "pydantic")
        if m in sys.modules)}))
    """
)


def _spec_load(spec: Any, cache: Path, repeats: int = 1) -> dict[str, Any]:
    """Import, load and build in fresh processes: first with an empty cache, then cached (medians)."""
    out: dict[str, Any] = {}
    for label in ("first", "cached"):
        runs = []
        for number in range(repeats):
            own_cache = cache.parent / f"load-cache-{Path(spec).stem}-{number}"  # empty for each "first"
            runs.append(_load_once(spec, own_cache))
        ok = sorted((r for r in runs if "seconds" in r), key=lambda r: r["seconds"])
        out[label] = ok[len(ok) // 2] if ok else runs[0]
    return out


def _large_spec(scratch: Path, quick: bool) -> dict[str, Any]:
    """First loads of generated JSON specs at several sizes (the quick run: small ones only)."""
    counts = large_spec.QUICK_COUNTS if quick else large_spec.COUNTS
    return large_spec.figures(counts, rounds=1 if quick else 3, pythonpath=str(ROOT), scratch=scratch)


def _load_once(spec: Any, cache: Path) -> dict[str, Any]:
    snippet = f"SPEC = {spec!r}\n" + _LOAD_SNIPPET
    env = {**os.environ, "ODM_DYN_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _contract_report(spec: Path) -> dict[str, Any]:
    """The report of a 1,000-exchange session on ``spec`` (built and written as JSON + HTML)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bench.contract_report", str(spec)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


if __name__ == "__main__":
    raise SystemExit(main())
