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

import logging
import math
import time
from typing import Any, AsyncGenerator, Awaitable, Callable, Iterable, Iterator, NamedTuple

from ..errors import ApiException, OdmError, TransportError
from .connections import call_deadline
from .transport import RetryPolicy, parse_retry_after

log = logging.getLogger("odm_dyn")
_sleep = time.sleep  # the waits between polls; tests patch this, not the time module
_clock = time.monotonic
MIN_POLL_SECONDS = 0.1  # the shortest timeout a poll gets, even at the wait's deadline
# Polls of one async wait in flight at once. A poll takes a millisecond or two, so a few
# overlapping ones keep up with hundreds of ids; hundreds in flight would only make the
# connection pool's bookkeeping (per request, over every waiting request) the cost.
MAX_POLLS_IN_FLIGHT = 16
DEFAULT_WAIT_TIMEOUT = 3600.0

Poll = Callable[[Any, float], Any]  # (id, seconds left) → the answer; raises what the call raises
AsyncPoll = Callable[[Any, float], Awaitable[Any]]


# Not dataclasses: importing them (with inspect) would cost the first wait about 10 ms.
class Subject(NamedTuple):
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


class Pace(NamedTuple):
    """How often to poll: every ``interval`` seconds at first, ``backoff`` times longer after
    each poll, at most ``max_interval``; after a failed poll, ``interval`` doubled per failure in
    a row, at most ``max_interval`` (or what a 429's ``Retry-After`` asks, to the deadline)."""

    interval: float = 0.5
    max_interval: float = 10.0
    backoff: float = 1.5


class Watch:
    """One waited-for id and its schedule."""

    __slots__ = ("id", "interval", "due", "last", "outages", "failure")

    def __init__(self, id: Any, interval: float, due: float) -> None:
        self.id = id
        self.interval = interval
        self.due = due  # the clock's reading when it is next polled
        self.last: Any = None  # the last answer
        self.outages = 0  # failed polls in a row
        self.failure: BaseException | None = None  # the last poll's failure, if it failed


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
        "_retries": policy.replace(total=0, total_time=min(policy.total_time, remaining)),
    }


# --------------------------------------------------------------------------- the loop


class WaitRun:
    """One wait's bookkeeping, shared by the blocking loop (:func:`wait_each`) and the awaited one
    (:func:`wait_each_async`): what a poll's answer or failure means for its :class:`Watch`."""

    def __init__(self, subject: Subject, pace: Pace, limit: float, on_poll: Callable[[Any, float], None] | None):
        self.subject, self.pace, self.limit, self.on_poll = subject, pace, limit, on_poll
        self.started = _clock()
        self.deadline = self.started + limit
        self.warned: set[str] = set()  # the kinds of outage logged already

    def watches(self, ids: Iterable[Any]) -> list[Watch]:
        return [Watch(id_, self.pace.interval, self.started) for id_ in dict.fromkeys(ids)]

    def answered(self, watch: Watch, answer: Any, now: float) -> bool:
        """Note a poll's answer and schedule the next poll; whether the watch has finished."""
        _note_answer(self.subject, watch, answer)
        if self.on_poll is not None:
            self.on_poll(answer, now - self.started)
        if is_terminal(self.subject, answer):
            return True
        watch.due = schedule(now, watch.interval, self.deadline)
        watch.interval = next_interval(self.pace, watch.interval)
        return False

    def settled(self, watch: Watch, outcome: Any, now: float) -> bool:
        """Note a poll's answer, or its failure (an :class:`OdmError`, raised when it is no
        outage); whether the watch has finished. The one step of both loops."""
        if isinstance(outcome, OdmError):
            if not self.failed(watch, outcome, now):
                raise outcome
            return False
        return self.answered(watch, outcome, now)

    def failed(self, watch: Watch, error: BaseException, now: float) -> bool:
        """Note a poll's failure; ``False`` when it is no outage (the caller raises it)."""
        if not is_outage(error):
            return False
        _note_outage(self.subject, watch, error, self.warned, self.deadline - now)
        watch.due = schedule(now, outage_delay(self.pace, watch.outages, error), self.deadline)
        return True

    def timed_out(self, watches: list[Watch], now: float) -> OdmError:
        return timed_out(self.subject, watches, self.limit, now - self.started)


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
    run = WaitRun(subject, pace, limit, on_poll)
    now = run.started
    watches = run.watches(ids)
    while watches:
        watch = min(watches, key=lambda w: w.due)  # one thread: whoever is due first
        pause = watch.due - now
        if pause > 0:
            _sleep(pause)
            now += pause
        try:
            with call_deadline(max(run.deadline - now, MIN_POLL_SECONDS)):  # however slowly the answer comes
                outcome: Any = poll(watch.id, run.deadline - now)
        except OdmError as error:
            outcome = error
        now = _clock()
        if run.settled(watch, outcome, now):
            watches.remove(watch)
            yield watch
            continue
        if now >= run.deadline:
            raise run.timed_out(watches, now)


async def _async_sleep(seconds: float) -> None:
    """The awaited pause between polls; tests patch this, never asyncio.sleep."""
    import asyncio  # here, not at the top: a blocking client never needs the event loop's modules

    await asyncio.sleep(seconds)


async def wait_each_async(
    poll: AsyncPoll,
    subject: Subject,
    ids: Iterable[Any],
    pace: Pace,
    limit: float,
    on_poll: Callable[[Any, float], None] | None = None,
) -> AsyncGenerator[Watch, None]:
    """:func:`wait_each` for an event loop: every id followed by a task of its own, so the polls
    of many ids overlap; the same decisions (:class:`WaitRun`), the same errors."""
    import asyncio  # asyncio and its ~30 modules cost a blocking client's start ~10 ms; only awaits need it

    run = WaitRun(subject, pace, limit, on_poll)
    watches = run.watches(ids)
    gate = asyncio.Semaphore(MAX_POLLS_IN_FLIGHT)

    async def gated(task_id: Any, remaining: float) -> Any:
        async with gate:
            return await poll(task_id, remaining)

    following = {asyncio.ensure_future(_follow(run, gated, watch)): watch for watch in watches}
    try:
        while following:
            done, _ = await asyncio.wait(following, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=lambda t: (t.exception() is not None or not t.result(), following[t].due)):
                watch = following.pop(task)
                if not task.result():  # raises a poll's failure that is no outage
                    waiting = {id(w) for w in following.values()} | {id(watch)}
                    raise run.timed_out([w for w in watches if id(w) in waiting], _clock())  # in the ids' order
                yield watch
    finally:  # a failure, a timeout, or the caller leaving early: no poll goes on unseen
        for task in following:
            task.cancel()
        await asyncio.gather(*following, return_exceptions=True)


async def _follow(run: WaitRun, poll: AsyncPoll, watch: Watch) -> bool:
    """Poll one id until it finishes (``True``) or the wait's deadline passes (``False``)."""
    now = run.started
    while True:
        pause = watch.due - now
        if pause > 0:
            await _async_sleep(pause)
            now = max(_clock(), now + pause)
        try:
            outcome: Any = await poll(watch.id, run.deadline - now)
        except OdmError as error:
            outcome = error
        now = _clock()
        if run.settled(watch, outcome, now):
            return True
        if now >= run.deadline:
            return False


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
