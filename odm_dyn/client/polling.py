"""Waiting for long work by polling: one loop for ODM tasks and Job API jobs, one or many.

A wait ends only at its own deadline, at a terminal status, or on a failure that is no outage
(a 4xx answer, an off-spec answer). Connection errors, timeouts, 429 and 5xx answers of a poll
are outages: the poll is tried again with back-off until the deadline, and each kind of
failure is logged once at WARNING (not once per retry: an hour-long outage is one line).

The decisions (is this status terminal, is this failure an outage, when is the next poll) are
plain functions of values, apart from the sleeping and the calling in :func:`wait_each`, so an
asynchronous client can drive the same decisions with its own sleep and calls. Many waits run
from the calling thread: each is a :class:`Watch` with its own schedule, and the loop polls
whichever is due first.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from ..errors import ApiException, OdmError, TransportError
from .connections import call_deadline
from .transport import RetryPolicy, parse_retry_after

log = logging.getLogger("odm_dyn")
_sleep = time.sleep  # the waits between polls; tests patch this, not the time module
_clock = time.monotonic
MIN_POLL_SECONDS = 0.1  # the shortest timeout a poll gets, even at the wait's deadline
DEFAULT_WAIT_TIMEOUT = 3600.0

Poll = Callable[[Any, float], Any]  # (id, seconds left) → the answer; raises what the call raises


@dataclass(frozen=True)
class Subject:
    """What is waited for: its noun, the operation polled, and how its statuses read."""

    noun: str  # "task", "job"
    operation: str  # the operationId polled
    terminal: frozenset[str]
    success: str
    id_attribute: str  # the attribute of an answer holding the id ("id", "job_exec_id")
    python_wait: str  # the client method that resumes a wait ("wait_for_task")
    command: str = ""  # the shell command that polls once ("odm-dyn tasks-api get-task-info")
    timeout_error: type[OdmError] = OdmError
    timeout_field: str = "task"  # the keyword of ``timeout_error`` holding the last answer

    def resume_hint(self, ids: list[Any]) -> str:
        """How to go on waiting without starting the work again."""
        shown = repr(ids[0]) if len(ids) == 1 else repr(ids)
        method = self.python_wait if len(ids) == 1 else self.python_wait + "s"
        hint = f"it may still be running on the server: resume the wait with {method}({shown}, timeout=...)"
        if self.command and len(ids) == 1:
            hint += f" or `{self.command} {ids[0]} --wait`"
        return hint


@dataclass(frozen=True)
class Pace:
    """How often to poll: every ``interval`` seconds at first, ``backoff`` times longer after
    each poll, at most ``max_interval``; after a failed poll, ``interval`` doubled per failure in
    a row, at most ``max_interval`` (or what a 429's ``Retry-After`` asks, to the deadline)."""

    interval: float = 0.5
    max_interval: float = 10.0
    backoff: float = 1.5


@dataclass
class Watch:
    """One waited-for id and its schedule."""

    id: Any
    interval: float
    due: float  # the clock's reading when it is next polled
    last: Any = None  # the last answer
    outages: int = 0  # failed polls in a row
    failure: BaseException | None = None  # the last poll's failure, if it failed


# --------------------------------------------------------------------------- decisions


def check_wait_arguments(name: str, interval: Any, timeout: Any) -> float:
    """The wait's time limit in seconds; a ValueError for a bad ``interval`` or ``timeout``."""
    if not (isinstance(interval, (int, float)) and interval > 0 and math.isfinite(interval)):
        raise ValueError(f"{name}: interval must be a positive number of seconds, not {interval!r}")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout >= 0):
        raise ValueError(f"{name}: timeout must be seconds (0 or more) or None, not {timeout!r}")
    return DEFAULT_WAIT_TIMEOUT if timeout is None else float(timeout)


def status_of(answer: Any) -> Any:
    return getattr(answer, "status", None)


def is_terminal(subject: Subject, answer: Any) -> bool:
    return status_of(answer) in subject.terminal


def is_outage(error: BaseException) -> bool:
    """A failure the wait rides out: the transport's, a 5xx, or a 429 (the server asks for time)."""
    if isinstance(error, TransportError):
        return True
    status = getattr(error, "status", None)
    return isinstance(error, ApiException) and isinstance(status, int) and (status >= 500 or status == 429)


def outage_kind(error: BaseException) -> str:
    """What a failure is, for logging it once: its class, and its status if it has one."""
    status = getattr(error, "status", None)
    return type(error).__name__ + (f" {status}" if status else "")


def next_interval(pace: Pace, interval: float) -> float:
    return min(interval * pace.backoff, pace.max_interval)


def outage_delay(pace: Pace, outages: int, error: BaseException | None = None) -> float:
    """Seconds before polling again after ``outages`` failed polls in a row."""
    headers = getattr(error, "headers", None) or {}
    asked = parse_retry_after(headers.get("Retry-After")) if isinstance(error, ApiException) else None
    if asked is not None:
        return asked
    return min(pace.interval * 2 ** max(outages - 1, 0), pace.max_interval)


