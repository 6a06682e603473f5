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

The answering itself (parsing, the environ, framing, refusals) is ``answering.py``.
"""

from __future__ import annotations

import logging
import queue
import selectors
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass

from .answering import _CLOSED, _SERVED, Answering, Settings, WsgiApp, _Connection, connection_environ

__all__ = ["Counts", "HttpServer", "Settings"]

log = logging.getLogger("odm_dyn.server")

RECV_BYTES = 65536  # one read; a whole head, or a big piece of a body


@dataclass
class Counts:
    """Work done by the selector thread (only it writes these): for tests that count, not time."""

    accepted: int = 0
    handed: int = 0  # readable connections given to a worker
    parked: int = 0  # connections a worker gave back to be watched


class HttpServer(Answering):
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
            connection = _Connection(sock, connection_environ(address, (self.host, self.port), self.settings))
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
            except (TimeoutError, BlockingIOError):  # nothing came within the linger
                self._park(connection)
                return
            except OSError:
                data = b""
            try:
                outcome = self._received(connection, data) if data else _CLOSED
            except OSError:  # the answer could not be sent
                outcome = _CLOSED
            if outcome is _CLOSED:
                self._close(connection)
                return
            if outcome is _SERVED:  # from the end of its answer
                linger_until = connection.last_activity + linger
            if self._stopped:
                self._close(connection)
                return
            if linger_until <= time.monotonic() or not self._ready.empty():  # another connection waits
                self._park(connection)
                return


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


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:  # nothing more (non-blocking)
        pass
