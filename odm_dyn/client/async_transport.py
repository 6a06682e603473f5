"""Transports for ``AsyncClient``: what awaits a :class:`~odm_dyn.wire.messages.Request`'s answer.

The same one-method shape as the blocking transports (``transport.py``), awaited:
``await send(request, *, timeout, retries, retry_unsafe, sink) -> RawResponse`` and
``await aclose()``. :class:`AsyncBaseTransport` retries around :meth:`~AsyncBaseTransport.attempt`
with the decision of ``retry.py`` (:func:`~odm_dyn.client.retry.settle`); only its pause is
awaited instead of slept.

:class:`AsyncTransport` sends over httpx (the ``odm-dyn[async]`` extra): one ``httpx.AsyncClient``
per transport, so one connection pool, HTTP/1.1 with keep-alive. The target odm_dyn built (already
percent-encoded) is sent as it is (``raw_path``), redirects are not followed, cookies the server
sets are never sent back, and httpx's failures become the same odm_dyn errors, worded as
``Client``'s (:func:`~odm_dyn.client.failures.failure`). The credential values are hidden in
httpx's and httpcore's log records while it is open (httpx logs every URL at INFO, httpcore the
answers' headers at DEBUG).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import IO, Any, Iterable

from ..errors import TransportError
from ..secrets import LogFilter
from ..types import DEFAULT_TIMEOUT, Timeout
from ..wire.messages import RawResponse, Request
from .failures import failure, reason
from .retry import DEFAULT_RETRIES, RetryPolicy, settle
from .transport import DEFAULT_BODY_SECONDS, MAX_RESPONSE_BYTES, BodyLimit, Counting, streamed

log = logging.getLogger("odm_dyn.transport")
MAX_CONNECTIONS = 100  # per client: 200 waits at once share them, and every one is kept alive
INSTALL_HINT = "AsyncClient sends with httpx: pip install 'odm-dyn[async]'"


async def _sleep(seconds: float) -> None:
    """The pause between retries; tests patch this, never asyncio.sleep."""
    await asyncio.sleep(seconds)


class AsyncBaseTransport:
    """What ``AsyncClient`` needs of a transport: ``send`` and ``aclose`` (see the module)."""

    timeout: Timeout = DEFAULT_TIMEOUT
    retries: RetryPolicy = DEFAULT_RETRIES

    async def send(
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
        if not policy.allows(request.method, retry_unsafe):
            return await self.attempt(request, limit, sink)
        started, attempt = time.monotonic(), 0
        while True:
            try:
                outcome: RawResponse | TransportError = await self.attempt(request, limit, sink)
            except TransportError as error:
                outcome = error
            verdict = settle(policy, request, outcome, attempt, started)
            if isinstance(verdict, RawResponse):
                return verdict
            await _sleep(verdict)
            attempt += 1

    async def attempt(self, request: Request, timeout: Timeout, sink: IO[bytes] | None) -> RawResponse:
        """One try at sending ``request``; a failure raises a :class:`~odm_dyn.errors.TransportError`."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release what the transport holds (connections, the values it hides in logs)."""


