"""HTTP transport: one ``requests.Session`` per client, timeouts, retries, no secrets logged.

The session's environment settings (proxies, ``REQUESTS_CA_BUNDLE``, ``NO_PROXY``) are
resolved once, when the transport is made, instead of on every call as
``Session.request`` does; requests are prepared directly so that the URL odm_dyn built
(already percent-encoded) is sent as it is, never re-quoted or normalised.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator

from ..errors import ApiConnectionError, ApiTimeoutError, TransportError
from ..secrets import hide_credentials
from ..wire.messages import RawResponse

log = logging.getLogger("odm_dyn.transport")


# The waits of retries and their jitter: tests patch these, never the time and random modules
# (a patched time.sleep would change every thread, test servers included).
def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _jitter(low: float, high: float) -> float:
    return random.uniform(low, high)


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
DEFAULT_BODY_SECONDS = 600.0  # the whole body of one answer must arrive within this
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often to retry.

    ``total``: retries after the first attempt; ``backoff``: first delay in seconds, doubled
    each time with full jitter, at most ``max_backoff``; ``retry_after_cap``: the longest
    ``Retry-After`` honoured; ``total_time``: no retry is made whose wait would end after this
    many seconds from the first attempt (a longer ``Retry-After`` ends the retries at once);
    ``methods``: methods retried (``publishAllStudies`` is a POST: not retried unless asked).
    """

    total: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    retry_after_cap: float = 30.0
    total_time: float = 60.0
    statuses: frozenset[int] = RETRY_STATUSES
    methods: frozenset[str] = IDEMPOTENT_METHODS

    def allows(self, method: str, retry_unsafe: bool) -> bool:
        return self.total > 0 and (retry_unsafe or method in self.methods)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        wait = parse_retry_after(retry_after)
        if wait is not None:
            return min(wait, self.retry_after_cap)
        return _jitter(0, min(self.max_backoff, self.backoff * 2**attempt))


