"""The direct route: a requests session's own urllib3 pool, without ``Session.send``'s per-call work.

Taken only when requests would do exactly the same (see :class:`DirectRoute`); failures are
raised as the requests exceptions ``HTTPAdapter.send`` raises, so the transport handles both
routes alike.
"""

from __future__ import annotations

import os
import sys
from types import MappingProxyType
from typing import Any, Iterator

from ..types import Timeout
from ..wire.messages import Request
from .connections import forget_after_fork, use_own_connections

_BYPASSED_ADAPTER_METHODS = (
    "send",
    "get_connection_with_tls_context",
    "build_connection_pool_key_attributes",
    "cert_verify",
    "request_url",
    "add_headers",
    "build_response",
)


class DirectRoute:
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

    def __init__(
        self, session: Any, adapter: Any, base_url: str, pool_key: tuple[dict, dict], options: dict, timeout: Any
    ):
        from urllib.parse import urlsplit

        self.session = session  # None: the transport's own pools (OwnPools), no session to consult
        self.adapter = adapter
        self.base_url = base_url
        self.verify, self.cert = options["verify"], options["cert"]
        self.https = base_url.lower().startswith("https")
        self.host_params, self.pool_kwargs = pool_key
        self.base_path = urlsplit(base_url).path
        self.default_timeout = timeout
        self.default_u3_timeout = urllib3_timeout(timeout)
        # What get_adapter chose the adapter from (none to consult on the transport's own pools).
        self._adapters = None if session is None else list(session.adapters.items())
        self._known: tuple[Any, Any] | None = None  # (pool manager, its pool for our URL)

    @classmethod
    def for_session(cls, session: Any, base_url: str, options: dict[str, Any], timeout: Any) -> DirectRoute | None:
        """The route, when taking it changes nothing that requests would do; else ``None``."""
        import requests
        from requests.adapters import HTTPAdapter
        from requests.utils import select_proxy

        for name in ("send", "get_adapter"):
            if getattr(type(session), name) is not getattr(requests.Session, name) or name in vars(session):
                return None  # a session that sends its own way (a test double, a wrapper) is used as it is
        adapter = session.get_adapter(base_url)
        if not isinstance(adapter, HTTPAdapter) or any(
            getattr(type(adapter), name) is not getattr(HTTPAdapter, name) for name in _BYPASSED_ADAPTER_METHODS
        ):
            return None
        if select_proxy(base_url, options["proxies"]):
            return None  # proxies (from the environment or the session) go through requests
        try:
            probe = requests.PreparedRequest()
            probe.url = base_url
            pool_key = adapter.build_connection_pool_key_attributes(probe, options["verify"], options["cert"])
            return cls(session, adapter, base_url, pool_key, options, timeout)
        except (ValueError, TypeError):
            return None  # a URL requests would refuse: let it say so, on the usual route

    @classmethod
    def own(cls, pools: OwnPools, base_url: str, timeout: Any) -> DirectRoute:
        """The route over a transport's own pools (``OwnPools.apply_to(base_url)`` said yes)."""
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        host_params = {"scheme": "http", "host": parts.hostname, "port": parts.port}
        return cls(None, pools, base_url, (host_params, {}), {"verify": True, "cert": None}, timeout)

    def usable(self) -> bool:
        """Whether the session still routes this URL to the same adapter (a later ``mount`` wins).

        ``Session.get_adapter`` takes the first of the session's adapters (prefix, adapter) whose
        prefix the URL starts with: while they are the same, in the same order, so is its choice
        (a comparison in C instead of a lower-casing loop on every call). The transport's own
        pools have no session to consult.
        """
        session = self.session
        return session is None or list(session.adapters.items()) == self._adapters

    def close(self) -> None:
        """Close the connections of the transport's own pools (a session's are the session's to close)."""
        if self.session is None:
            self.adapter.poolmanager.clear()

    def open(self, request: Request, timeout: Timeout) -> Any:
        """Send the request; a response object with what the transport reads of ``requests.Response``."""
        # No import statement runs here unless something is wrong: this is every call's path.
        body = request.body
        sent: Any = request.headers
        if body is not None:
            sent = {**sent, "Content-Length": str(len(body))}
        elif type(sent) is not MappingProxyType:  # a Request's own (read-only) view: urllib3 copies it itself
            sent = dict(sent)
        if len({name.lower() for name in sent}) != len(sent):
            # Names differing only in case: requests keeps the last value of each; so must we.
            from requests.structures import CaseInsensitiveDict

            sent = CaseInsensitiveDict(sent)
        u3_timeout = self.default_u3_timeout if timeout == self.default_timeout else urllib3_timeout(timeout)
        pool = self._pool()
        if self.https:
            self.adapter.cert_verify(pool, self.base_url, self.verify, self.cert)
        try:
            answer = pool.urlopen(
                method=request.method,
                url=(self.base_path + request.target) or "/",
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
        return DirectAnswer(answer)

    def _pool(self) -> Any:
        """The pool ``connection_from_host`` gives for the base URL, kept while it is open (its
        key-building, and even a look-up in the manager's locked container, are a dozen calls on
        every request otherwise).

        A pool leaves the manager only closed (evicted, ``clear()``, the session's ``close()``:
        the manager closes what it drops), and a closed pool has no ``pool`` of connections left;
        a new manager (after a fork) is seen by its identity. Either way the manager is asked again.
        """
        manager = self.adapter.poolmanager
        known = self._known
        if known is not None and known[0] is manager and known[1].pool is not None:
            return known[1]
        try:
            pool = manager.connection_from_host(**self.host_params, pool_kwargs=self.pool_kwargs)
        except Exception as exc:  # noqa: BLE001 - a LocationValueError is mapped, anything else raised
            raise _as_pool_error(exc) from None
        self._known = (manager, pool)
        return pool


class OwnPools:
    """A transport's own urllib3 pools, made as requests' ``HTTPAdapter`` makes them (10 pools
    of 10 connections, not blocking; ``Retry(0, read=False)``), with no requests imported.

    Used for a plain ``http://`` URL when no session is given and no proxy is configured: then
    requests would add nothing on the way (no proxy to choose, no TLS settings, no adapter of
    the caller's). The attributes are the ones ``client.connections`` reaches for in an
    adapter, so this module's connections and fresh pools after a fork apply here too.
    """

    _pool_connections = _pool_maxsize = 10
    _pool_block = False

    def __init__(self) -> None:
        from urllib3.util.retry import Retry

        self.max_retries = Retry(0, read=False)
        self.init_poolmanager(self._pool_connections, self._pool_maxsize, block=self._pool_block)
        use_own_connections(self)
        forget_after_fork(self)

    @property
    def adapters(self) -> dict[str, OwnPools]:
        """What ``use_own_connections`` and the fork hook walk. Made on each use, not kept: a
        dict holding ``self`` would be a cycle, and the sockets would wait for the collector."""
        return {"http://": self}

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False) -> None:
        import urllib3

        self.poolmanager = urllib3.PoolManager(num_pools=connections, maxsize=maxsize, block=block)

    @staticmethod
    def apply_to(base_url: str) -> bool:
        """Whether requests would add nothing to a call to ``base_url`` made without a session."""
        if not base_url.lower().startswith("http://") or os.name != "posix" or sys.platform == "darwin":
            return False  # TLS settings, and the system proxy settings of macOS and Windows, are requests' to read
        # requests (urllib's getproxies) takes a proxy from any environment variable named *_proxy.
        return not any(name.lower().endswith("_proxy") and value for name, value in os.environ.items())


