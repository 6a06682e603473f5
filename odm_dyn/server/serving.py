"""Running the app: werkzeug's threaded server, in a background thread or in the foreground.

werkzeug's server answers each connection in its own thread and keeps HTTP/1.1 connections
alive. Its own access log is switched off (our app logs one line per request, without
headers); open connections are tracked so that ``stop()`` closes them too, instead of
leaving kept-alive sockets talking to a server that is gone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, get_sockaddr, make_server, select_address_family

from ..api.load import load_api
from ..errors import SpecError
from ..exit_codes import EXIT_OK, EXIT_USAGE
from ..spec.document import SpecSource
from ..spec.read import spec_source
from .app import ServerApp
from .logstream import batched_stderr
from .seed import load_seed, read_seed
from .store import MEMORY, Store, StoreError, default_db_path
from .tasks import ACCESS_ALL_DATA

log = logging.getLogger("odm_dyn.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_TASK_SECONDS = 5.0
CURATOR = "curator"
USER = "user"
POLL_SECONDS = 0.05  # how soon stop() is noticed by the accepting loop
IDLE_SECONDS = 60  # a kept-alive connection with nothing to say is closed after this


class _Handler(WSGIRequestHandler):
    """werkzeug's handler (request parsing, environ, chunked input) with keep-alive answers.

    werkzeug 3's own ``run_wsgi`` sends ``Connection: close`` on every answer and then waits
    for stray input, because a general WSGI app may leave a body unread. Our app always reads
    the whole body and always sets Content-Length, so a connection can safely carry the next
    request: this ``run_wsgi`` writes each answer in one piece and keeps the connection open.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    disable_nagle_algorithm = True  # small answers go out at once, not after a delayed ACK

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return self._unsupported_write

        result = self.server.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self._write_answer(started[0], started[1], body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, 414, 431, 505) in JSON, like the app's.

        Its ``message`` may quote the request line (a query can hold a secret), so only its
        first words are sent and logged.
        """
        phrase = HTTPStatus(code).phrase
        reason = (message or phrase).split(" (", 1)[0]
        log.warning("refused a malformed request: %d %s", code, reason)
        body = json.dumps({"status": code, "error": phrase, "message": reason}).encode()
        self.close_connection = True  # the stream may be out of step: never read on after a refusal
        if self.request_version == "HTTP/0.9":  # a request line not understood: still send a status line
            self.request_version = "HTTP/1.1"
        self.send_response(code, phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _write_answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        lines = [
            f"{self.protocol_version} {status}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        for name, value in headers:
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
                continue
            lines.append(f"{name}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")  # a 1.0 client that asked for it
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + body)

    @staticmethod
    def _unsupported_write(data: bytes) -> None:
        raise NotImplementedError("the embedded server's app returns its body; write() is not supported")

    def setup(self) -> None:
        super().setup()
        connections = getattr(self.server, "open_connections", None)
        if connections is not None:
            with self.server.connections_lock:  # type: ignore[attr-defined]
                connections.add(self.connection)

    def finish(self) -> None:
        connections = getattr(self.server, "open_connections", None)
        if connections is not None:
            with self.server.connections_lock:  # type: ignore[attr-defined]
                connections.discard(self.connection)
        super().finish()

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # the app logs each request itself, without header values


def make_app(
    spec: SpecSource | None = None,
    db: str | os.PathLike[str] = MEMORY,
    *,
    task_seconds: float = DEFAULT_TASK_SECONDS,
    tokens: Iterable[str] | None = None,
    user_tokens: Iterable[str] | None = None,
    overlay: str | os.PathLike[str] | dict[str, Any] | None = None,
    import_root: str | os.PathLike[str] | None = None,
    data: str | os.PathLike[str] | dict[str, Any] | None = None,
) -> ServerApp:
    """The embedded server's WSGI app, without serving it: for an in-process transport
    (``odm_dyn.client.wsgi.WsgiTransport``) or any WSGI server.

    Tokens, ``overlay``, ``import_root`` and ``data`` as for :class:`EmbeddedServer`; with no
    token given, one curator token is made and kept in ``app.token``. ``app.store.close()``
    closes the database when the app is done with.
    """
    api = load_api(spec)
    store = Store(db)
    made = None
    tokens, user_tokens = list(tokens or ()), list(user_tokens or ())
    if not tokens and not user_tokens:
        # Made for this run; it revokes the one the previous run on this database made.
        made = secrets.token_urlsafe(24)
        store.add_token(made, CURATOR, (ACCESS_ALL_DATA,), auto=True)
    for token in tokens:
        store.add_token(token, CURATOR, (ACCESS_ALL_DATA,))
    for token in user_tokens:
        store.add_token(token, USER, ())
    try:
        app = ServerApp(api, store, task_seconds=task_seconds, overlay=overlay, import_root=import_root)
        if data is not None:
            load_seed(store, data if isinstance(data, dict) else read_seed(data))
    except BaseException:
        store.close()
        raise
    app.token = made
    return app


class EmbeddedServer:
    """An ODM server on loopback, in a background thread; a context manager.

    ``overlay`` (a file or a parsed document) adds to the shipped behaviours overlay,
    ``import_root`` is the one folder import jobs read files from, ``data`` seeds objects (a
    YAML/JSON file or a mapping, see ``server/seed.py``).
    ``tokens`` act as a curator holding ACCESS_ALL_DATA, ``user_tokens`` as a user without it.
    With neither, one curator token is made: ``.token``; it replaces the token an earlier run on
    the same database made that way, so only the latest one is valid. ``port=0`` picks a free port;
    ``.url`` says which. ``db`` is a file path to keep state, ``":memory:"`` to throw it away.
    """

    def __init__(
        self,
        spec: SpecSource | None = None,
        db: str | os.PathLike[str] = MEMORY,
        host: str = DEFAULT_HOST,
        port: int = 0,
        task_seconds: float = DEFAULT_TASK_SECONDS,
        tokens: Iterable[str] | None = None,
        user_tokens: Iterable[str] | None = None,
        overlay: str | os.PathLike[str] | dict[str, Any] | None = None,
        import_root: str | os.PathLike[str] | None = None,
        data: str | os.PathLike[str] | dict[str, Any] | None = None,
    ):
        self.spec = spec  # the source it was started with; its files are served under /swagger/yaml/
        self.app = make_app(
            spec,
            db,
            task_seconds=task_seconds,
            tokens=tokens,
            user_tokens=user_tokens,
            overlay=overlay,
            import_root=import_root,
            data=data,
        )
        self.api, self.store, self.token = self.app.api, self.app.store, self.app.token
        self.task_seconds = task_seconds
        try:
            self._server = _make_server(host, port, self.app)
        except BaseException:
            self.store.close()  # the port was taken: leave no database open behind us
            raise
        self.host = host
        self.port = self._server.port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def add_token(self, token: str, *, user: str = CURATOR, permissions: Sequence[str] = (ACCESS_ALL_DATA,)) -> None:
        """Let ``token`` act as ``user``, who holds exactly ``permissions``."""
        self.store.add_token(token, user, permissions)

    def start(self) -> EmbeddedServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, name="odm-dyn-server", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=POLL_SECONDS)

    def shutdown(self) -> None:
        """Stop accepting (from another thread than the one serving), and close open connections."""
        self._server.shutdown()
        _close_connections(self._server)

    def stop(self) -> None:
        """Stop serving, close every connection and the database. Safe to call twice."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        if self.store is not None:
            self._server.server_close()
            _close_connections(self._server)
            self.store.close()
            self.store = None  # type: ignore[assignment]

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmbeddedServer {self.url} db={self.store.path if self.store else 'closed'!r}>"


