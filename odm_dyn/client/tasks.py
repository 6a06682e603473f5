"""ODM's tasks: waiting for tasks that calls started, by polling ``getTaskInfo``.

The generic engine (``client.py``) knows operations, not tasks; ``Client`` mixes
:class:`TaskWaits` in. The loop, its back-off and its riding out of outages are
``polling.py``'s, shared with the Job API's waits (``jobs.py``).
"""

from __future__ import annotations

import contextlib
from typing import Any, AsyncGenerator, Callable, Iterable, Iterator

from ..api.plans import command_head
from ..errors import TaskFailedError, TaskTimeoutError
from . import polling
from .polling import Pace, Subject, Watch, check_wait_arguments, poll_options, wait_each, wait_each_async
from .progress import wait_progress

TERMINAL_STATUSES = frozenset({"DONE", "FAILED", "BLOCKED_BY_DEPENDENCY_FAILURE", "KILLED"})
TASK_DONE = "DONE"
TASK_INFO = "getTaskInfo"
DEFAULT_TASK_TIMEOUT = polling.DEFAULT_WAIT_TIMEOUT
OnPoll = Callable[[Any, float], None]


class TaskWaits:
    """``wait_for_task`` and ``wait_for_tasks``, for a client whose spec has ``getTaskInfo``."""

    api: Any
    transport: Any
    _plan: Callable[..., Any]
    _call: Callable[..., Any]

    def wait_for_task(
        self,
        id: Any,
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = False,
        progress: Any = False,
        on_poll: OnPoll | None = None,
    ) -> Any:
        """Poll ``getTaskInfo`` until the task's status is terminal, and return its TaskInfo.

        A FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE task is returned too (read
        ``.status``), unless ``raise_on_failure=True``: then :class:`TaskFailedError` carries it.
        Polls start every ``interval`` seconds and back off by ``backoff`` up to ``max_interval``.
        Connection errors, timeouts, 429 and 5xx answers of a poll are ridden out (logged once
        each, retried with back-off); only a terminal status, a 4xx, an off-spec answer or the
        deadline end the wait. Raises :class:`TaskTimeoutError` (``.task``: the last TaskInfo
        seen, or ``None``) when ``timeout`` seconds (default one hour) pass first; each poll's
        timeout is cut to the time left. ``progress=True`` shows the status on a progress bar
        (a terminal or Jupyter; plain lines elsewhere); ``on_poll(task, elapsed)`` is called
        after every poll.
        """
        for task in self.wait_for_tasks(
            [getattr(id, "id", id)],
            timeout,
            interval,
            max_interval=max_interval,
            backoff=backoff,
            raise_on_failure=raise_on_failure,
            progress=progress,
            on_poll=on_poll,
            _name="wait_for_task",
        ):
            return task
        raise AssertionError("unreachable: a wait yields its task or raises")  # pragma: no cover

    def wait_for_tasks(
        self,
        ids: Iterable[Any],
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = False,
        progress: Any = False,
        on_poll: OnPoll | None = None,
        _name: str = "wait_for_tasks",
    ) -> Iterator[Any]:
        """Wait for several tasks at once, from the calling thread; yield each TaskInfo as the
        task finishes (in the order they finish). Options as :meth:`wait_for_task`; ``timeout``
        bounds the whole wait, and :class:`TaskTimeoutError` then carries the unfinished tasks'
        last states in ``.pending``. With ``raise_on_failure=True`` the first failed task raises
        :class:`TaskFailedError` (the others are no longer waited for)."""
        # Checked here, not in the generator: a bad argument fails at the call, before any poll.
        limit = check_wait_arguments(_name, interval, timeout)
        task_ids = [getattr(i, "id", i) for i in ids]
        pace = Pace(interval, max_interval, backoff)
        return self._follow_tasks(self._plan(TASK_INFO), task_ids, limit, pace, raise_on_failure, progress, on_poll)

    def _follow_tasks(
        self,
        plan: Any,
        ids: list[Any],
        limit: float,
        pace: Pace,
        raise_on_failure: bool,
        progress: Any,
        on_poll: OnPoll | None,
    ) -> Iterator[Any]:
        subject = task_subject(self.api, plan)

        def poll(task_id: Any, remaining: float) -> Any:
            return self._call(plan, (task_id,), poll_options(self.transport, remaining), False)

        with wait_progress(progress, subject, len(ids), on_poll) as observe:
            for watch in wait_each(poll, subject, ids, pace, limit, observe.polled):
                observe.finished(watch.last)
                if raise_on_failure and getattr(watch.last, "status", None) != TASK_DONE:
                    raise task_failed(watch)
                yield watch.last


