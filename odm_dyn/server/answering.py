"""Answering the requests of one connection: waitress's parser fed, the WSGI app called, the
answer framed and sent. The serving (``httpd.py``) decides which thread does it and when.

Framing of answers: ``Content-Length`` when the whole answer is known or the app gives one;
otherwise chunked for HTTP/1.1 and close for 1.0; no body for HEAD, 1xx, 204 and 304; the
connection is closed after HTTP/1.0 without keep-alive, ``Connection: close``, any refusal, and
an answer shorter than its declared length. Hop-by-hop headers from the app are dropped
(framing is the server's). Every refusal is JSON: ``{"status", "error", "message"}``.
Refusals come from the parser (waitress's and :class:`_Parser`'s) and from :meth:`Answering._refusal`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Callable, Iterable, Iterator

from waitress.parser import HTTPRequestParser, ParsingError
from waitress.utilities import BadRequest

from ..secrets import hide_queries

log = logging.getLogger("odm_dyn.server")

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

WHOLE_SEND_BYTES = 65536  # an answer up to this size goes out in one send, head and body joined
_VERSIONS = ("1.0", "1.1")
_NO_BODY = ("1", "204", "304")  # status prefixes whose answers carry no body (RFC 9110 6.4.1)
_FRAMING = frozenset(
    ("connection", "content-length", "keep-alive", "proxy-authenticate", "proxy-authorization", "te")
    + ("trailer", "trailers", "transfer-encoding", "upgrade")
)
# Proxy headers from a client: no proxy is trusted here, so they never reach the app.
_UNTRUSTED = frozenset(("X_FORWARDED_FOR", "X_FORWARDED_HOST", "X_FORWARDED_PROTO", "X_FORWARDED_PORT"))
_UNTRUSTED |= {"X_FORWARDED_BY", "FORWARDED"}
_UNPREFIXED = frozenset(("CONTENT_LENGTH", "CONTENT_TYPE"))
_CRLF = re.compile(r"[\r\n]")


@dataclass
class Settings:
    """How the server serves; read as it serves, so a test may shorten a timeout on a live server.

    The last three names are the ones waitress's parser reads from its adjustments."""

    threads: int = 8
    connection_limit: int = 1000
    idle_seconds: float = 20.0
    request_seconds: float = 30.0
    send_seconds: float = 30.0
    linger_seconds: float = 0.02
    poll_seconds: float = 0.2
    max_headers: int = 100
    ident: str = "odm-dyn"
    max_request_header_size: int = 64 * 1024
    max_request_body_size: int = 16 * 1024 * 1024
    inbuf_overflow: int = 512 * 1024  # a body buffered in memory up to this, then in a temporary file
    url_scheme: str = "http"


class _Parser(HTTPRequestParser):
    """waitress's request parser, stricter: a head with both Content-Length and
    Transfer-Encoding is refused (RFC 9112 6.1: either may be how a smuggled request hides),
    a target ``urlsplit`` cannot read (``http://[::1/``) is a 400, a TLS handshake is refused at
    once; and it knows when its request began (for the request deadline)."""

    def __init__(self, adj: Settings):
        super().__init__(adj)
        self.began = time.monotonic()

    def received(self, data: bytes) -> int:
        if not self.header_plus and not self.completed and data.startswith(b"\x16\x03"):  # type: ignore[has-type]
            # A TLS handshake would wait for a blank line that never comes: say so at once, in
            # plain HTTP, so the client's TLS layer fails at once too ("wrong version number").
            self.error = BadRequest("a TLS handshake: this server speaks plain HTTP")
            self.completed = True
            return len(data)
        return int(super().received(data))

    def parse_header(self, header_plus: bytes) -> None:
        lowered = header_plus.lower()
        if b"transfer-encoding" in lowered and b"content-length" in lowered:  # cheap test first
            names = {line.split(b":", 1)[0].strip() for line in re.split(rb"\r?\n", lowered)[1:]}
            if b"content-length" in names and b"transfer-encoding" in names:
                raise ParsingError("Content-Length and Transfer-Encoding together")
        try:
            super().parse_header(header_plus)
        except ValueError as exc:
            raise ParsingError(f"the request target cannot be read ({exc})") from None


class _Connection:
    """One client connection: its socket, the request being parsed, when it last sent bytes."""

    __slots__ = ("sock", "base", "parser", "last_activity")

    def __init__(self, sock: socket.socket, base: dict[str, Any]):
        self.sock = sock
        self.base = base  # the environ keys that are the same for every request on it
        self.parser: _Parser | None = None
        self.last_activity = time.monotonic()


class _Reply:
    """What the app said through ``start_response``."""

    __slots__ = ("status", "headers", "written", "sent", "close")

    def __init__(self) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []  # through the legacy write() callable
        self.sent = False
        self.close = False  # the app asked for the connection to be closed after this answer

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.written.append


_CLOSED, _PARTIAL, _SERVED = "closed", "partial", "served"


