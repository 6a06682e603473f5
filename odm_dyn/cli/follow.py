"""The command line's long runs: ``--wait`` on tasks and jobs, ``--all`` on paged lists.

``--wait`` follows the task (``getTaskInfo``) or job (the Job API's ``info``) that a command's
answer names, on a live status line, and exits by the same table for both: 0 when it ended
DONE or COMPLETED, 4 when it ended otherwise, 5 when ``--timeout`` passed first. On a timeout
and on Ctrl-C the work may still be running on the server, so the message gives the command
that resumes the wait without starting the work again. ``--all`` prints every item of a paged
list as one JSON line each, page after page, as they arrive.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable, NamedTuple

from ..api.model import to_wire
from ..api.plans import command_head
from ..errors import JobTimeoutError, TaskTimeoutError
from ..exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_TASK_FAILED, EXIT_TASK_TIMEOUT

TASK_INFO, JOB_INFO, JOB_OUTPUT = "getTaskInfo", "info", "output"


# --------------------------------------------------------------------------- which commands


def wait_kind(api: Any, plan: Any) -> str | None:
    """``"task"`` when the operation answers a TaskInfo, ``"job"`` when it answers the Job API's
    Info (what ``info`` answers), else ``None``: no ``--wait``."""
    if plan.returns_task and TASK_INFO in api.plans:
        return "task"
    info, output = api.plans.get(JOB_INFO), api.plans.get(JOB_OUTPUT)
    if info is None or output is None:
        return None
    job_models = _success_models(info)
    return "job" if job_models and job_models & _success_models(plan) else None


def _success_models(plan: Any) -> set[Any]:
    return {m for r in plan.responses.values() if r.status.startswith("2") for m in r.models.values() if m}


def is_paged(plan: Any) -> bool:
    from ..client.paging import paging_of

    return paging_of(plan.op) is not None


def add_follow_options(parser: argparse.ArgumentParser, api: Any, plan: Any) -> bool:
    """``--wait`` and ``--timeout`` where the answer names a task or job, ``--all`` where the
    operation is paged; true when ``--timeout`` was added."""
    if is_paged(plan):
        parser.add_argument(
            "--all",
            dest="all_pages",
            action="store_true",
            help="follow the pages to the end: every item as one JSON line (--page-limit sets the page size)",
        )
    kind = wait_kind(api, plan)
    if kind is None:
        return False
    ended, printed = ("DONE", "its final state") if kind == "task" else ("COMPLETED", "its output")
    parser.add_argument(
        "--wait", action="store_true", help=f"follow the {kind} until it ends ({ended}: exit 0); print {printed}"
    )
    parser.add_argument(
        "--timeout",
        "--wait-timeout",
        dest="wait_timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="with --wait: give up waiting after this, exit code 5 (default 3600)",
    )
    return True


def _positive_float(text: str) -> float:
    from .values import positive_float

    return positive_float(text)


# --------------------------------------------------------------------------- --wait


def follow(client: Any, api: Any, plan: Any, result: Any, ns: argparse.Namespace) -> int:
    """``--wait``: follow the task or job the answer names."""
    output = getattr(ns, "output", None)
    if wait_kind(api, plan) == "job":
        return follow_job(client, result, ns.wait_timeout, resume_command(api, JOB_INFO, ns), output)
    return follow_task(client, result, ns.wait_timeout, resume_command(api, TASK_INFO, ns), output)


def follow_task(client: Any, task: Any, timeout: float | None, resume: str = "", output: str | None = None) -> int:
    """Poll until the task ends; print it; the exit code says how it ended."""
    from .output import UsageError

    task_id = getattr(task, "id", None)
    if not task_id:
        raise UsageError("--wait: the answer holds no task id to follow")

    def wait(on_poll: Any) -> Any:
        return client.wait_for_task(task_id, timeout=timeout, on_poll=on_poll)

    def failure(final: Any) -> str | None:
        status = getattr(final, "status", None)
        return None if status == "DONE" else f"{status}"

    resume = f"{resume or 'odm-dyn tasks-api get-task-info'} {task_id} --wait"
    return _follow(_Followed("task", "id", task_id, task, resume), wait, failure, timeout, output)


def follow_job(client: Any, info: Any, timeout: float | None, resume: str, output: str | None = None) -> int:
    """Poll until the job ends; print its output; 0 when it COMPLETED, 4 otherwise."""
    from ..client.jobs import summarize_errors
    from .output import UsageError

    job_id = getattr(info, "job_exec_id", None)
    if job_id is None:
        raise UsageError("--wait: the answer holds no jobExecId to follow")

    def wait(on_poll: Any) -> Any:
        return client.wait_for_job(job_id, timeout=timeout, raise_on_failure=False, on_poll=on_poll)

    def failure(result: Any) -> str | None:
        status = getattr(result, "status", None)
        if status == "COMPLETED":
            return None
        errors = summarize_errors(getattr(result, "errors", None) or [])
        return f"{status}" + (f": {errors}" if errors else "")

    return _follow(
        _Followed("job", "job_exec_id", job_id, info, f"{resume} {job_id} --wait"), wait, failure, timeout, output
    )


class _Followed(NamedTuple):
    """What ``--wait`` follows: a task or job, its id, the command's answer, how to resume."""

    noun: str  # "task", "job"; also the attribute of the timeout error holding the last state
    id_attribute: str
    ident: Any
    first: Any
    resume: str


