"""An in-process transport: calls a WSGI application directly, without a socket.

    from odm_dyn.client.wsgi import WsgiTransport
    from odm_dyn.server import make_app

    app = make_app(tokens=["t0ken"])
    client = odm_dyn.Client("http://testserver", token="t0ken", transport=WsgiTransport(app))

The request goes to ``app(environ, start_response)`` as an HTTP server would hand it over (the
target as sent in ``RAW_URI``, headers as ``HTTP_*``, the body in ``wsgi.input``); the answer
is read the way :class:`~odm_dyn.client.transport.Transport` reads one: the same size cap,
the same ``sink`` for downloads, the same retries. Timeouts do not apply: nothing waits on a
network. An exception the app raises reaches the caller as a
:class:`~odm_dyn.errors.TransportError` naming it.
"""

from __future__ import annotations

import io
import sys
import time
from typing import IO, Any, Callable, Iterable
from urllib.parse import unquote, urlsplit

from ..errors import OdmError, TransportError
from ..types import Timeout
from ..wire.messages import RawResponse, Request
from .failures import reason
from .retry import DEFAULT_RETRIES, RetryPolicy
from .transport import DEFAULT_BODY_SECONDS, MAX_RESPONSE_BYTES, BaseTransport, Counting, read_body, streamed

WsgiApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


class WsgiTransport(BaseTransport):
    """Sends requests to a WSGI application in this process; ``base_url`` says which server
    the app believes it is (host, port, scheme, and a path prefix the app is mounted at)."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        base_url: str = "http://testserver",
        retries: RetryPolicy = DEFAULT_RETRIES,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ):
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self._base = _environ_base(self.base_url)

    def __repr__(self) -> str:
        return f"WsgiTransport({self.app!r})"

    def close(self) -> None:
        """Nothing to release: the app belongs to the caller."""

    def attempt(self, request: Request, timeout: Timeout, sink: IO[bytes] | None) -> RawResponse:
        """Call the app once with ``request``; ``timeout`` does not apply in-process."""
        started = time.monotonic()
        answer = _Answer()
        try:
            body = _Body(self.app(self._environ(request), answer.start))
            return self._read(answer, body, sink, started)
        except OdmError:
            raise
        except Exception as exc:  # noqa: BLE001 - the app's failure (at once or in its body) is the exchange's
            raise TransportError(f"{request.method} {request.path}: the WSGI app failed: {reason(exc)}") from None

    def _read(self, answer: _Answer, body: _Body, sink: IO[bytes] | None, started: float) -> RawResponse:
        if sink is not None and 200 <= answer.status < 300:
            counter = Counting(sink)
            read_body(body, counter.write, None, DEFAULT_BODY_SECONDS)
            return streamed(answer.status, answer.reason, answer.headers, counter.size, started)
        parts: list[bytes] = []
        read_body(body, parts.append, self.max_response_bytes, DEFAULT_BODY_SECONDS)
        return RawResponse(answer.status, answer.reason, answer.headers, b"".join(parts), time.monotonic() - started)

    def _environ(self, request: Request) -> dict[str, Any]:
        """The WSGI environ of a request (PEP 3333), as a server on ``base_url`` would make it."""
        path, _, query = request.target.partition("?")
        body = request.body or b""
        environ = dict(self._base)
        environ.update(
            {
                "REQUEST_METHOD": request.method,
                "PATH_INFO": unquote(path, "latin-1"),
                "QUERY_STRING": query,
                "RAW_URI": self._base["SCRIPT_NAME"] + request.target,
                "CONTENT_LENGTH": str(len(body)) if request.body is not None else "",
                "wsgi.input": io.BytesIO(body),
            }
        )
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ["HTTP_" + key] = value
        return environ


class _Body:
    """The app's iterable, read the way a transport reads a response's body."""

    def __init__(self, chunks: Iterable[bytes]):
        self.chunks = chunks

    def iter_content(self, chunk_size: int) -> Iterable[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        getattr(self.chunks, "close", lambda: None)()  # PEP 3333: the server calls close()


class _Answer:
    """What the app gave ``start_response``."""

    status = 500
    reason = ""
    headers: Any = None

    def start(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        from requests.structures import CaseInsensitiveDict

        code, _, self.reason = status.partition(" ")
        self.status = int(code)
        self.headers = CaseInsensitiveDict(headers)
        return _no_write


def _no_write(data: bytes) -> None:
    raise TransportError("the WSGI app used write(); odm_dyn's in-process transport reads only the returned body")


def _environ_base(base_url: str) -> dict[str, Any]:
    parts = urlsplit(base_url)
    https = parts.scheme == "https"
    return {
        "SERVER_NAME": parts.hostname or "testserver",
        "SERVER_PORT": str(parts.port or (443 if https else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SCRIPT_NAME": parts.path.rstrip("/"),
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