class Answering:
    """The worker's side of :class:`~odm_dyn.server.httpd.HttpServer`: what it does with the bytes
    a connection sent. Needs ``app`` and ``settings``."""

    app: WsgiApp
    settings: Settings

    def _received(self, connection: _Connection, data: bytes) -> str:
        """Feed ``data`` to the parser and answer each request it completes, in order;
        ``_CLOSED`` when the connection must be closed now."""
        connection.last_activity = time.monotonic()
        served = False
        while data:
            parser = connection.parser
            if parser is None:
                parser = connection.parser = _Parser(self.settings)
            used = parser.received(data)
            if parser.completed:
                connection.parser = None
                if not parser.empty:
                    if not self._answer(connection, parser):
                        return _CLOSED  # the caller closes it
                    served = True
            elif used <= 0:  # never seen: the parser always takes what it is given until complete
                break
            data = data[used:]
        if connection.parser is not None and not self._awaiting(connection, connection.parser):
            return _CLOSED
        return _SERVED if served else _PARTIAL

    def _awaiting(self, connection: _Connection, parser: _Parser) -> bool:
        """A request begun: ``100 Continue`` if its client waits for one; False when overdue."""
        if parser.expect_continue and parser.headers_finished:
            parser.expect_continue = False
            self._send(connection, b"HTTP/1.1 100 Continue\r\n\r\n", time.monotonic() + self.settings.send_seconds)
        if time.monotonic() - parser.began > self.settings.request_seconds:
            log.info("dropped a request not arrived %s s after it began", self.settings.request_seconds)
            return False
        return True

    def _answer(self, connection: _Connection, parser: _Parser) -> bool:
        """Answer one complete request; whether the connection may carry another."""
        try:
            refusal = self._refusal(parser)
            if refusal is not None:
                return self._refuse(connection, *refusal)
            return self._respond(connection, parser, self._environ(connection, parser))
        finally:
            parser.close()

    def _refusal(self, parser: _Parser) -> tuple[int, str, str] | None:
        error = parser.error
        if error is not None:
            # waitress's detail names the fault, never a header's value; any query in it is cut.
            detail = hide_queries(str(error.body or ""))[:80]
            return error.code, error.reason, f"{error.reason}: {detail}" if detail else error.reason
        if parser.version not in _VERSIONS:
            return 505, "HTTP Version Not Supported", "HTTP Version Not Supported"
        if len(parser.headers) > self.settings.max_headers:
            return 431, "Request Header Fields Too Large", "Request Header Fields Too Large"
        return None

    def _refuse(self, connection: _Connection, code: int, reason: str, message: str) -> bool:
        """A JSON refusal, and the connection closed after it (the stream may be out of step)."""
        log.warning("refused a malformed request: %d %s", code, message)
        body = json.dumps({"status": code, "error": reason, "message": message}).encode()
        head = f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        data = (head + "Connection: close\r\n" + self._fixed_headers()).encode("latin-1") + body
        self._send(connection, data, time.monotonic() + self.settings.send_seconds)
        try:
            connection.sock.shutdown(socket.SHUT_WR)  # the answer first, then the end of the stream
        except OSError:
            pass
        return False

    def _environ(self, connection: _Connection, parser: _Parser) -> dict[str, Any]:
        """The WSGI environ of a request, as waitress's own task builds it (no proxy trusted)."""
        environ = connection.base.copy()
        path = parser.path
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        environ["REQUEST_METHOD"] = parser.command
        environ["PATH_INFO"] = path
        environ["QUERY_STRING"] = parser.query
        environ["REQUEST_URI"] = parser.request_uri
        environ["SERVER_PROTOCOL"] = f"HTTP/{parser.version}"
        environ["wsgi.input"] = parser.get_body_stream()
        environ["odm_dyn.http_version"] = parser.version  # as sent
        for key, value in parser.headers.items():
            if key in _UNTRUSTED:
                continue
            name = key if key in _UNPREFIXED else "HTTP_" + key
            if name not in environ:
                environ[name] = value
        return environ

    def _respond(self, connection: _Connection, parser: _Parser, environ: dict[str, Any]) -> bool:
        reply = _Reply()
        try:
            body = self.app(environ, reply.start_response)
        except Exception:
            log.exception("the app failed on %s %s", parser.command, parser.path)
            return self._refuse(connection, 500, "Internal Server Error", "the server failed unexpectedly")
        try:
            if isinstance(body, (list, tuple)):
                return self._send_whole(connection, parser, reply, reply.written + list(body))
            return self._send_streamed(connection, parser, reply, iter(body))
        except OSError:
            raise
        except Exception:
            log.exception("the app's answer to %s %s failed", parser.command, parser.path)
            if reply.sent:
                return False
            return self._refuse(connection, 500, "Internal Server Error", "the server failed unexpectedly")
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _send_whole(self, connection: _Connection, parser: _Parser, reply: _Reply, chunks: list[bytes]) -> bool:
        """An answer whose body is known whole: its length is exact, whatever the app declared."""
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        lines, declared = _app_headers(reply)
        keep = not (parser.connection_close or reply.close)
        if reply.status.startswith(_NO_BODY):
            body = b""
        else:
            length = declared if parser.command == "HEAD" and declared is not None else len(body)
            lines.append(f"Content-Length: {length}\r\n")
            if parser.command == "HEAD":
                body = b""
        head = self._head(reply, lines, parser, keep)
        deadline = time.monotonic() + self.settings.send_seconds
        reply.sent = True
        if len(body) <= WHOLE_SEND_BYTES:
            self._send(connection, head + body, deadline)
        else:
            self._send(connection, head, deadline)
            self._send(connection, body, deadline)
        return keep

    def _send_streamed(self, connection: _Connection, parser: _Parser, reply: _Reply, body: Iterator[bytes]) -> bool:
        """An answer the app yields piece by piece: sent as it comes (PEP 3333: the head with
        the first non-empty piece), framed by the app's length, by chunks, or by the close."""
        first = next((chunk for chunk in body if chunk), b"")
        if not first:
            return self._send_whole(connection, parser, reply, reply.written)
        if parser.command == "HEAD" or reply.status.startswith(_NO_BODY):
            return self._send_whole(connection, parser, reply, reply.written + [first, *body])
        lines, declared = _app_headers(reply)
        chunked = declared is None and parser.version == "1.1"
        keep = not (parser.connection_close or reply.close) and (declared is not None or chunked)
        lines.append(f"Content-Length: {declared}\r\n" if declared is not None else "")
        lines.append("Transfer-Encoding: chunked\r\n" if chunked else "")
        deadline = time.monotonic() + self.settings.send_seconds
        reply.sent = True
        self._send(connection, self._head(reply, lines, parser, keep), deadline)
        left = declared
        for chunk in _pieces(reply.written + [first], body):
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            if chunk:
                framed = b"%X\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
                self._send(connection, framed, deadline)
        if chunked:
            self._send(connection, b"0\r\n\r\n", deadline)
        if left:  # fewer bytes than declared: only a close tells the client the answer ended
            log.warning("the app's answer to %s %s was %d bytes short", parser.command, parser.path, left)
            return False
        return keep

    def _head(self, reply: _Reply, lines: list[str], parser: _Parser, keep: bool) -> bytes:
        status = reply.status
        if not status or not isinstance(status, str) or _CRLF.search(status):
            raise ValueError(f"a status the server cannot send: {status!r}")
        if not keep:
            lines.append("Connection: close\r\n")
        elif parser.version == "1.0":
            lines.append("Connection: keep-alive\r\n")
        return f"HTTP/1.1 {status}\r\n{''.join(lines)}{self._fixed_headers()}".encode("latin-1")

    def _fixed_headers(self) -> str:
        return f"Server: {self.settings.ident}\r\nDate: {_http_date()}\r\n\r\n"

    def _send(self, connection: _Connection, data: bytes, deadline: float) -> None:
        """Send all of ``data`` by ``deadline``, else an ``OSError`` (the caller then closes the
        connection): a client that does not read its answer holds a worker that long at most.
        Each send waits at most the linger (see :func:`_wait_at_most`), so nothing is changed here."""
        sock, rest = connection.sock, memoryview(data)
        while rest:
            try:
                rest = rest[sock.send(rest) :]
            except (TimeoutError, BlockingIOError):
                if time.monotonic() >= deadline:
                    log.info("closed a connection whose client did not read its answer")
                    raise OSError("the client did not read its answer in time") from None
        connection.last_activity = time.monotonic()