NO_RETRIES = RetryPolicy(total=0)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Transport:
    """Sends prepared requests to one base URL; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        retries: RetryPolicy = RetryPolicy(),
        verify: bool | str = True,
        session: Any = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        body_seconds: float = DEFAULT_BODY_SECONDS,
    ):
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = bounded_timeout(timeout, DEFAULT_TIMEOUT)
        self.body_seconds = body_seconds
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self.session = session or requests.Session()
        _quiet_wire_dumps(self.session)
        settings = self.session.merge_environment_settings(self.base_url, {}, False, verify, None)
        self._send_options = {
            "proxies": settings["proxies"],
            "verify": settings["verify"],
            "cert": settings["cert"],
            "allow_redirects": False,  # a redirect must not carry credentials elsewhere
        }
        self._direct = _DirectRoute.for_session(self.session, self.base_url, self._send_options, self.timeout)

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def send(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None = None,
        *,
        timeout: Any = None,
        retry_unsafe: bool = False,
        retries: RetryPolicy | None = None,
        sink: IO[bytes] | None = None,
    ) -> RawResponse:
        """Send ``method target`` (path and query), retrying by the policy.

        With ``sink``, a success (2xx) answer's body is written there chunk by chunk instead of
        being kept (``content`` is then empty and ``extra["streamed"]`` counts the bytes).
        """
        policy = retries or self.retries
        may_retry = policy.allows(method, retry_unsafe)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self._send_once(method, target, headers, body, timeout, sink)
            except TransportError as exc:
                if not (may_retry and _nothing_sent(exc)) or attempt >= policy.total:
                    raise
                wait = policy.delay(attempt, None)
                if not self._in_time(policy, started, wait):
                    raise
                log.warning(
                    "%s %s failed (%s); retry %d of %d in %.2fs",
                    method,
                    _path(target),
                    type(exc).__name__,
                    attempt + 1,
                    policy.total,
                    wait,
                )
            else:
                retry = may_retry and response.status in policy.statuses and attempt < policy.total
                wait = policy.delay(attempt, response.headers.get("Retry-After")) if retry else 0.0
                if not retry or not self._in_time(policy, started, wait):
                    response.attempts = attempt + 1
                    return response
                log.warning(
                    "%s %s answered %d; retry %d of %d in %.2fs",
                    method,
                    _path(target),
                    response.status,
                    attempt + 1,
                    policy.total,
                    wait,
                )
            _sleep(wait)
            attempt += 1

    @staticmethod
    def _in_time(policy: RetryPolicy, started: float, wait: float) -> bool:
        return time.monotonic() - started + wait < policy.total_time

    def _send_once(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: Any,
        sink: IO[bytes] | None = None,
    ) -> RawResponse:
        import requests

        started = time.monotonic()
        try:
            limit = self.timeout if timeout is None else bounded_timeout(timeout, DEFAULT_TIMEOUT)
            response = self._open(method, target, headers, body, limit)
            if sink is not None and 200 <= response.status_code < 300:
                return self._stream_body(response, sink, started)
            chunks: list[bytes] = []
            self._read_body(response, chunks.append, self.max_response_bytes)
            content = b"".join(chunks)
        except requests.exceptions.ConnectTimeout:
            raise ApiTimeoutError(
                f"{method} {_path(target)}: could not connect to {self.base_url} in time; "
                "raise the timeout with _request_timeout= or Client(timeout=...)",
                connect=True,
            ) from None
        except requests.exceptions.Timeout as exc:
            raise ApiTimeoutError(
                f"{method} {_path(target)}: no answer from {self.base_url} in time ({type(exc).__name__}); "
                "raise the timeout with _request_timeout= or Client(timeout=...)"
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.SSLError) as exc:
            if _is_read_timeout(exc):  # requests reports a body that stopped coming as a ConnectionError
                raise ApiTimeoutError(
                    f"{method} {_path(target)}: {self.base_url} stopped sending its answer; "
                    "raise the timeout with _request_timeout= or Client(timeout=...)"
                ) from None
            raise ApiConnectionError(
                f"{method} {_path(target)}: cannot reach {self.base_url}: {_reason(exc)}"
            ) from None
        except (requests.exceptions.RequestException, OSError, ValueError, http.client.HTTPException) as exc:
            # Whatever else the stack below raises on a broken exchange is still ours to name.
            raise TransportError(
                f"{method} {_path(target)}: the exchange with {self.base_url} failed: {_reason(exc)}"
            ) from None
        elapsed = time.monotonic() - started
        log.debug("%s %s -> %d (%.1f ms)", method, _path(target), response.status_code, elapsed * 1000)
        return RawResponse(response.status_code, response.reason or "", response.headers, content, elapsed)

    def _open(self, method: str, target: str, headers: dict[str, str], body: bytes | None, timeout: Any) -> Any:
        """Send one request: on the direct route when it applies, else through ``Session.send``."""
        direct = self._direct
        if direct is not None and direct.usable():
            return direct.open(method, target, headers, body, timeout)
        return self.session.send(
            self._prepare(method, target, headers, body), timeout=timeout, stream=True, **self._send_options
        )

    def _prepare(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> Any:
        import requests

        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = self.base_url + target
        prepared.headers = requests.structures.CaseInsensitiveDict(headers)
        prepared.body = body
        if body is not None:
            prepared.headers["Content-Length"] = str(len(body))
        prepared.hooks = {"response": []}
        prepared._cookies = None
        return prepared

    def _stream_body(self, response: Any, sink: IO[bytes], started: float) -> RawResponse:
        import requests

        size = 0

        def write(chunk: bytes) -> None:
            nonlocal size
            sink.write(chunk)
            size += len(chunk)

        try:
            self._read_body(response, write)
        except requests.exceptions.RequestException as exc:
            # Not an ApiConnectionError: a retry would append to what the sink already holds.
            raise TransportError(f"the download broke off after {size} bytes: {_reason(exc)}") from None
        raw = RawResponse(response.status_code, response.reason or "", response.headers, b"")
        raw.elapsed, raw.extra["streamed"] = time.monotonic() - started, size
        return raw

    def _read_body(self, response: Any, write: Callable[[bytes], Any], max_bytes: int | None = None) -> None:
        """Hand every chunk of the body to ``write``, then close the response.

        The read timeout bounds each wait for data; a server trickling bytes forever is stopped
        by the deadline for the whole body (``body_seconds``) and, when given, the size cap.
        """
        size = 0
        deadline = time.monotonic() + self.body_seconds
        try:
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TransportError(f"the answer is larger than {max_bytes} bytes; refusing to read on")
                if time.monotonic() > deadline:
                    raise ApiTimeoutError(f"the answer took longer than {self.body_seconds}s to arrive; gave up")
                write(chunk)
        finally:
            response.close()


def _quiet_wire_dumps(session: Any) -> None:
    """Connections that never print http.client's wire dump (``HTTPConnection.debuglevel``):
    it prints every header, tokens included, to stdout."""
    import urllib3
    import urllib3.connection

    class HTTPConnection(urllib3.connection.HTTPConnection):  # named as the base: error messages read the same
        debuglevel = 0

    class HTTPSConnection(urllib3.connection.HTTPSConnection):
        debuglevel = 0

    class HTTPConnectionPool(urllib3.HTTPConnectionPool):
        ConnectionCls = HTTPConnection

    class HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = HTTPSConnection

    quiet = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
    for adapter in getattr(session, "adapters", {}).values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = quiet


def bounded_timeout(value: Any, default: tuple[float, float]) -> float | tuple[float, float]:
    """A timeout that always ends: ``None`` (or a ``None`` part) means the default, never "wait forever"."""
    if value is None:
        return default
    if isinstance(value, (tuple, list)):
        connect, read = value
        return (default[0] if connect is None else connect, default[1] if read is None else read)
    return value


def _is_read_timeout(exc: BaseException) -> bool:
    import urllib3

    cause = exc.args[0] if exc.args else None
    return isinstance(cause, urllib3.exceptions.ReadTimeoutError)


def _nothing_sent(exc: TransportError) -> bool:
    """Whether the request never left: a refused, reset-before-sending or timed-out connect."""
    return isinstance(exc, ApiConnectionError) or (isinstance(exc, ApiTimeoutError) and exc.connect)


def _path(target: str) -> str:
    return target.split("?", 1)[0]


def _reason(exc: BaseException, limit: int = 200) -> str:
    """A short cause: the innermost exception's class and message (``ConnectionRefusedError:
    [Errno 111] Connection refused``), without any URL's query (it may hold credentials or
    values the caller passed) and without the wrappers' object reprs."""
    inner = _innermost(exc)
    text = " ".join(str(inner).split())
    text = _OBJECT_REPR.sub("", text).strip(" :")
    text = hide_credentials(_URL_QUERY.sub(r"\1", text))
    text = _shorten(text, limit)
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