def _as_pool_error(exc: Exception) -> Exception:
    """The requests exception ``HTTPAdapter.send`` raises when no pool can be made for the URL."""
    import requests
    from urllib3.exceptions import LocationValueError

    return requests.exceptions.InvalidURL(exc) if isinstance(exc, LocationValueError) else exc


def urllib3_timeout(timeout: Timeout) -> Any:
    from urllib3.util import Timeout as Urllib3Timeout

    return Urllib3Timeout(connect=timeout.connect, read=timeout.read)


def _as_requests_error(exc: Exception) -> Exception:
    """The requests exception ``HTTPAdapter.send`` raises for a urllib3 failure of ``urlopen``."""
    from requests import exceptions as rex
    from urllib3 import exceptions as u3

    if isinstance(exc, u3.MaxRetryError):
        return _as_retry_error(exc)
    for kind, mapped in (
        (u3.ProtocolError, rex.ConnectionError),
        (OSError, rex.ConnectionError),
        (u3.ClosedPoolError, rex.ConnectionError),
        (u3.ProxyError, rex.ProxyError),
        (u3.SSLError, rex.SSLError),
        (u3.ReadTimeoutError, rex.ReadTimeout),
        (u3.InvalidHeader, rex.InvalidHeader),
    ):
        if isinstance(exc, kind):
            return mapped(exc)
    return exc