def _follow(
    followed: _Followed,
    wait: Callable[[Any], Any],
    failure: Callable[[Any], str | None],
    timeout: float | None,
    output: str | None,
) -> int:
    """Run the wait; print the final state; exit 0, or 4 with ``failure``'s account of how it ended."""
    from .output import emit, say

    noun, ident, resume = followed.noun, followed.ident, followed.resume
    try:
        final = _watch(followed.first, noun, followed.id_attribute, wait)
    except (TaskTimeoutError, JobTimeoutError) as error:
        return _timed_out(getattr(error, noun), noun, ident, timeout, resume, output)
    except KeyboardInterrupt:
        return _interrupted(noun, ident, resume)
    emit(final, output)
    problem = failure(final)
    if problem is None:
        return EXIT_OK
    say(f"{noun} {ident} ended {problem}")
    return EXIT_TASK_FAILED


def _watch(first: Any, noun: str, id_attribute: str, wait: Any) -> Any:
    """Run ``wait(on_poll)`` behind a status line that starts at the command's own answer."""
    from .progress import StatusLine

    with StatusLine(sys.stderr, noun=noun, id_attribute=id_attribute) as line:
        started = time.monotonic()
        line(first, 0.0)
        return wait(lambda answer, _: line(answer, time.monotonic() - started))


def _timed_out(last: Any, noun: str, ident: Any, timeout: float | None, resume: str, output: str | None) -> int:
    from .output import emit, say

    emit(last, output)  # the last state seen, so a script can keep following it
    status = getattr(last, "status", None) or "unknown"
    say(
        f"{noun} timeout: {noun} {ident} was still {status} after {timeout or 'the default 3600'} s and may "
        f"still be running on the server (its last state is on stdout). Resume the wait without starting "
        f"it again: {resume} --timeout SECONDS"
    )
    return EXIT_TASK_TIMEOUT


def _interrupted(noun: str, ident: Any, resume: str) -> int:
    from .output import say

    say(
        f"interrupted: {noun} {ident} may still be running on the server. "
        f"Resume the wait without starting it again: {resume}"
    )
    return EXIT_INTERRUPTED


def resume_command(api: Any, op_id: str, ns: argparse.Namespace) -> str:
    """The command that polls ``op_id`` with the same connection options as this one; a token
    given on the command line is shown by its flag only, never its value."""
    parts = ["odm-dyn"]
    for spec in getattr(ns, "spec", None) or []:
        parts += ["--spec", _quoted(spec)]
    if getattr(ns, "host", None):
        parts += ["--host", _quoted(ns.host)]
    for flag, dest in (("--token", "token"), ("--access-token", "access_token")):
        if getattr(ns, dest, None):
            parts += [flag, "TOKEN"]
    head = command_head(api.tags, api.plans[op_id].op)
    return " ".join(parts) + head.removeprefix("odm-dyn")


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(str(text))


# --------------------------------------------------------------------------- --all


def stream_all(client: Any, plan: Any, kwargs: dict[str, Any]) -> int:
    """``--all``: every item of every page, one compact JSON line each, written as it comes."""
    from ..client.paging import paginator

    out = sys.stdout
    for item in paginator(client._call, plan, (), kwargs):
        out.write(json.dumps(to_wire(item), separators=(",", ":"), ensure_ascii=False) + "\n")
        out.flush()
    return EXIT_OK
