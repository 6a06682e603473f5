"""What the task and job waits share: their options, checked at the call, and the loop that
yields each waited-for id as its work ends, behind the progress observer.

``tasks.py`` and ``jobs.py`` differ only in what a poll reads and how a failure is raised; the
polling decisions are ``polling.py``'s.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple

from ..errors import OdmError
from ..types import OnPoll
from .polling import Pace, Poll, Subject, Watch, check_wait_arguments, status_of, wait_each
from .progress import wait_progress


class WaitOptions(NamedTuple):
    """A wait's options once checked: its time limit, its pace, and what it reports."""

    limit: float
    pace: Pace
    raise_on_failure: bool
    progress: Any
    on_poll: OnPoll | None


def wait_options(
    name: str,
    timeout: float | None,
    interval: float,
    max_interval: float,
    backoff: float,
    raise_on_failure: bool,
    progress: Any,
    on_poll: OnPoll | None,
) -> WaitOptions:
    """The options of the wait method ``name``; a ValueError for a bad ``interval`` or ``timeout``.

    Called by the method itself, not inside its generator, so a bad argument fails at the call,
    before any poll."""
    limit = check_wait_arguments(name, interval, timeout)
    return WaitOptions(limit, Pace(interval, max_interval, backoff), raise_on_failure, progress, on_poll)


def finished_watches(
    poll: Poll,
    subject: Subject,
    ids: list[Any],
    options: WaitOptions,
    failed: Callable[[Watch], OdmError],
) -> Iterator[Watch]:
    """Each id's watch as it reaches a terminal status; with ``raise_on_failure``, the first one
    that ended other than ``subject.success`` raises ``failed(watch)`` instead."""
    with wait_progress(options.progress, subject, len(ids), options.on_poll) as observe:
        for watch in wait_each(poll, subject, ids, options.pace, options.limit, observe.polled):
            observe.finished(watch.last)
            if options.raise_on_failure and status_of(watch.last) != subject.success:
                raise failed(watch)
            yield watch