def _make_server(host: str, port: int, app: ServerApp) -> BaseWSGIServer:
    # werkzeug binds in its constructor and calls sys.exit(1) when it cannot: an embedding
    # program (or a test) would exit. Bound here, the OSError reaches the caller instead.
    listening = _listening_socket(host, port)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=_Handler, fd=listening.fileno())
    finally:
        listening.close()  # werkzeug works on its own duplicate of the socket
    server.open_connections = set()  # type: ignore[attr-defined]
    server.connections_lock = threading.Lock()  # type: ignore[attr-defined]
    return server


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound and listening as werkzeug's own would be; ``OSError`` when it cannot be."""
    family = select_address_family(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # as socketserver does: a restart may reuse a port left in TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(get_sockaddr(host, int(port), family))
        sock.listen(BaseWSGIServer.request_queue_size)
    except BaseException:
        sock.close()
        raise
    return sock


def _close_connections(server: BaseWSGIServer) -> None:
    with server.connections_lock:  # type: ignore[attr-defined]
        connections = list(server.open_connections)  # type: ignore[attr-defined]
    for connection in connections:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the peer


# --------------------------------------------------------------------------- command line


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``odm-dyn serve``."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port, 0 for a free one (default: %(default)s)")
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help=f"SQLite file holding users, tokens and tasks (default: {default_db_path()}); ':memory:' for a throwaway",
    )
    parser.add_argument(
        "--task-seconds",
        type=float,
        default=DEFAULT_TASK_SECONDS,
        metavar="S",
        help="how long a published task takes to reach DONE (default: %(default)s)",
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="T",
        help=f"a token for a curator holding {ACCESS_ALL_DATA} (repeatable)",
    )
    parser.add_argument(
        "--user-token",
        action="append",
        default=[],
        metavar="T",
        help=f"a token for a user without {ACCESS_ALL_DATA} (repeatable)",
    )
    parser.add_argument(
        "--spec",
        action="append",
        default=None,
        metavar="FILE",
        help="spec file or folder to serve instead of the bundled Tasks API; +FILE adds to it (repeatable)",
    )

    parser.add_argument(
        "--overlay",
        default=None,
        metavar="FILE",
        help="an OpenAPI Overlay adding x-odm-dyn-behaviour extensions (over the shipped one)",
    )
    parser.add_argument(
        "--import-root",
        default=None,
        metavar="DIR",
        help="the folder import jobs may read metadataLink files from (default: none, imports fail)",
    )
    parser.add_argument("--data", default=None, metavar="FILE", help="seed objects and links (YAML or JSON)")


def serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until SIGINT or SIGTERM; the exit code."""
    _configure_logging()
    db = args.db or os.fspath(default_db_path())
    if not args.host.strip():
        # An empty host binds every interface: never by accident, for a server holding tokens.
        print("odm-dyn serve: --host must name an address (0.0.0.0 listens on every interface)", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = EmbeddedServer(
            spec=spec_source(args.spec),
            db=db,
            host=args.host,
            port=args.port,
            task_seconds=args.task_seconds,
            tokens=args.token,
            user_tokens=args.user_token,
            overlay=getattr(args, "overlay", None),
            import_root=getattr(args, "import_root", None),
            data=getattr(args, "data", None),
        )
    except (SpecError, ValueError, StoreError) as exc:
        print(f"odm-dyn serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        # The address given cannot be used (taken, not ours, not allowed): a usage error, as the
        # exit-code table of odm-dyn says; 1 would mean the server answered with an error status.
        print(f"odm-dyn serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return _run_until_signal(server, lambda: _announce(server, db))


def _announce(server: EmbeddedServer, db: str) -> None:
    where = "memory (throwaway)" if db == MEMORY else Path(db).expanduser()
    print(f"odm-dyn serve: ODM server on {server.url} (database: {where})", file=sys.stderr)
    if server.token:
        # Printed once, on purpose: with no --token the user has no other way to learn it.
        print(f"odm-dyn serve: curator token: {server.token}", file=sys.stderr)
        print(f"  export ODM_HOST={server.url} ODM_API_TOKEN={server.token}", file=sys.stderr)
    print("odm-dyn serve: Ctrl-C stops it", file=sys.stderr, flush=True)


def _run_until_signal(server: EmbeddedServer, announce: Callable[[], None]) -> int:
    stop = threading.Event()
    previous = {}
    # Handlers first: a signal that comes as soon as the URL is printed must still stop cleanly.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        with batched_stderr(log):
            try:
                server.start()
                announce()
                while not stop.wait(0.5):
                    pass
            finally:
                server.stop()
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("odm-dyn serve: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _configure_logging() -> None:
    if not log.hasHandlers():  # the command line (or the embedding program) may have set logging up
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