class AsyncTransport(AsyncBaseTransport):
    """Sends requests to one base URL over httpx; one pool, shared by every task of a loop."""

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
        httpx = _httpx()
        self.base_url = base_url.rstrip("/")
        self.timeout = Timeout.of(timeout, DEFAULT_TIMEOUT)
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self.body_seconds = body_seconds
        self.session = session or httpx.AsyncClient(
            http1=True,
            http2=False,
            verify=tls_context(verify),
            follow_redirects=False,  # a redirect must not carry credentials elsewhere
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
        )
        self._base = httpx.URL(self.base_url)
        self._base_path = self._base.raw_path.decode("ascii").rstrip("/")
        self._log_filter = LogFilter(secrets, LogFilter.HTTPX_LOGGERS).install()

    def __repr__(self) -> str:
        return f"AsyncTransport({self.base_url!r})"

    async def aclose(self) -> None:
        """Close the pool's connections, and forget the credential values hidden in logs."""
        self._log_filter.remove()
        await self.session.aclose()

    async def attempt(self, request: Request, timeout: Timeout, sink: IO[bytes] | None) -> RawResponse:
        started = time.monotonic()
        try:
            response = await self.session.send(self._prepare(request, timeout), stream=True)
        except Exception as exc:  # noqa: BLE001 - mapped to odm_dyn's errors, or raised as it is
            raise self._failure(exc, request, opening=True) from None
        try:
            if sink is not None and 200 <= response.status_code < 300:
                counter = Counting(sink)
                await self._read(response, counter.write, None)
                return streamed(
                    response.status_code, response.reason_phrase, headers_of(response), counter.size, started
                )
            chunks: list[bytes] = []
            await self._read(response, chunks.append, self.max_response_bytes)
        except TransportError:
            raise
        except Exception as exc:  # noqa: BLE001 - a body that broke off is the exchange's failure
            raise self._failure(exc, request, opening=False) from None
        elapsed = time.monotonic() - started
        log.debug("%s %s -> %d (%.1f ms)", request.method, request.path, response.status_code, elapsed * 1000)
        return RawResponse(
            response.status_code, response.reason_phrase, headers_of(response), b"".join(chunks), elapsed
        )

    def _prepare(self, request: Request, timeout: Timeout) -> Any:
        httpx = _httpx()
        url = self._base.copy_with(raw_path=(self._base_path + request.target).encode("ascii"))
        limits = {"connect": timeout.connect, "read": timeout.read, "write": timeout.read, "pool": timeout.read}
        return httpx.Request(
            request.method, url, headers=request.headers, content=request.body, extensions={"timeout": limits}
        )

    async def _read(self, response: Any, write: Any, max_bytes: int | None) -> None:
        """Every chunk of the body to ``write``, within :class:`BodyLimit`; then the response closed."""
        limit = BodyLimit(max_bytes, self.body_seconds)
        try:
            async for chunk in response.aiter_bytes():  # as they come: a size would wait for it to fill
                limit.take(chunk)
                write(chunk)
        finally:
            await response.aclose()

    def _failure(self, exc: BaseException, request: Request, opening: bool) -> BaseException:
        """The odm_dyn error for an httpx failure (``opening``: before the answer's head arrived)."""
        httpx = _httpx()
        if isinstance(exc, TransportError):
            return exc
        hide = self._log_filter.hide
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return failure("connect-timeout", request, self.base_url)  # nothing was sent
        if isinstance(exc, httpx.TimeoutException):
            return failure("timeout" if opening else "stopped", request, self.base_url, type(exc).__name__)
        if isinstance(exc, (httpx.ConnectError, httpx.ProxyError)) or (
            opening and isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError))
        ):
            # Refused, reset or closed before any answer: as requests says, the server cannot be reached.
            return failure("unreachable", request, self.base_url, reason(exc, hide))
        if isinstance(exc, (httpx.HTTPError, httpx.StreamError, OSError, ValueError)):
            # A body that broke off is not an ApiConnectionError: a retry could append to a download's sink.
            return failure("failed", request, self.base_url, reason(exc, hide))
        return exc


def tls_context(verify: bool | str) -> Any:
    """``verify`` as httpx 0.28 takes it: a CA bundle (file or folder) becomes an SSL context."""
    if not isinstance(verify, str):
        return verify
    import os
    import ssl

    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def headers_of(response: Any) -> Any:
    """The answer's headers as ``Client`` gives them: names as sent, looked up in any case, a
    repeated header's values joined by ", " (httpx's own ``Headers`` lowercase names when listed)."""
    from requests.structures import CaseInsensitiveDict

    headers: Any = CaseInsensitiveDict()
    for raw_name, raw_value in response.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return httpx
