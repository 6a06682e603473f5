"""ODM's tasks: waiting for a task that a call started, by polling ``getTaskInfo``.

This is the one ODM-specific part of the client: the generic engine (``client.py``) knows
operations, not tasks. ``Client`` mixes :class:`TaskWaits` in.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from ..errors import ApiTimeoutError, TaskTimeoutError

_sleep = time.sleep  # the waits between polls; tests patch this, not the time module
TERMINAL_STATUSES = frozenset({"DONE", "FAILED", "BLOCKED_BY_DEPENDENCY_FAILURE", "KILLED"})
DEFAULT_TASK_TIMEOUT = 3600.0
MIN_POLL_SECONDS = 0.1  # the shortest timeout a poll of wait_for_task gets, even at its deadline


class TaskWaits:
    """``wait_for_task``, for a client whose spec has ``getTaskInfo``."""

    transport: Any
    _plan: Callable[..., Any]
    _call: Callable[..., Any]

    # ------------------------------------------------------------------ tasks

    def wait_for_task(
        self,
        id: Any,
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        on_poll: Callable[[Any, float], None] | None = None,
    ) -> Any:
        """Poll ``getTaskInfo`` until the task's status is terminal, and return it.

        A FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE task is returned too: read
        ``.status``. Polls start every ``interval`` seconds and back off by ``backoff`` up
        to ``max_interval``. Raises :class:`TaskTimeoutError` (with ``.task``, the last
        TaskInfo seen, or ``None``) when ``timeout`` seconds (default one hour) pass first: each
        poll's timeout and retries are cut to the time left, so a stalled server cannot hold
        the call much past ``timeout``. ``on_poll(task, elapsed)`` is called after every poll.
        """
        if not (isinstance(interval, (int, float)) and interval > 0):  # NaN fails too
            raise ValueError(f"wait_for_task: interval must be a positive number of seconds, not {interval!r}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout >= 0):
            raise ValueError(f"wait_for_task: timeout must be seconds (0 or more) or None, not {timeout!r}")
        task_id = getattr(id, "id", id)
        plan = self._plan("getTaskInfo")
        limit = DEFAULT_TASK_TIMEOUT if timeout is None else timeout
        started = time.monotonic()
        task = None
        remaining = limit  # the clock is read once per poll: after it
        while True:
            options, capped = self._poll_options(remaining)
            try:
                task = self._call(plan, (task_id,), options, False)
            except ApiTimeoutError as error:
                if not capped:  # the server outwaited the client's own timeout, well before the deadline
                    raise
                raise TaskTimeoutError(
                    f"task {task_id}: no answer to getTaskInfo before the timeout ({limit}s) passed; last seen "
                    f"{getattr(task, 'status', 'nothing')}; wait longer with wait_for_task(..., timeout=...)",
                    task=task,
                ) from error
            elapsed = time.monotonic() - started
            if on_poll is not None:
                on_poll(task, elapsed)
            status = getattr(task, "status", None)
            if status in TERMINAL_STATUSES:
                return task
            if elapsed >= limit:
                raise TaskTimeoutError(
                    f"task {task_id} is still {status} after {elapsed:.1f}s (timeout {limit}s); "
                    "wait longer with wait_for_task(..., timeout=...)",
                    task=task,
                )
            pause = max(0.0, min(interval, limit - elapsed))
            _sleep(pause)
            remaining = limit - elapsed - pause
            interval = min(interval * backoff, max_interval)

    def _poll_options(self, remaining: float) -> tuple[dict[str, Any], bool]:
        """A poll's options: its timeout and retry budget cut to the time left; and whether they were cut."""
        remaining = max(remaining, MIN_POLL_SECONDS)
        timeout = self.transport.timeout
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        policy = self.transport.retries
        options = {
            "_request_timeout": (min(connect, remaining), min(read, remaining)),
            "_retries": dataclasses.replace(policy, total_time=min(policy.total_time, remaining)),
        }
        return options, max(connect, read) > remaining
