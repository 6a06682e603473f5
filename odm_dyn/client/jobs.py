"""The Job API's jobs: waiting for a job by polling ``info``, then reading its ``output``.

A job (an import, for instance) runs in the background after the call that started it answers
with an ``Info`` holding its ``jobExecId``. Its terminal statuses are COMPLETED, FAILED,
STOPPED and ABANDONED; once one is reached, ``output`` holds its ``result`` or its ``errors``.
``Client`` mixes :class:`JobWaits` in, ``AsyncClient`` :class:`AsyncJobWaits`; the loop is
``polling.py``'s, shared with tasks.

The methods import ``waits`` and ``polling`` (and their progress display) when first called, not
here: every client mixes them in, and most processes never wait (tests/test_perf_guards.py).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, AsyncGenerator, Callable, Iterable, Iterator

from ..api.plans import command_head
from ..errors import JobFailedError, JobTimeoutError
from ..types import OnPoll

if TYPE_CHECKING:
    from .polling import Subject, Watch
    from .waits import WaitOptions

JOB_TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "STOPPED", "ABANDONED"})
JOB_COMPLETED = "COMPLETED"
JOB_INFO = "info"  # the Job API's operationIds
JOB_OUTPUT = "output"


class JobWaits:
    """``wait_for_job`` and ``wait_for_jobs``, for a client whose spec has the Job API."""

    api: Any
    transport: Any
    _plan: Callable[..., Any]
    _call: Callable[..., Any]

    def wait_for_job(
        self,
        job_exec_id: Any,
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = True,
        progress: Any = False,
        on_poll: OnPoll | None = None,
    ) -> Any:
        """Poll the job's ``info`` until its status is terminal; return its ``output``.

        When the job ended FAILED, STOPPED or ABANDONED, raises :class:`JobFailedError`
        (``.job``: the final Info, ``.output``, ``.errors``: the output's errors), unless
        ``raise_on_failure=False``: then the output is returned too (read ``.status``).
        Outages are ridden out as in :meth:`wait_for_task`; :class:`JobTimeoutError` (``.job``:
        the last Info seen) when ``timeout`` seconds (default one hour) pass first.
        ``job_exec_id`` may be the Info a start call returned.
        """
        from .waits import wait_options  # here, not at the top: see the module's docstring

        options = wait_options(
            "wait_for_job", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        _job_id, output = next(self._follow_jobs(job_plans(self._plan), [job_id_of(job_exec_id)], options))
        return output

    def wait_for_jobs(
        self,
        job_exec_ids: Iterable[Any],
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = True,
        progress: Any = False,
        on_poll: OnPoll | None = None,
    ) -> Iterator[tuple[Any, Any]]:
        """Wait for several jobs from the calling thread; yield ``(job_exec_id, output)`` as each
        finishes (an output does not name its job). Options as :meth:`wait_for_job`; the first
        failed job raises :class:`JobFailedError` unless ``raise_on_failure=False``."""
        from .waits import wait_options

        options = wait_options(
            "wait_for_jobs", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        ids = [job_id_of(i) for i in job_exec_ids]
        return self._follow_jobs(job_plans(self._plan), ids, options)

    def _follow_jobs(self, plans: tuple[Any, Any], ids: list[Any], options: WaitOptions) -> Iterator[tuple[Any, Any]]:
        from .polling import poll_options
        from .waits import finished_watches

        info_plan, output_plan = plans
        outputs: dict[Any, Any] = {}

        def poll(job_id: Any, remaining: float) -> Any:
            info = self._call(info_plan, (job_id,), poll_options(self.transport, remaining), False)
            if getattr(info, "status", None) in JOB_TERMINAL_STATUSES:
                # Read within the poll: an outage here fails the poll, and the next one reads both again.
                outputs[job_id] = self._call(output_plan, (job_id,), poll_options(self.transport, remaining), False)
            return info

        def failed(watch: Watch) -> JobFailedError:
            return job_failed(watch.id, watch.last, outputs.pop(watch.id, None))

        for watch in finished_watches(poll, job_subject(self.api, info_plan), ids, options, failed):
            yield watch.id, outputs.pop(watch.id, None)


class AsyncJobWaits:
    """``JobWaits`` for ``AsyncClient``: ``await wait_for_job(...)``, ``async for job_exec_id,
    output in wait_for_jobs(...)``; the same arguments, decisions and errors, the polls awaited."""

    api: Any
    transport: Any
    _plan: Callable[..., Any]
    _call: Callable[..., Any]

    async def wait_for_job(
        self,
        job_exec_id: Any,
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = True,
        progress: Any = False,
        on_poll: OnPoll | None = None,
    ) -> Any:
        from .waits import first_of, wait_options  # here, not at the top: see the module's docstring

        options = wait_options(
            "wait_for_job", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        _job_id, output = await first_of(self._follow_jobs(job_plans(self._plan), [job_id_of(job_exec_id)], options))
        return output

    def wait_for_jobs(
        self,
        job_exec_ids: Iterable[Any],
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        raise_on_failure: bool = True,
        progress: Any = False,
        on_poll: OnPoll | None = None,
    ) -> AsyncGenerator[tuple[Any, Any], None]:
        from .waits import wait_options

        options = wait_options(
            "wait_for_jobs", timeout, interval, max_interval, backoff, raise_on_failure, progress, on_poll
        )
        ids = [job_id_of(i) for i in job_exec_ids]
        return self._follow_jobs(job_plans(self._plan), ids, options)

    async def _follow_jobs(
        self, plans: tuple[Any, Any], ids: list[Any], options: WaitOptions
    ) -> AsyncGenerator[tuple[Any, Any], None]:
        from .polling import poll_options
        from .waits import finished_watches_async

        info_plan, output_plan = plans
        outputs: dict[Any, Any] = {}

        async def poll(job_id: Any, remaining: float) -> Any:
            info = await self._call(info_plan, (job_id,), poll_options(self.transport, remaining), False)
            if getattr(info, "status", None) in JOB_TERMINAL_STATUSES:  # as JobWaits: within the poll
                outputs[job_id] = await self._call(
                    output_plan, (job_id,), poll_options(self.transport, remaining), False
                )
            return info

        def failed(watch: Watch) -> JobFailedError:
            return job_failed(watch.id, watch.last, outputs.pop(watch.id, None))

        waits = finished_watches_async(poll, job_subject(self.api, info_plan), ids, options, failed)
        async with contextlib.aclosing(waits):  # leaving early cancels the polls in flight
            async for watch in waits:
                yield watch.id, outputs.pop(watch.id, None)


AsyncJobWaits.wait_for_job.__doc__ = JobWaits.wait_for_job.__doc__
AsyncJobWaits.wait_for_jobs.__doc__ = JobWaits.wait_for_jobs.__doc__


def job_plans(plan: Callable[[str], Any]) -> tuple[Any, Any]:
    """The plans of the Job API's ``info`` and ``output``, found by a client's ``_plan``."""
    return plan(JOB_INFO), plan(JOB_OUTPUT)


def job_id_of(value: Any) -> Any:
    """A job's id from an id or an Info (``jobExecId``)."""
    return getattr(value, "job_exec_id", None) or value


def job_subject(api: Any, info_plan: Any) -> Subject:
    from .polling import Subject

    return Subject(
        noun="job",
        operation=info_plan.op.operation_id,
        terminal=JOB_TERMINAL_STATUSES,
        success=JOB_COMPLETED,
        id_attribute="job_exec_id",
        python_wait="wait_for_job",
        command=command_head(api.tags, info_plan.op),
        timeout_error=JobTimeoutError,
        timeout_field="job",
    )


def job_failed(job_id: Any, info: Any, output: Any) -> JobFailedError:
    """The error of a job that ended other than COMPLETED, its output's errors summed up."""
    status = getattr(info, "status", None)
    errors = summarize_errors(getattr(output, "errors", None) or [])
    return JobFailedError(f"job {job_id} ended {status}" + (f": {errors}" if errors else ""), job=info, output=output)


def summarize_errors(errors: list[Any], shown: int = 3) -> str:
    """``stage: Type: message`` of the first errors of a job's output (JobRuntimeError items)."""
    parts = []
    for error in errors[:shown]:
        stage = _field(error, "stage")
        stack = _field(error, "stack") or []
        first = stack[0] if stack else None
        detail = ": ".join(str(x) for x in (_field(first, "type"), _field(first, "message")) if x)
        parts.append(": ".join(str(x) for x in (stage, detail) if x) or "an error")
    more = f" (and {len(errors) - shown} more)" if len(errors) > shown else ""
    return "; ".join(parts) + more


def _field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)
