"""Tasks from operations that answer a TaskInfo: publishing, study by study or all at once.

The task follows the task clock (see ``server/tasks.py``); when it is DONE the drafts it
concerns become a new version named by ``versionMessage``. The publication is applied the first
time anything reads objects after that moment (:meth:`.Context.now`), so no worker thread runs.
"""

from __future__ import annotations

from ..app import Answer, Call, error
from ..tasks import DEFAULT_VERSION_MESSAGE, PUBLISH_APPLICATION
from ..tasks import task_info as _task_info
from .context import Context, bad_ending, preferred_ending


def publish(call: Call, *, ctx: Context, scope: str = "all") -> Answer:
    bad = bad_ending(call.prefer)
    if bad:
        return error(400, bad)
    study = None
    if scope == "study":
        study = str(call.params.get("id", ""))
        found = ctx.store.objects.get(study, ctx.now())
        if found is None or found.kind != "study":
            return error(404, f"there is no study with accession {study!r}")
    message = call.params.get("versionMessage") or DEFAULT_VERSION_MESSAGE
    ending = preferred_ending(call.prefer) or "DONE"
    task = ctx.store.create_task(message, PUBLISH_APPLICATION, call.user.name, ctx.duration_ms, ending)
    if ending == "DONE":
        ctx.store.objects.add_publication(task.seq, study, message, call.user.name, task.created_ms + task.duration_ms)
    return Answer(200, _task_info(task, task.created_ms))


def task_info(call: Call, *, ctx: Context) -> Answer:
    """``GET /tasks/{id}``: the task as the clock has it (rows are kept in memory once read)."""
    task = ctx.store.task(str(call.params.get("id", "")))
    if task is None:
        return error(404, f"there is no task with accession {call.params.get('id')!r}")
    return Answer(200, _task_info(task))


BEHAVIOURS = {"publish": publish, "task_info": task_info}
