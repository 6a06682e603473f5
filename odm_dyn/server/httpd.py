"""HTTP/1.1 serving for a WSGI app: one selector thread, a fixed pool of workers, waitress's parser.

The selector thread only accepts and watches: it accepts (up to ``connection_limit``
connections; the rest wait in the listen backlog), watches the connections that have nothing
to say (epoll, so no 1,024-descriptor limit), and every ``poll_seconds`` closes those idle past
``idle_seconds`` or whose request began more than ``request_seconds`` ago without arriving. A
connection that turns readable goes to a worker, which reads what is there into waitress's
sans-IO request parser (with the stricter refusals of :class:`_Parser`), answers every request
completed (pipelined ones in order), and then **lingers**: it waits up to ``linger_seconds`` on
that socket for the next request, so a busy kept-alive connection is served by one thread with
no hand-off at all. When nothing (or only part of a request) comes in time, or another
connection is waiting for a worker, the connection goes back to the selector thread with its
parse state (through a queue and a wake-up; workers never touch the selector). So a trickling or
idle client holds a socket, and a thread for at most the linger; a client that never reads its
answer holds a worker for at most ``send_seconds``.

Why not waitress's own loop (the embedded server ran on it before): its asyncore loop reads
and parses, hands each request to a worker thread, and the worker pulls a trigger pipe to wake
the loop to write the answer and read the next request: two thread hand-offs per request. On
this 2-core machine that gave about 2,200 getTaskInfo answers/s (0.36-0.45 ms of server CPU
each), and a bare WSGI app on it only about 3,400/s. waitress stays the dependency for what it
does well and has tested hard: the request parser (framing, chunked bodies, limits).

Framing of answers: ``Content-Length`` when the whole answer is known or the app gives one;
otherwise chunked for HTTP/1.1 and close for 1.0; no body for HEAD, 1xx, 204 and 304; the
connection is closed after HTTP/1.0 without keep-alive, ``Connection: close``, any refusal, and
an answer shorter than its declared length. Hop-by-hop headers from the app are dropped
(framing is the server's). Every refusal is JSON: ``{"status", "error", "message"}``.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import selectors
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Callable, Iterable, Iterator

from waitress.parser import HTTPRequestParser, ParsingError
from waitress.utilities import BadRequest

from ..secrets import hide_queries

log = logging.getLogger("odm_dyn.server")

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

RECV_BYTES = 65536  # one read; a whole head, or a big piece of a body
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


@dataclass
class Counts:
    """Work done by the selector thread (only it writes these): for tests that count, not time."""

    accepted: int = 0
    handed: int = 0  # readable connections given to a worker
    parked: int = 0  # connections a worker gave back to be watched


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


class HttpServer:
    """Serves ``app`` on a bound, listening socket; :meth:`serve_forever` in one thread,
    :meth:`shutdown` from another (every connection is then closed)."""

    def __init__(self, app: WsgiApp, listening: socket.socket, settings: Settings | None = None):
        self.app = app
        self.settings = settings or Settings()
        self.counts = Counts()
        self.listening = listening
        self.host, self.port = listening.getsockname()[:2]
        listening.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._waker, self._wake_end = socket.socketpair()
        self._waker.setblocking(False)
        self._wake_end.setblocking(False)
        self._ready: queue.SimpleQueue[_Connection | None] = queue.SimpleQueue()  # for the workers
        self._parking: queue.SimpleQueue[_Connection] = queue.SimpleQueue()  # back to the selector
        self._open: set[_Connection] = set()
        self._lock = threading.Lock()
        self._accepting = False
        self._accept_after = 0.0  # after a failed accept (out of descriptors), a pause
        self._stopped = False  # set once, by shutdown() or close(); read by every thread

    # ------------------------------------------------------------------ the selector thread

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`; then close every connection, in this thread."""
        workers = [
            threading.Thread(target=self._work, name=f"odm-dyn-worker-{n}", daemon=True)
            for n in range(self.settings.threads)
        ]
        for worker in workers:
            worker.start()
        try:
            self._selector.register(self._wake_end, selectors.EVENT_READ, None)
            self._loop()
        finally:
            self._close_all(workers)

    def shutdown(self) -> None:
        """Stop serving (from another thread than the one serving)."""
        self._stopped = True
        self._wake()

    def close(self) -> None:
        """Close the listening socket of a server that never served."""
        self._stopped = True
        for sock in (self.listening, self._waker, self._wake_end):
            sock.close()
        self._selector.close()

    def _loop(self) -> None:
        next_sweep = time.monotonic() + self.settings.poll_seconds
        while not self._stopped:
            self._limit_accepting()
            for key, _ in self._selector.select(max(0.0, next_sweep - time.monotonic())):
                if key.data is None:
                    _drain(self._wake_end)
                elif key.data is self.listening:
                    self._accept()
                else:
                    self._hand(key.data)
            self._take_parked()
            now = time.monotonic()
            if now >= next_sweep:
                self._sweep(now)
                next_sweep = now + self.settings.poll_seconds

    def _limit_accepting(self) -> None:
        """Watch the listening socket only while under the connection limit."""
        room = len(self._open) < self.settings.connection_limit and time.monotonic() >= self._accept_after
        if room and not self._accepting:
            self._selector.register(self.listening, selectors.EVENT_READ, self.listening)
        elif not room and self._accepting:
            self._selector.unregister(self.listening)
        self._accepting = room

    def _accept(self) -> None:
        while len(self._open) < self.settings.connection_limit:
            try:
                sock, address = self.listening.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, say: try again at the next sweep
                log.warning("cannot accept a connection: %s", exc)
                self._accept_after = time.monotonic() + self.settings.poll_seconds
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _wait_at_most(sock, self.settings.linger_seconds)
            connection = _Connection(sock, self._base_environ(address))
            with self._lock:
                self._open.add(connection)
            self.counts.accepted += 1
            self._selector.register(sock, selectors.EVENT_READ, connection)

    def _hand(self, connection: _Connection) -> None:
        self._selector.unregister(connection.sock)
        self.counts.handed += 1
        self._ready.put(connection)

    def _take_parked(self) -> None:
        while True:
            try:
                connection = self._parking.get_nowait()
            except queue.Empty:
                return
            try:
                self._selector.register(connection.sock, selectors.EVENT_READ, connection)
            except (OSError, ValueError):  # closed meanwhile (by shutdown)
                self._close(connection)
                continue
            self.counts.parked += 1

    def _sweep(self, now: float) -> None:
        """Close watched connections idle too long, or whose request is overdue."""
        idle_cut, request_cut = now - self.settings.idle_seconds, now - self.settings.request_seconds
        for key in list(self._selector.get_map().values()):
            connection = key.data
            if not isinstance(connection, _Connection):
                continue
            parser = connection.parser
            if connection.last_activity < idle_cut or (parser is not None and parser.began < request_cut):
                self._selector.unregister(connection.sock)
                self._close(connection)

    def _close_all(self, workers: list[threading.Thread]) -> None:
        """On shutdown: close what this thread holds, wake every worker's socket, stop them."""
        self._stopped = True
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, _Connection):
                self._close(key.data)
        self._close_queued()
        with self._lock:
            held = list(self._open)  # by workers: shut down (never closed here, which could
        for connection in held:  # hand its descriptor number to another socket under them)
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _ in workers:
            self._ready.put(None)
        deadline = time.monotonic() + 5
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._close_queued()
        self.close()

    def _close_queued(self) -> None:
        for waiting in (self._ready, self._parking):
            while True:
                try:
                    connection = waiting.get_nowait()
                except queue.Empty:
                    break
                if connection is not None:
                    self._close(connection)

    def _base_environ(self, address: Any) -> dict[str, Any]:
        return {
            "REMOTE_ADDR": str(address[0]),
            "REMOTE_HOST": str(address[0]),
            "REMOTE_PORT": str(address[1]),
            "SERVER_NAME": str(self.host),
            "SERVER_PORT": str(self.port),
            "SERVER_SOFTWARE": self.settings.ident,
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.settings.url_scheme,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,  # the body is read whole before the app runs
        }

    # ------------------------------------------------------------------ shared by both sides

    def _wake(self) -> None:
        try:
            self._waker.send(b"\0")
        except OSError:  # full (a wake-up is pending anyway) or closed (stopped)
            pass

    def _close(self, connection: _Connection) -> None:
        with self._lock:
            self._open.discard(connection)
        try:
            connection.sock.close()
        except OSError:
            pass
        if connection.parser is not None:
            connection.parser.close()
            connection.parser = None
        if not self._accepting:  # the selector may be waiting for room to accept again
            self._wake()

    def _park(self, connection: _Connection) -> None:
        self._parking.put(connection)
        self._wake()

    # ------------------------------------------------------------------ workers

    def _work(self) -> None:
        while True:
            connection = self._ready.get()
            if connection is None:
                return
            if self._stopped:
                self._close(connection)
                continue
            try:
                self._serve(connection)
            except Exception:  # a bug here must not take the worker with it
                log.exception("unexpected error while serving a connection")
                self._close(connection)

    def _serve(self, connection: _Connection) -> None:
        """Read and answer a readable connection, then linger on it; park or close it after.

        The socket waits at most the linger in each read (set once, when it was accepted: see
        :func:`_wait_at_most`), so a connection is held at most twice the linger past its last
        answer."""
        sock, linger = connection.sock, self.settings.linger_seconds
        linger_until = time.monotonic() + linger
        while True:
            try:
                data = sock.recv(RECV_BYTES)
                if not data:
                    self._close(connection)
                    return
                connection.last_activity = now = time.monotonic()
                outcome = self._received(connection, data)
            except (TimeoutError, BlockingIOError):  # nothing came within the linger
                self._park(connection)
                return
            except OSError:
                self._close(connection)
                return
            if outcome is _CLOSED:
                return
            if outcome is _SERVED:
                linger_until = now + linger
            if self._stopped:
                self._close(connection)
                return
            if linger_until <= time.monotonic() or not self._ready.empty():  # another connection waits
                self._park(connection)
                return

    def _received(self, connection: _Connection, data: bytes) -> str:
        """Feed ``data`` to the parser and answer each request it completes, in order."""
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
                        self._close(connection)
                        return _CLOSED
                    served = True
            elif used <= 0:  # never seen: the parser always takes what it is given until complete
                break
            data = data[used:]
        if connection.parser is not None and not self._awaiting(connection, connection.parser):
            self._close(connection)
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
                declared = int(value)
            elif lowered == "connection" and value.strip().lower() == "close":
                reply.close = True
            continue
        lines.append(f"{name}: {value}\r\n")
    return lines, declared


def _wait_at_most(sock: socket.socket, seconds: float) -> None:
    """Make each read and each send of a blocking ``sock`` wait at most ``seconds`` (then
    ``BlockingIOError``, or a short send). Done by the kernel (``SO_RCVTIMEO``/``SO_SNDTIMEO``),
    not by Python's socket timeout: with that, a read that must wait is three system calls
    (try, poll, read again), each giving up and taking back the GIL, where a blocking read is one;
    under 8 busy workers those GIL hand-overs were a good part of the cost of an answer."""
    seconds = max(0.001, seconds)
    if sys.platform == "win32":  # SO_RCVTIMEO takes milliseconds there; Python's timeout will do
        sock.settimeout(seconds)
        return
    whole = int(seconds)
    timeval = struct.pack("ll", whole, int((seconds - whole) * 1e6))
    sock.settimeout(None)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def _pieces(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:  # nothing more (non-blocking)
        pass


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header's value, made once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]
