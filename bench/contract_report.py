"""The contract report of a session on the vendor's spec: building it and writing JSON + HTML.

    python -m bench.contract_report SPEC [--exchanges N]

In one process: the vendor's spec served by the embedded server, a contract client calling
every operation that needs no argument once and ``getTaskInfo`` until ``N`` exchanges are
recorded (a session's worth), then the report built from the recorder and written as
``report.json`` and ``report.html``, as the pytest plugin does at a session's end. Prints one
JSON line: the median seconds of three builds-and-writes, and what the report held.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec")
    parser.add_argument("--exchanges", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the server's notes are not the figure
    from odm_dyn.server import EmbeddedServer
    from odm_dyn.testing.recorder import ContractClient, Recorder, TestLog
    from odm_dyn.testing.report import build_report, write_report

    recorder = Recorder()
    with EmbeddedServer(spec=args.spec, task_seconds=0.0) as server:
        client = ContractClient(server.url, token=server.token, spec=args.spec, validate_responses="warn")
        recorder.observe(client, TestLog("bench_contract.py::test_session"))
        _exercise(client, args.exchanges, recorder)
        apis = [client.api]
    seconds = []
    with tempfile.TemporaryDirectory(prefix="odm-bench-report-") as folder:
        for _ in range(3):
            started = time.perf_counter()
            report = build_report(recorder, apis, {"spec": [Path(args.spec).name], "server": "embedded"})
            written = write_report(report, Path(folder) / "report")
            seconds.append(time.perf_counter() - started)
        sizes = {path.suffix[1:]: path.stat().st_size for path in written}
    summary = report["summary"]
    print(json.dumps({"seconds": statistics.median(seconds), "bytes": sizes, **summary}))
    return 0


def _exercise(client: object, wanted: int, recorder: object) -> None:
    """Every argument-free operation once, then getTaskInfo until ``wanted`` exchanges."""
    api = client.api  # type: ignore[attr-defined]
    for op_id, plan in api.plans.items():
        if plan.required or plan.op.method.upper() != "GET":
            continue
        try:
            client.call(op_id)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - an error answer is recorded all the same
            pass
    task = client.call("publishAllStudies", version_message="bench")  # type: ignore[attr-defined]
    while len(recorder.records) < wanted:  # type: ignore[attr-defined]
        client.call("getTaskInfo", id=task.id)  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