def _app_headers(reply: _Reply) -> tuple[list[str], int | None]:
    """The app's headers as lines, without those that frame the message (the server's to
    set); and the Content-Length the app declared, if any. An app's ``Connection: close`` is
    honoured (``reply.close``)."""
    lines, declared = [], None
    for name, value in reply.headers:
        both = name + value
        if "\n" in both or "\r" in both:
            raise ValueError(f"a header the server cannot send: {name!r}")
        lowered = name.lower()
        if lowered in _FRAMING:
            if lowered == "content-length":
                if not value.strip().isdigit():  # "-5", "1e3", " ": never sent as a frame
                    raise ValueError(f"a Content-Length the server cannot send: {value!r}")
                declared = int(value)
            elif lowered == "connection" and value.strip().lower() == "close":
                reply.close = True
            continue
        lines.append(f"{name}: {value}\r\n")
    return lines, declared


def _pieces(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header's value, made once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]


def connection_environ(address: Any, server: tuple[Any, Any], settings: Settings) -> dict[str, Any]:
    """The WSGI environ keys that are the same for every request on one connection (made once,
    at accept; ``Answering._environ`` copies them and adds the request's own)."""
    return {
        "REMOTE_ADDR": str(address[0]),
        "REMOTE_HOST": str(address[0]),
        "REMOTE_PORT": str(address[1]),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_SOFTWARE": settings.ident,
        "SCRIPT_NAME": "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": settings.url_scheme,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,  # the body is read whole before the app runs
    }
