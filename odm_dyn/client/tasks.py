"""ODM's tasks: waiting for tasks that calls started, by polling ``getTaskInfo``.

The generic engine (``client.py``) knows operations, not tasks; ``Client`` mixes
:class:`TaskWaits` in, ``AsyncClient`` :class:`AsyncTaskWaits`. The loop, its back-off and its riding out of outages are
``polling.py``'s, shared with the Job API's waits (``jobs.py``).

The methods import ``waits`` and ``polling`` (and their progress display) when first called, not
here: every client mixes them in, and most processes never wait (tests/test_perf_guards.py).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, AsyncGenerator, Callable, Iterable, Iterator

from ..api.plans import command_head
from ..errors import TaskFailedError, TaskTimeoutError
from ..types import OnPoll

if TYPE_CHECKING:
    from .polling import Subject, Watch
    from .waits import WaitOptions

TERMINAL_STATUSES = frozenset({"DONE", "FAILED", "BLOCKED_BY_DEPENDENCY_FAILURE", "KILLED"})
TASK_DONE = "DONE"
TASK_INFO = "getTaskInfo"


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
        from .waits import wait_options  # here, not at the top: see the module's docstring

        options = wait_options(
            "wait_for_task", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        return next(self._follow_tasks(self._plan(TASK_INFO), [getattr(id, "id", id)], options))

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
    ) -> Iterator[Any]:
        """Wait for several tasks at once, from the calling thread; yield each TaskInfo as the
        task finishes (in the order they finish). Options as :meth:`wait_for_task`; ``timeout``
        bounds the whole wait, and :class:`TaskTimeoutError` then carries the unfinished tasks'
        last states in ``.pending``. With ``raise_on_failure=True`` the first failed task raises
        :class:`TaskFailedError` (the others are no longer waited for)."""
        from .waits import wait_options

        options = wait_options(
            "wait_for_tasks", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        task_ids = [getattr(i, "id", i) for i in ids]
        return self._follow_tasks(self._plan(TASK_INFO), task_ids, options)

    def _follow_tasks(self, plan: Any, ids: list[Any], options: WaitOptions) -> Iterator[Any]:
        from .polling import poll_options
        from .waits import finished_watches

        def poll(task_id: Any, remaining: float) -> Any:
            return self._call(plan, (task_id,), poll_options(self.transport, remaining), False)

        for watch in finished_watches(poll, task_subject(self.api, plan), ids, options, task_failed):
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
        from .waits import first_of, wait_options  # here, not at the top: see the module's docstring

        options = wait_options(
            "wait_for_task", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        return await first_of(self._follow_tasks(self._plan(TASK_INFO), [getattr(id, "id", id)], options))

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
    ) -> AsyncGenerator[Any, None]:
        from .waits import wait_options

        options = wait_options(
            "wait_for_tasks", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        task_ids = [getattr(i, "id", i) for i in ids]
        return self._follow_tasks(self._plan(TASK_INFO), task_ids, options)

    async def _follow_tasks(self, plan: Any, ids: list[Any], options: WaitOptions) -> AsyncGenerator[Any, None]:
        from .polling import poll_options
        from .waits import finished_watches_async

        async def poll(task_id: Any, remaining: float) -> Any:
            return await self._call(plan, (task_id,), poll_options(self.transport, remaining), False)

        waits = finished_watches_async(poll, task_subject(self.api, plan), ids, options, task_failed)
        async with contextlib.aclosing(waits):  # leaving early cancels the polls in flight
            async for watch in waits:
                yield watch.last


AsyncTaskWaits.wait_for_task.__doc__ = TaskWaits.wait_for_task.__doc__
AsyncTaskWaits.wait_for_tasks.__doc__ = TaskWaits.wait_for_tasks.__doc__


def task_subject(api: Any, plan: Any) -> Subject:
    from .polling import Subject

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


def task_failed(watch: Watch) -> TaskFailedError:
    return TaskFailedError(f"task {watch.id} ended {getattr(watch.last, 'status', None)}", task=watch.last)
