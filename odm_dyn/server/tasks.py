"""The task clock of the embedded server: a task's status at a moment, and its TaskInfo.

A task's status is never stored: it is worked out from its creation time and duration each
time it is read. So a task keeps moving while the server is down, and a restart mid-way
finds it where the clock says it should be, with no background worker to resume.
"""

from __future__ import annotations

from typing import Any

from .store import TaskRow, now_ms

DEFAULT_VERSION_MESSAGE = "Auto-published by API call"
PUBLISH_APPLICATION = "publish-versions"
ACCESS_ALL_DATA = "ACCESS_ALL_DATA"

# Where each status begins, as a fraction of the task's duration; DONE begins at 1.0.
_PHASES = (("CREATED", 0.0), ("QUEUED", 0.1), ("RUNNING", 0.25))


def status_at(task: TaskRow, at_ms: int) -> str:
    if task.duration_ms <= 0 or at_ms >= task.created_ms + task.duration_ms:
        return task.outcome
    fraction = (at_ms - task.created_ms) / task.duration_ms
    status = _PHASES[0][0]
    for name, start in _PHASES:
        if fraction >= start:
            status = name
    return status


def started_ms(task: TaskRow) -> int:
    return task.created_ms + int(task.duration_ms * _PHASES[-1][1])


def task_info(task: TaskRow, at_ms: int | None = None) -> dict[str, Any]:
    """The TaskInfo of a task now: ``startedAt`` once it runs, ``endedAt`` once it is done."""
    at_ms = now_ms() if at_ms is None else at_ms
    status = status_at(task, at_ms)
    info: dict[str, Any] = {
        "id": task.accession,
        "name": task.name,
        "status": status,
        "application": task.application,
        "createdBy": task.created_by,
    }
    if status not in ("CREATED", "QUEUED"):
        info["startedAt"] = started_ms(task)
    if status not in ("CREATED", "QUEUED", "RUNNING"):
        info["endedAt"] = task.created_ms + task.duration_ms
    return info
