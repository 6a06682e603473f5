"""Transports: what sends a :class:`~odm_dyn.wire.messages.Request` and returns its answer.

A transport has one method that matters, ``send(request, *, timeout, retries, retry_unsafe,
sink) -> RawResponse``, and ``close()`` (:class:`BaseTransport`). Two ship: :class:`Transport`
(HTTP, one ``requests.Session``) and :class:`~odm_dyn.client.wsgi.WsgiTransport` (a WSGI app
called in-process). Everything before and after (binding, checks, encoding, reading the answer,
error mapping) is plain functions that do no I/O, so an async transport needs only its own
``send`` and its own sleep between retries.

:class:`Transport` resolves the session's environment settings (proxies, ``REQUESTS_CA_BUNDLE``,
``NO_PROXY``) once, when it is made, instead of on every call as ``Session.request`` does, and
prepares requests directly so that the target odm_dyn built (already percent-encoded) is sent as
it is, never re-quoted or normalised. The credential values it sends are hidden in urllib3's
log records while it is open (:class:`~odm_dyn.secrets.LogFilter`). Made without a session for
a plain ``http://`` URL and no proxy in the environment, it sends over urllib3 pools of its own
(:class:`~odm_dyn.client.direct.OwnPools`) and imports requests only when its ``session`` is
asked for (then sends through it) or a failure is mapped.
"""

from __future__ import annotations

import logging
import time
from typing import IO, Any, Callable, Iterable

from ..errors import ApiTimeoutError, TransportError
from ..secrets import LogFilter
from ..types import DEFAULT_TIMEOUT, Timeout
from ..wire.messages import RawResponse, Request
from .connections import deadline, forget_after_fork, set_deadline, use_own_connections
from .direct import DirectRoute, OwnPools
from .failures import RAISE_TIMEOUT, as_transport_error
from .failures import reason as _reason
from .retry import DEFAULT_RETRIES, NO_RETRIES, RetryPolicy, parse_retry_after, send_with_retries

log = logging.getLogger("odm_dyn.transport")

DEFAULT_BODY_SECONDS = 600.0  # the whole body of one answer must arrive within this
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
CHUNK_BYTES = 1 << 16
BODY_READS = 10  # a body may take this many read timeouts in all (see Transport.body_budget)

__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_RETRIES",
    "BaseTransport",
    "RetryPolicy",
    "Transport",
    "parse_retry_after",
]


class BaseTransport:
    """What the client needs of a transport: ``send`` and ``close``.

    ``timeout`` and ``retries`` are its defaults, for a call that gives none. ``send`` retries
    by the policy around :meth:`attempt`, which a transport implements (or it overrides ``send``
    as a whole). ``sink``: a success (2xx) answer's body is written there chunk by chunk instead
    of being kept (``content`` is then empty and ``extra["streamed"]`` counts the bytes).
    """

    timeout: Timeout = DEFAULT_TIMEOUT
    retries: RetryPolicy = DEFAULT_RETRIES

    def send(
        self,
        request: Request,
        *,
        timeout: Timeout | None = None,
        retries: RetryPolicy | None = None,
        retry_unsafe: bool = False,
        sink: IO[bytes] | None = None,
    ) -> RawResponse:
        """Send ``request``, retrying by the policy (``retries`` or the transport's own)."""
        limit = timeout or self.timeout
        policy = retries or self.retries
        return send_with_retries(self.attempt, (request, limit, sink), request, policy, retry_unsafe)

    def attempt(self, request: Request, timeout: Timeout, sink: IO[bytes] | None) -> RawResponse:
        """One try at sending ``request``; a failure raises a :class:`~odm_dyn.errors.TransportError`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the transport holds (connections, the values it hides in logs)."""