class AsyncTaskWaits:
    """``TaskWaits`` for ``AsyncClient``: ``await wait_for_task(...)``, ``async for task in
    wait_for_tasks(...)``; the same arguments, checks, decisions and errors, the polls awaited
    (several ids' polls overlap, from the one event loop)."""

    api: Any
    transport: Any
    _plan: Callable[..., Any]
    _call: Callable[..., Any]

    async def wait_for_task(
        self,
        id: Any,
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = False,
        progress: Any = False,
        on_poll: OnPoll | None = None,
    ) -> Any:
        waits = self.wait_for_tasks(
            [getattr(id, "id", id)],
            timeout,
            interval,
            max_interval=max_interval,
            backoff=backoff,
            raise_on_failure=raise_on_failure,
            progress=progress,
            on_poll=on_poll,
            _name="wait_for_task",
        )
        async with contextlib.aclosing(waits):
            async for task in waits:
                return task
        raise AssertionError("unreachable: a wait yields its task or raises")  # pragma: no cover

    def wait_for_tasks(
        self,
        ids: Iterable[Any],
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = False,
        progress: Any = False,
        on_poll: OnPoll | None = None,
        _name: str = "wait_for_tasks",
    ) -> AsyncGenerator[Any, None]:
        limit = check_wait_arguments(_name, interval, timeout)
        task_ids = [getattr(i, "id", i) for i in ids]
        pace = Pace(interval, max_interval, backoff)
        return self._follow_tasks(self._plan(TASK_INFO), task_ids, limit, pace, raise_on_failure, progress, on_poll)

    async def _follow_tasks(
        self,
        plan: Any,
        ids: list[Any],
        limit: float,
        pace: Pace,
        raise_on_failure: bool,
        progress: Any,
        on_poll: OnPoll | None,
    ) -> AsyncGenerator[Any, None]:
        subject = task_subject(self.api, plan)

        async def poll(task_id: Any, remaining: float) -> Any:
            return await self._call(plan, (task_id,), poll_options(self.transport, remaining), False)

        with wait_progress(progress, subject, len(ids), on_poll) as observe:
            waits = wait_each_async(poll, subject, ids, pace, limit, observe.polled)
            async with contextlib.aclosing(waits):
                async for watch in waits:
                    observe.finished(watch.last)
                    if raise_on_failure and getattr(watch.last, "status", None) != TASK_DONE:
                        raise task_failed(watch)
                    yield watch.last


AsyncTaskWaits.wait_for_task.__doc__ = TaskWaits.wait_for_task.__doc__
AsyncTaskWaits.wait_for_tasks.__doc__ = TaskWaits.wait_for_tasks.__doc__


def task_failed(watch: Watch) -> TaskFailedError:
    return TaskFailedError(f"task {watch.id} ended {getattr(watch.last, 'status', None)}", task=watch.last)


def task_subject(api: Any, plan: Any) -> Subject:
    return Subject(
        noun="task",
        operation=TASK_INFO,
        terminal=TERMINAL_STATUSES,
        success=TASK_DONE,
        id_attribute="id",
        python_wait="wait_for_task",
        command=command_head(api.tags, plan.op),
        timeout_error=TaskTimeoutError,
        timeout_field="task",
    )
