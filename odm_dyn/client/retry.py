"""When to try a request again, and how long to wait first: the same for every transport.

The decisions (:meth:`RetryPolicy.wait_after_error`, :meth:`RetryPolicy.wait_after_answer`)
do no I/O and never sleep; :func:`send_with_retries` is the one loop that sleeps between
attempts. An async transport mirrors that loop with ``await asyncio.sleep`` and shares the rest.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from typing import Any, Callable

from ..errors import ApiConnectionError, ApiTimeoutError, TransportError
from ..wire.messages import RawResponse, Request

log = logging.getLogger("odm_dyn.transport")


# The waits of retries and their jitter: tests patch these, never the time and random modules
# (a patched time.sleep would change every thread, test servers included).
def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _jitter(low: float, high: float) -> float:
    return random.uniform(low, high)


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


# Not dataclasses: a client's start must not import them (tests/test_perf_guards.py, issue 19).
class RetryPolicy:
    """When and how often to retry; immutable (:meth:`replace` makes a changed copy).

    ``total``: retries after the first attempt; ``backoff``: first delay in seconds, doubled
    each time with full jitter, at most ``max_backoff``; ``retry_after_cap``: the longest
    ``Retry-After`` honoured; ``total_time``: no retry is made whose wait would end after this
    many seconds from the first attempt (a longer ``Retry-After`` ends the retries at once);
    ``methods``: methods retried (``publishAllStudies`` is a POST: not retried unless asked).
    """

    __match_args__ = ("total", "backoff", "max_backoff", "retry_after_cap", "total_time", "statuses", "methods")
    __slots__ = (*__match_args__, "__weakref__")

    total: int
    backoff: float
    max_backoff: float
    retry_after_cap: float
    total_time: float
    statuses: frozenset[int]
    methods: frozenset[str]

    def __init__(
        self,
        total: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        retry_after_cap: float = 30.0,
        total_time: float = 60.0,
        statuses: frozenset[int] = RETRY_STATUSES,
        methods: frozenset[str] = IDEMPOTENT_METHODS,
    ) -> None:
        fields = (total, backoff, max_backoff, retry_after_cap, total_time, statuses, methods)
        for name, value in zip(_FIELDS, fields):
            object.__setattr__(self, name, value)  # past __setattr__, which refuses every change

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with ``changes`` (``policy.replace(total=0)``); the policy itself never changes."""
        return self.__class__(**{**dict(zip(_FIELDS, self._values())), **changes})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"RetryPolicy is immutable: cannot assign to {name!r}; policy.replace({name}=...) copies")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RetryPolicy is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy through __init__, not __setattr__
        return self.__class__, self._values()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(_FIELDS, self._values()))
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def allows(self, method: str, retry_unsafe: bool) -> bool:
        return self.total > 0 and (retry_unsafe or method in self.methods)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        wait = parse_retry_after(retry_after)
        if wait is not None:
            return min(wait, self.retry_after_cap)
        return _jitter(0, min(self.max_backoff, self.backoff * 2**attempt))

    def wait_after_error(self, error: TransportError, attempt: int, started: float) -> float | None:
        """Seconds to wait before trying again after a failed attempt; ``None``: give up."""
        if not nothing_sent(error) or attempt >= self.total:
            return None
        return self._in_time(self.delay(attempt, None), started)

    def wait_after_answer(self, answer: RawResponse, attempt: int, started: float) -> float | None:
        """Seconds to wait before asking again after this answer; ``None``: it is the answer."""
        if answer.status not in self.statuses or attempt >= self.total:
            return None
        return self._in_time(self.delay(attempt, answer.headers.get("Retry-After")), started)

    def _in_time(self, wait: float, started: float) -> float | None:
        return wait if time.monotonic() - started + wait < self.total_time else None


_FIELDS: tuple[str, ...] = RetryPolicy.__match_args__  # a policy's fields, in order (never a subclass's)
DEFAULT_RETRIES = RetryPolicy()
NO_RETRIES = RetryPolicy(total=0)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²": str.isdigit takes superscripts, float() does not
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())


def nothing_sent(error: TransportError) -> bool:
    """Whether the request never left: a refused, reset-before-sending or timed-out connect."""
    return isinstance(error, ApiConnectionError) or (isinstance(error, ApiTimeoutError) and error.connect)


def send_with_retries(
    attempt_once: Callable[..., RawResponse], args: tuple, request: Request, policy: RetryPolicy, retry_unsafe: bool
) -> RawResponse:
    """``attempt_once(*args)`` until it gives an answer that is not retried by ``policy``.

    ``AsyncTransport.send`` is this loop with ``await``: both take their decisions from
    :func:`settle`.
    """
    if not policy.allows(request.method, retry_unsafe):
        return attempt_once(*args)
    started, attempt = time.monotonic(), 0
    while True:
        try:
            outcome: RawResponse | TransportError = attempt_once(*args)
        except TransportError as error:
            outcome = error
        verdict = settle(policy, request, outcome, attempt, started)
        if isinstance(verdict, RawResponse):
            return verdict
        _sleep(verdict)
        attempt += 1


def settle(
    policy: RetryPolicy, request: Request, outcome: RawResponse | TransportError, attempt: int, started: float
) -> RawResponse | float:
    """The answer to return, or the seconds to wait before trying again (logged); an error that
    stands is raised.

    The one decision of both retry loops (this module's and ``AsyncTransport.send``).
    """
    if isinstance(outcome, TransportError):
        wait = policy.wait_after_error(outcome, attempt, started)
        if wait is None:
            raise outcome
        _log_retry(request, f"failed ({type(outcome).__name__})", attempt, policy, wait)
        return wait
    # The status test first: most answers are not retried, and this is every call's path.
    wait = None if outcome.status not in policy.statuses else policy.wait_after_answer(outcome, attempt, started)
    if wait is None:
        outcome.attempts = attempt + 1
        return outcome
    _log_retry(request, f"answered {outcome.status}", attempt, policy, wait)
    return wait


def _log_retry(request: Request, what: str, attempt: int, policy: RetryPolicy, wait: float) -> None:
    log.warning(
        "%s %s %s; retry %d of %d in %.2fs", request.method, request.path, what, attempt + 1, policy.total, wait
    )