def _shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut between words and before any quote or bracket left open."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    while True:
        for opener, closer in (("(", ")"), ("[", "]"), ("{", "}"), ("'", "'"), ('"', '"')):
            count = cut.count(opener)
            if (count % 2) if opener == closer else count > cut.count(closer):
                cut = cut[: cut.rfind(opener)].rstrip()
                break
        else:
            return cut + " …"


def _innermost(exc: BaseException) -> BaseException:
    """The root cause under requests' and urllib3's wrappers (``reason``, ``args[0]``, ``__cause__``)."""
    seen = {id(exc)}
    while True:
        reason = getattr(exc, "reason", None)
        first = exc.args[0] if exc.args else None
        for candidate in (reason, first, exc.__cause__):
            if isinstance(candidate, BaseException) and id(candidate) not in seen:
                break
        else:
            return exc
        seen.add(id(candidate))
        exc = candidate


_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?")


_URL_QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\")]*")


# --------------------------------------------------------------------------- the direct route


_BYPASSED_ADAPTER_METHODS = (
    "send",
    "get_connection_with_tls_context",
    "build_connection_pool_key_attributes",
    "cert_verify",
    "request_url",
    "add_headers",
    "build_response",
)


class _DirectRoute:
    """The session's own urllib3 pool, called the way ``HTTPAdapter.send`` calls it.

    ``Session.send`` and ``HTTPAdapter.send`` redo per call what is fixed for a transport
    (URL parsing, proxy selection, pool-key building, two cookie-jar extractions, hooks):
    about a third of a small call's CPU. The session still owns the pools, TLS settings and
    certificates; this route is taken only when requests would do exactly the same: the
    session's stock ``send``, an adapter whose sending methods are ``HTTPAdapter``'s, and no
    proxy for the URL. Failures are raised as the requests exceptions ``HTTPAdapter.send``
    raises, so the caller handles both routes alike. (Cookies the server sets are not put in
    the session's jar: odm_dyn never sends the jar's cookies anyway.)
    """

    def __init__(self, session: Any, adapter: Any, base_url: str, options: dict[str, Any], timeout: Any):
        from urllib.parse import urlsplit

        import requests

        self.session = session
        self.adapter = adapter
        self.base_url = base_url
        self.verify, self.cert = options["verify"], options["cert"]
        self.https = base_url.lower().startswith("https")
        probe = requests.PreparedRequest()
        probe.url = base_url
        self.host_params, self.pool_kwargs = adapter.build_connection_pool_key_attributes(probe, self.verify, self.cert)
        self.base_path = urlsplit(base_url).path
        self.default_timeout = timeout
        self.default_u3_timeout = _urllib3_timeout(timeout)

    @classmethod
    def for_session(cls, session: Any, base_url: str, options: dict[str, Any], timeout: Any) -> _DirectRoute | None:
        """The route, when taking it changes nothing that requests would do; else ``None``."""
        import requests
        from requests.adapters import HTTPAdapter
        from requests.utils import select_proxy

        if type(session).send is not requests.Session.send or "send" in vars(session):
            return None  # a session that sends its own way (a test double, a wrapper) is used as it is
        adapter = session.get_adapter(base_url)
        if not isinstance(adapter, HTTPAdapter) or any(
            getattr(type(adapter), name) is not getattr(HTTPAdapter, name) for name in _BYPASSED_ADAPTER_METHODS
        ):
            return None
        if select_proxy(base_url, options["proxies"]):
            return None  # proxies (from the environment or the session) go through requests
        try:
            return cls(session, adapter, base_url, options, timeout)
        except (ValueError, TypeError):
            return None  # a URL requests would refuse: let it say so, on the usual route

    def usable(self) -> bool:
        """Whether the session still routes this URL to the same adapter (a later ``mount`` wins)."""
        return self.session.get_adapter(self.base_url) is self.adapter

    def open(self, method: str, target: str, headers: dict[str, str], body: bytes | None, timeout: Any) -> Any:
        """Send the request; a response object with what the transport reads of ``requests.Response``."""
        import requests
        from urllib3.exceptions import LocationValueError

        sent = dict(headers)
        if body is not None:
            sent["Content-Length"] = str(len(body))
        if len({name.lower() for name in sent}) != len(sent):
            # Names differing only in case: requests keeps the last value of each; so must we.
            sent = requests.structures.CaseInsensitiveDict(sent)
        u3_timeout = self.default_u3_timeout if timeout == self.default_timeout else _urllib3_timeout(timeout)
        try:
            pool = self.adapter.poolmanager.connection_from_host(**self.host_params, pool_kwargs=self.pool_kwargs)
        except LocationValueError as exc:
            raise requests.exceptions.InvalidURL(exc) from None
        if self.https:
            self.adapter.cert_verify(pool, self.base_url, self.verify, self.cert)
        try:
            answer = pool.urlopen(
                method=method,
                url=(self.base_path + target) or "/",
                body=body,
                headers=sent,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=self.adapter.max_retries,
                timeout=u3_timeout,
                chunked=False,
            )
        except Exception as exc:  # noqa: BLE001 - mapped exactly as HTTPAdapter.send maps them
            raise _as_requests_error(exc) from None
        return _DirectAnswer(answer)