def schedule(now: float, delay: float, deadline: float) -> float:
    """When to poll next: after ``delay``, but never after the deadline (the last poll is at it)."""
    return min(now + delay, deadline)


def poll_options(transport: Any, remaining: float) -> dict[str, Any]:
    """A poll's options: its timeout cut to the time left, and no retries of its own (the
    wait retries, with its own back-off and logging, until its deadline)."""
    remaining = max(remaining, MIN_POLL_SECONDS)
    timeout = transport.timeout
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    policy: RetryPolicy = transport.retries
    return {
        "_request_timeout": (min(connect, remaining), min(read, remaining)),
        "_retries": dataclasses.replace(policy, total=0, total_time=min(policy.total_time, remaining)),
    }


# --------------------------------------------------------------------------- the loop


def wait_each(
    poll: Poll,
    subject: Subject,
    ids: Iterable[Any],
    pace: Pace,
    limit: float,
    on_poll: Callable[[Any, float], None] | None = None,
) -> Iterator[Watch]:
    """Poll every id until its answer is terminal; yield each :class:`Watch` as it finishes.

    Raises the subject's timeout error (with the last answers of the unfinished) when ``limit``
    seconds pass first, and any failure of a poll that is not an outage.
    """
    started = now = _clock()
    deadline = started + limit
    watches = [Watch(id_, pace.interval, started) for id_ in dict.fromkeys(ids)]
    warned: set[str] = set()
    while watches:
        watch = min(watches, key=lambda w: w.due)  # one thread: whoever is due first
        pause = watch.due - now
        if pause > 0:
            _sleep(pause)
            now += pause
        try:
            with call_deadline(max(deadline - now, MIN_POLL_SECONDS)):  # however slowly the answer comes
                answer = poll(watch.id, deadline - now)
        except OdmError as error:
            if not is_outage(error):
                raise
            now = _clock()
            _note_outage(subject, watch, error, warned, deadline - now)
            watch.due = schedule(now, outage_delay(pace, watch.outages, error), deadline)
        else:
            now = _clock()
            _note_answer(subject, watch, answer)
            if on_poll is not None:
                on_poll(answer, now - started)
            if is_terminal(subject, answer):
                watches.remove(watch)
                yield watch
                continue
            watch.due = schedule(now, watch.interval, deadline)
            watch.interval = next_interval(pace, watch.interval)
        if now >= deadline:
            raise timed_out(subject, watches, limit, now - started)


def _note_outage(subject: Subject, watch: Watch, error: BaseException, warned: set[str], left: float) -> None:
    watch.outages += 1
    watch.failure = error
    kind = outage_kind(error)
    if kind in warned:
        log.debug("%s %s: %s failed again (%s)", subject.noun, watch.id, subject.operation, kind)
        return
    warned.add(kind)
    log.warning(
        "%s %s: %s failed (%s: %s); the wait goes on, retrying with back-off until its deadline (%.0f s left)",
        subject.noun,
        watch.id,
        subject.operation,
        kind,
        _first_line(error),
        max(left, 0.0),
    )


def _note_answer(subject: Subject, watch: Watch, answer: Any) -> None:
    if watch.outages:
        log.info(
            "%s %s: %s answered again after %d failed polls", subject.noun, watch.id, subject.operation, watch.outages
        )
    watch.last, watch.outages, watch.failure = answer, 0, None


def timed_out(subject: Subject, watches: list[Watch], limit: float, elapsed: float) -> OdmError:
    """The timeout error of a wait whose ``watches`` did not finish within ``limit`` seconds."""
    ids = [w.id for w in watches]
    hint = subject.resume_hint(ids)
    if len(watches) == 1:
        watch = watches[0]
        seen = status_of(watch.last) or "nothing"
        if watch.failure is not None:
            message = (
                f"{subject.noun} {watch.id}: no answer to {subject.operation} before the timeout ({limit}s) "
                f"passed ({outage_kind(watch.failure)}); last seen {seen}; {hint}"
            )
        else:
            message = f"{subject.noun} {watch.id} is still {seen} after {elapsed:.1f}s (timeout {limit}s); {hint}"
    else:
        shown = ", ".join(f"{w.id} ({status_of(w.last) or 'not seen'})" for w in watches[:10])
        more = f" and {len(watches) - 10} more" if len(watches) > 10 else ""
        message = (
            f"{len(watches)} {subject.noun}s unfinished after {elapsed:.1f}s (timeout {limit}s): {shown}{more}; {hint}"
        )
    last = watches[0].last if watches else None
    options = {subject.timeout_field: last, "pending": tuple(w.last for w in watches)}
    return subject.timeout_error(message, **options)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0][:200] if text else "") or type(error).__name__
