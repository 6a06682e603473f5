"""Load time and per-call CPU time: the vendor's whole ODM API next to spec/tasks.yaml, in one run.

    .venv/bin/python bench/spec_figures.py [--calls N]

For each spec: the first load in a fresh process-level state with an empty cache folder
(parse, bundle, check, compile), the load again from the on-disk cache (a new process would
see this), then CPU seconds per call (``time.thread_time`` of the calling thread only, so the
embedded server's threads are not counted) against the embedded server.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT.parent / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml"
TOKEN = "bench-token"


def load_seconds(spec: Path) -> tuple[float, float]:
    """(first load with an empty cache, load from the cache), with in-process caches dropped."""
    from odm_dyn import api as api_module

    api_module._apis.clear()
    started = time.perf_counter()
    api_module.load_api(spec)
    first = time.perf_counter() - started
    api_module._apis.clear()
    started = time.perf_counter()
    api_module.load_api(spec)
    return first, time.perf_counter() - started


def cpu_per_call(spec: Path, operation: str, kwargs: dict[str, Any] | None, calls: int) -> float:
    """CPU seconds of the calling thread per call; ``kwargs=None``: a real task's id (getTaskInfo)."""
    import odm_dyn
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(spec=spec, tokens=[TOKEN]) as server:
        with odm_dyn.Client(server.url, token=TOKEN, spec=spec) as client:
            if kwargs is None:
                kwargs = {"id": client.publish_all_studies(version_message="bench").id}
            for _ in range(20):  # warm: connection, caches
                client.call(operation, **kwargs)
            started = time.thread_time()
            for _ in range(calls):
                client.call(operation, **kwargs)
            return (time.thread_time() - started) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    os.environ["ODM_DYN_CACHE_DIR"] = tempfile.mkdtemp(prefix="odm-dyn-bench-")
    sys.path.insert(0, str(ROOT))
    import odm_dyn

    logging.disable(logging.WARNING)  # the server's start-up notes are not the figures
    # Module imports are paid once per process, not per spec: paid here, outside the figures.
    import openapi_schema_validator  # noqa: F401
    from openapi_spec_validator import OpenAPIV31SpecValidator

    OpenAPIV31SpecValidator({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}).is_valid()
    cases: list[tuple[str, Path, str, dict[str, Any] | None]] = [
        ("spec/tasks.yaml", Path(odm_dyn.TASKS_SPEC), "getTaskInfo", None)
    ]
    if VENDOR.is_file():
        cases.append(("vendor odmApi.yaml", VENDOR, "getTaskInfo", None))
        # Many declared query parameters, answered with generated example data.
        cases.append(("vendor odmApi.yaml", VENDOR, "searchSamplesAsCurator", {"filter": "a=b", "page_limit": 5}))
    print(f"{'spec':20} {'load, empty cache':>18} {'load, cached':>13}  {'operation':22} {'CPU/call':>9}")
    loaded: dict[Path, tuple[float, float]] = {}
    for label, spec, operation, kwargs in cases:
        if spec not in loaded:
            loaded[spec] = load_seconds(spec)
        first, cached = loaded[spec]
        cpu = cpu_per_call(spec, operation, kwargs, args.calls)
        print(f"{label:20} {first * 1000:15.0f} ms {cached * 1000:10.0f} ms  {operation:22} {cpu * 1e6:6.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