def _as_retry_error(exc: Any) -> Exception:
    """A ``MaxRetryError`` by its reason, as ``HTTPAdapter.send`` maps it."""
    from requests import exceptions as rex
    from urllib3 import exceptions as u3

    cause = exc.reason
    if isinstance(cause, u3.ConnectTimeoutError) and not isinstance(cause, u3.NewConnectionError):
        return rex.ConnectTimeout(exc)
    for kind, mapped in (
        (u3.ResponseError, rex.RetryError),
        (u3.ProxyError, rex.ProxyError),
        (u3.SSLError, rex.SSLError),
    ):
        if isinstance(cause, kind):
            return mapped(exc)
    return rex.ConnectionError(exc)


class DirectAnswer:
    """The parts of ``requests.Response`` the transport reads, over a urllib3 response."""

    __slots__ = ("raw", "status_code", "reason", "headers", "_consumed")

    def __init__(self, raw: Any):
        self.raw = raw
        self.status_code = raw.status
        self.reason = raw.reason
        # urllib3's own header mapping: case-insensitive, repeated fields joined with ", ", as
        # requests' copy of it would be (a copy costs a lower-casing per field on every call).
        self.headers = raw.headers
        self._consumed = False

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """Decoded body chunks; failures become the requests exceptions ``iter_content`` raises."""
        raw = self.raw
        try:
            # A small body of a known length, sent as it is (no Content-Encoding: a compressed
            # one could inflate past the size cap in a single read): one read, not stream()'s
            # two rounds of buffering (a sixth of urllib3's work on a small answer).
            length = raw.length_remaining
            if length is not None and length <= chunk_size and "Content-Encoding" not in raw.headers:
                yield raw.read(decode_content=False)
            else:
                yield from raw.stream(chunk_size, decode_content=True)
        except Exception as exc:  # noqa: BLE001 - mapped as iter_content maps it, or raised as it is
            raise _as_stream_error(exc) from None
        self._consumed = True

    def close(self) -> None:
        # As requests.Response.close: an unread body closes the connection; a read one goes back to the pool.
        if not self._consumed:
            self.raw.close()
        self.raw.release_conn()


def _as_stream_error(exc: Exception) -> Exception:
    """The requests exception ``Response.iter_content`` raises for a urllib3 failure of ``stream``."""
    from requests import exceptions as rex
    from urllib3 import exceptions as u3

    for kind, mapped in (
        (u3.ProtocolError, rex.ChunkedEncodingError),
        (u3.DecodeError, rex.ContentDecodingError),
        (u3.ReadTimeoutError, rex.ConnectionError),
        (u3.SSLError, rex.SSLError),
    ):
        if isinstance(exc, kind):
            return mapped(exc)
    return exc