def _urllib3_timeout(timeout: Any) -> Any:
    from urllib3.util import Timeout

    if isinstance(timeout, tuple):
        connect, read = timeout
        return Timeout(connect=connect, read=read)
    return Timeout(connect=timeout, read=timeout)


def _as_requests_error(exc: Exception) -> Exception:
    """The requests exception ``HTTPAdapter.send`` raises for a urllib3 failure of ``urlopen``."""
    from requests import exceptions as rex
    from urllib3 import exceptions as u3

    if isinstance(exc, (u3.ProtocolError, OSError)):
        return rex.ConnectionError(exc)
    if isinstance(exc, u3.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
            return rex.ConnectTimeout(exc)
        if isinstance(reason, u3.ResponseError):
            return rex.RetryError(exc)
        if isinstance(reason, u3.ProxyError):
            return rex.ProxyError(exc)
        if isinstance(reason, u3.SSLError):
            return rex.SSLError(exc)
        return rex.ConnectionError(exc)
    if isinstance(exc, u3.ClosedPoolError):
        return rex.ConnectionError(exc)
    if isinstance(exc, u3.ProxyError):
        return rex.ProxyError(exc)
    if isinstance(exc, u3.SSLError):
        return rex.SSLError(exc)
    if isinstance(exc, u3.ReadTimeoutError):
        return rex.ReadTimeout(exc)
    if isinstance(exc, u3.InvalidHeader):
        return rex.InvalidHeader(exc)
    return exc


class _DirectAnswer:
    """The parts of ``requests.Response`` the transport reads, over a urllib3 response."""

    __slots__ = ("raw", "status_code", "reason", "headers", "_consumed")

    def __init__(self, raw: Any):
        from requests.structures import CaseInsensitiveDict

        self.raw = raw
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = CaseInsensitiveDict(raw.headers)
        self._consumed = False

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """Decoded body chunks; failures become the requests exceptions ``iter_content`` raises."""
        from requests import exceptions as rex
        from urllib3 import exceptions as u3

        try:
            yield from self.raw.stream(chunk_size, decode_content=True)
        except u3.ProtocolError as exc:
            raise rex.ChunkedEncodingError(exc) from None
        except u3.DecodeError as exc:
            raise rex.ContentDecodingError(exc) from None
        except u3.ReadTimeoutError as exc:
            raise rex.ConnectionError(exc) from None
        except u3.SSLError as exc:
            raise rex.SSLError(exc) from None
        self._consumed = True

    def close(self) -> None:
        # As requests.Response.close: an unread body closes the connection; a read one goes back to the pool.
        if not self._consumed:
            self.raw.close()
        self.raw.release_conn()
