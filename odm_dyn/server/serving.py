"""Running the app: on odm_dyn's own HTTP server (``httpd.py``), in a background thread or in the foreground.

The server (see ``httpd.py``) accepts and watches connections on one selector thread and serves
them on a fixed pool of worker threads that linger on a busy kept-alive connection, so a slow or
idle client holds a socket, never a thread for longer than the linger, and a hot connection's
requests cost no hand-off between threads. Its limits (:func:`settings`): at most
``CONNECTION_LIMIT`` connections at once (more wait in the listen backlog), a connection idle
for ``IDLE_SECONDS`` or whose request has not fully arrived ``REQUEST_SECONDS`` after it began
is closed, a client that does not read its answer within ``SEND_SECONDS`` is dropped, and its
refusals of malformed requests are JSON like the app's own. Requests are parsed by waitress's
parser (framing, chunked bodies, limits), made stricter. ``stop()`` closes every connection too,
instead of leaving kept-alive sockets talking to a server that is gone. werkzeug stays where it
is the right tool: parsing cookies and such in the app.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..api.load import load_api
from ..errors import SpecError
from ..exit_codes import EXIT_OK, EXIT_USAGE
from ..spec.document import SpecSource
from ..spec.read import spec_source
from .app import ServerApp
from .httpd import HttpServer, Settings
from .logstream import LineFormatter, batched_stderr
from .seed import load_seed, read_seed
from .store import MEMORY, Store, StoreError, default_db_path
from .tasks import ACCESS_ALL_DATA

log = logging.getLogger("odm_dyn.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_TASK_SECONDS = 5.0
CURATOR = "curator"
USER = "user"
POLL_SECONDS = 0.2  # how often idle and overdue connections are looked for (and stop() noticed when quiet)
IDLE_SECONDS = 20  # a kept-alive connection with nothing to say is closed after this
REQUEST_SECONDS = 30  # a request's head and body must have arrived this long after it began
SEND_SECONDS = 30  # an answer must have been read by the client this long after it was begun
LINGER_SECONDS = 0.02  # a worker waits this long on its connection for the next request
CONNECTION_LIMIT = 1000  # connections served at once; more wait in the backlog (fds: 1 each)
# Requests handled at once. Measured for issue 19 (getTaskInfo from 8 kept-alive clients, six
# interleaved rounds, medians): 2 workers 4,519/s at 0.178 ms of server CPU an answer, 4 workers
# 4,734/s at 0.171 ms, 8 workers 4,949/s at 0.150 ms. Fewer workers than busy connections is
# dearer, not cheaper: each connection a worker cannot linger on goes back to the selector
# thread and is handed out again, two thread hand-offs per request. SQLite sits behind one lock,
# and cached reads (tokens, tasks) need none, so more workers would add threads, not answers.
WORKER_THREADS = 8
MAX_BODY_BYTES = 16 * 1024 * 1024  # buffered at most; the app refuses bodies over 10 MiB with a 413
MAX_HEADER_BYTES = 64 * 1024  # the request line and headers together; more is a 431
MAX_HEADERS = 100  # header fields in one request; more is a 431, as http.server had it


def settings() -> Settings:
    """The embedded server's serving settings (see the module docstring)."""
    return Settings(
        threads=WORKER_THREADS,
        connection_limit=CONNECTION_LIMIT,
        idle_seconds=IDLE_SECONDS,
        request_seconds=REQUEST_SECONDS,
        send_seconds=SEND_SECONDS,
        linger_seconds=LINGER_SECONDS,
        poll_seconds=POLL_SECONDS,
        max_headers=MAX_HEADERS,
        max_request_header_size=MAX_HEADER_BYTES,
        max_request_body_size=MAX_BODY_BYTES,
    )


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
        if not str(host).strip():
            # An empty host binds every interface: never by accident, for a server holding tokens.
            raise ValueError("--host must name an address (0.0.0.0 listens on every interface, :: on IPv6's too)")
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
            # Bound here, so that an address that cannot be used is an OSError for the caller.
            self._server = HttpServer(self.app, _listening_socket(host, port), settings())
        except BaseException:
            self.store.close()  # the port was taken: leave no database open behind us
            raise
        self.host = host
        self.port = int(self._server.port)
        self.settings = self._server.settings  # read as it serves: tests may shorten its timeouts
        self.counts = self._server.counts  # the serving's work, for tests that count it
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
        """Serve until :meth:`shutdown`; then close every connection, in this (the serving) thread."""
        self._server.serve_forever()

    def shutdown(self) -> None:
        """Stop serving (from another thread than the one serving); open connections are closed."""
        self._server.shutdown()

    def stop(self) -> None:
        """Stop serving, close every connection and the database. Safe to call twice."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        if self.store is not None:
            self._server.close()  # never started: the listening socket is all there is to close
            self.store.close()
            self.store = None  # type: ignore[assignment]

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmbeddedServer {self.url} db={self.store.path if self.store else 'closed'!r}>"


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound and listening on ``host`` and ``port``; ``OSError`` when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # a restart may reuse a port left in TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    return sock


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
    for flag, holder in (("--token", "a curator holding"), ("--user-token", "a user without")):
        parser.add_argument(
            flag, action="append", default=[], metavar="T", help=f"a token for {holder} {ACCESS_ALL_DATA} (repeatable)"
        )
    _add_content_arguments(parser)


def _add_content_arguments(parser: argparse.ArgumentParser) -> None:
    """What is served: the spec, the behaviours overlay, the files imports read, seed objects."""
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
        handler.setFormatter(LineFormatter())
        log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