class Transport(BaseTransport):
    """Sends requests to one base URL over HTTP; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: Timeout | Any = DEFAULT_TIMEOUT,
        retries: RetryPolicy = DEFAULT_RETRIES,
        verify: bool | str = True,
        session: Any = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        body_seconds: float = DEFAULT_BODY_SECONDS,
        secrets: Iterable[str] = (),
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = Timeout.of(timeout, DEFAULT_TIMEOUT)
        self.body_seconds = body_seconds
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self._log_filter = LogFilter(secrets).install()
        self._verify = verify
        self._session: Any = None
        self._direct: DirectRoute | None = None
        if session is None and OwnPools.apply_to(self.base_url):
            # Nothing requests would add (plain http, no proxy in the environment, no session of
            # the caller's): urllib3 pools of our own, and no ``import requests`` (a fifth of a
            # client process's start) unless ``session`` is asked for or an error is mapped.
            self._send_options: dict[str, Any] = {"proxies": {}, "verify": verify, "cert": None}
            self._direct = DirectRoute.own(OwnPools(), self.base_url, self.timeout)
        else:
            self._use_session(session)

    @property
    def session(self) -> Any:
        """The ``requests.Session`` calls go through; made on first use by a transport on its own
        pools, which then sends through it (so a ``mount`` on it is obeyed, as ever)."""
        if self._session is None:
            own = self._direct
            self._use_session(None)
            if own is not None:
                own.close()
        return self._session

    def _use_session(self, session: Any) -> None:
        import requests

        self._session = session = session or requests.Session()
        use_own_connections(session)
        forget_after_fork(session)
        settings = session.merge_environment_settings(self.base_url, {}, False, self._verify, None)
        self._send_options = {
            "proxies": settings["proxies"],
            "verify": settings["verify"],
            "cert": settings["cert"],
            "allow_redirects": False,  # a redirect must not carry credentials elsewhere
        }
        self._direct = DirectRoute.for_session(session, self.base_url, self._send_options, self.timeout)

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    def close(self) -> None:
        """Close the session's connections, and forget the credential values hidden in logs."""
        self._log_filter.remove()
        if self._session is not None:
            self._session.close()
        elif self._direct is not None:
            self._direct.close()

    def attempt(self, request: Request, timeout: Timeout, sink: IO[bytes] | None) -> RawResponse:
        started = time.monotonic()
        body_seconds = self.body_budget(timeout)
        try:
            set_deadline(started + timeout.connect + timeout.read)  # the status line and headers
            response = self._open(request, timeout)
            set_deadline(time.monotonic() + body_seconds)  # then the body
            if sink is not None and 200 <= response.status_code < 300:
                return self._stream_body(response, sink, started, body_seconds)
            chunks: list[bytes] = []
            read_body(response, chunks.append, self.max_response_bytes, body_seconds)
        except Exception as exc:  # noqa: BLE001 - mapped to odm_dyn's errors, or raised as it is
            error = self._failure(exc, request, started)
            if error is exc:
                raise
            raise error from None
        finally:
            set_deadline(None)
        elapsed = time.monotonic() - started
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d (%.1f ms)", request.method, request.path, response.status_code, elapsed * 1000)
        return RawResponse(response.status_code, response.reason or "", response.headers, b"".join(chunks), elapsed)

    def body_budget(self, timeout: Timeout) -> float:
        """Seconds the body of an answer may take once its head arrived: ``BODY_READS`` read
        timeouts, at most ``body_seconds`` (600 s with the default timeout, as both allow)."""
        return min(self.body_seconds, BODY_READS * timeout.read)

    def _failure(self, exc: Exception, request: Request, started: float) -> BaseException:
        """The odm_dyn error for a failed attempt; a passed deadline says so, whatever broke."""
        when = deadline()
        if when is not None and time.monotonic() >= when and not isinstance(exc, TransportError):
            took = time.monotonic() - started
            return ApiTimeoutError(
                f"{request.method} {request.path}: the answer from {self.base_url} took longer than the call's "
                f"deadline ({took:.1f} s), however slowly its bytes came; {RAISE_TIMEOUT}"
            )
        return as_transport_error(exc, request, self.base_url, self._log_filter.hide)

    def _open(self, request: Request, timeout: Timeout) -> Any:
        """Send one request: on the direct route when it applies, else through ``Session.send``."""
        direct = self._direct
        if direct is not None and direct.usable():
            return direct.open(request, timeout)
        return self.session.send(self._prepare(request), timeout=timeout, stream=True, **self._send_options)

    def _prepare(self, request: Request) -> Any:
        import requests

        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = self.base_url + request.target
        prepared.headers = requests.structures.CaseInsensitiveDict(request.headers)
        prepared.body = request.body
        if request.body is not None:
            prepared.headers["Content-Length"] = str(len(request.body))
        prepared.hooks = {"response": []}
        prepared._cookies = None
        return prepared

    def _stream_body(self, response: Any, sink: IO[bytes], started: float, seconds: float) -> RawResponse:
        import requests

        counter = Counting(sink)
        try:
            # The cap applies to what is written: the decoded bytes, not the compressed ones.
            read_body(response, counter.write, self.max_response_bytes, seconds)
        except requests.exceptions.RequestException as exc:
            when = deadline()
            if when is not None and time.monotonic() >= when:
                raise ApiTimeoutError(
                    f"the download took longer than its deadline ({seconds:.1f} s) after {counter.size} bytes; "
                    + RAISE_TIMEOUT
                ) from None
            # Not an ApiConnectionError: a retry would append to what the sink already holds.
            raise TransportError(
                f"the download broke off after {counter.size} bytes: {_reason(exc, self._log_filter.hide)}"
            ) from None
        return streamed(response.status_code, response.reason or "", response.headers, counter.size, started)


# --------------------------------------------------------------------------- body reading


class Counting:
    """Writes chunks to a sink and counts the bytes written."""

    __slots__ = ("sink", "size")

    def __init__(self, sink: IO[bytes]):
        self.sink, self.size = sink, 0

    def write(self, chunk: bytes) -> None:
        self.sink.write(chunk)
        self.size += len(chunk)


def streamed(status: int, reason: str, headers: Any, size: int, started: float) -> RawResponse:
    """The answer of a download whose body went to a sink: no content, the bytes counted."""
    raw = RawResponse(status, reason, headers, b"", time.monotonic() - started)
    raw.extra["streamed"] = size
    return raw


def read_body(response: Any, write: Callable[[bytes], Any], max_bytes: int | None, seconds: float) -> None:
    """Hand every chunk of a body (``response.iter_content``) to ``write``, then close the response.

    The read timeout bounds each wait for data; a server trickling bytes forever is stopped by
    the deadline for the whole body (``seconds``) and, when given, the size cap (:class:`BodyLimit`).
    """
    limit = BodyLimit(max_bytes, seconds)
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            limit.take(chunk)
            write(chunk)
    finally:
        response.close()


class BodyLimit:
    """What one answer's body may be: at most ``max_bytes`` (``None``: no cap), all of it within
    ``seconds``; the same rule for every transport, sync and async."""

    __slots__ = ("max_bytes", "seconds", "deadline", "size")

    def __init__(self, max_bytes: int | None, seconds: float):
        self.max_bytes, self.seconds = max_bytes, seconds
        self.deadline = time.monotonic() + seconds
        self.size = 0

    def take(self, chunk: bytes) -> None:
        """Count a chunk in; raises when the body grows past the cap or the deadline passes."""
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise TransportError(f"the answer is larger than {self.max_bytes} bytes; refusing to read on")
        if time.monotonic() > self.deadline:
            raise ApiTimeoutError(f"the answer took longer than {self.seconds}s to arrive; gave up")
