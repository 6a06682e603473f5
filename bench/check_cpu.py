"""CPU of one compiled schema check on a TaskInfo answer, valid and invalid (a figure, not a test).

Run with the repository first on the path: ``python -m bench.check_cpu``. Prints microseconds
per call of ``SchemaCheck.violations`` for the getTaskInfo 200 answer of the bundled Tasks spec.
"""

from __future__ import annotations

import time
from typing import Any

import odm_dyn
from odm_dyn.api.load import load_api

TASK = {"id": "GSF000001", "name": "n", "status": "DONE", "application": "a", "startedAt": 1, "createdBy": "c"}
ROUNDS = 200_000


def per_call_us(check: Any, value: Any, rounds: int = ROUNDS) -> float:
    """The best of five runs, in microseconds per call (CPU time of this process)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(rounds):
            check.violations(value)
        best = min(best, time.process_time() - started)
    return best / rounds * 1e6


def main() -> None:
    plan = load_api(odm_dyn.TASKS_SPEC).find_plan("getTaskInfo")
    check = next(iter(plan.responses["200"].checks.values()))
    check.violations({**TASK, "status": "LOST"})  # whatever is made on first need is made now
    print(f"valid TaskInfo:   {per_call_us(check, TASK):.3f} us per check")
    print(f"invalid TaskInfo: {per_call_us(check, {**TASK, 'status': 'LOST'}, ROUNDS // 10):.3f} us per check")


if __name__ == "__main__":
    main()
