"""The connections the HTTP transport sends on: one deadline per call, final answers only,
no wire dumps, and fresh pools in a forked child.

- **One deadline for a whole call.** A read timeout bounds each wait for data, so a server
  trickling a byte now and then never trips it. Every read of these connections' sockets
  waits no longer than the calling thread's deadline allows (:func:`deadline`, set by the
  transport for the head and then the body of an answer, and narrowed by :func:`call_deadline`
  for a wait's polls) and times out when it passes, however the bytes come. The price per
  call is what the per-call guards count: the deadline is set, not wrapped around each read,
  and a read's timeout changes (a system call) only when the deadline comes before it.
- **Final answers only.** ``http.client`` skips ``100 Continue`` but takes any other interim
  answer (``103 Early Hints``) as the final one; :class:`FinalResponse` skips every 1xx but
  ``101`` (a protocol switch odm_dyn never asks for, left to fail as it does).
- **No wire dumps.** ``debuglevel`` stays 0: ``http.client``'s dump prints every header,
  tokens included, to stdout.
- **Safe across fork.** A child process that inherited a transport's pooled connections
  would share their sockets with its parent and read answers meant for the other; every live
  :class:`~odm_dyn.client.transport.Transport` is given fresh, empty pools in the child
  (``os.register_at_fork``), so the child opens connections of its own.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import socket
import threading
import time
import weakref
from typing import Any, Iterator


class _Deadlines(threading.local):
    deadline: float | None = None  # what the reads of this thread must end by
    outer: float | None = None  # an enclosing call_deadline's, which no deadline may pass


_local = _Deadlines()


def deadline() -> float | None:
    """The calling thread's deadline (``time.monotonic()`` seconds), or ``None``."""
    return _local.deadline


def set_deadline(when: float | None) -> None:
    """Set the calling thread's deadline for the reads of these connections (``None``: none),
    never later than an enclosing :func:`call_deadline`'s."""
    outer = _local.outer
    _local.deadline = when if outer is None else (outer if when is None else min(when, outer))


@contextlib.contextmanager
def call_deadline(seconds: float) -> Iterator[None]:
    """Calls made inside end within ``seconds`` of now, whatever their timeouts say."""
    previous = _local.outer
    when = time.monotonic() + seconds
    _local.outer = when if previous is None else min(when, previous)
    try:
        yield
    finally:
        _local.outer = previous


class DeadlineSocket:
    """A connection's socket whose every read ends by the calling thread's deadline.

    Everything but reading is the wrapped socket's own, bound once (no Python call per request
    for ``sendall``, ``settimeout``, ...). The answers are read through :meth:`makefile`'s
    :class:`DeadlineReader`, which bounds each wait; a direct ``recv`` is bounded alike.
    """

    __slots__ = ("_sock", "fileno", "sendall", "settimeout", "gettimeout", "shutdown", "close")

    def __init__(self, sock: Any):
        self._sock = sock
        self.fileno, self.sendall, self.shutdown, self.close = sock.fileno, sock.sendall, sock.shutdown, sock.close
        self.settimeout, self.gettimeout = sock.settimeout, sock.gettimeout

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode != "rb":
            return self._sock.makefile(mode, *args, **kwargs)
        reader = DeadlineReader(self._sock, "rb")
        # urllib3 set the read timeout just before the answer is read: each wait is at most that.
        reader.read_timeout = self._sock.gettimeout()
        self._sock._io_refs += 1  # as socket.makefile counts it, so close() waits for the reader
        return io.BufferedReader(reader)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        bound_wait(self._sock, self._sock.gettimeout())
        return int(self._sock.recv_into(buffer, nbytes, flags))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        bound_wait(self._sock, self._sock.gettimeout())
        return bytes(self._sock.recv(bufsize, flags))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class DeadlineReader(socket.SocketIO):
    """The raw reader of a connection's answers: each read waits at most ``read_timeout`` and
    never past the calling thread's deadline (one Python call per read, as ``SocketIO``'s own)."""

    read_timeout: float | None = None

    def readinto(self, buffer: Any) -> int | None:
        when = _local.deadline
        if when is not None:
            bound_wait(self._sock, self.read_timeout, when)  # type: ignore[attr-defined]
        return socket.SocketIO.readinto(self, buffer)


def bound_wait(sock: Any, read_timeout: float | None, when: float | None = None) -> None:
    """Set ``sock``'s timeout for one read: ``read_timeout``, cut to the time left before the
    deadline (``when``, else the calling thread's); past it, raise ``TimeoutError``."""
    if when is None:
        when = _local.deadline
        if when is None:
            return
    left = when - time.monotonic()
    if left <= 0:
        raise TimeoutError("the call's deadline passed")
    wait = left if read_timeout is None or left < read_timeout else read_timeout
    if sock.gettimeout() != wait:  # mostly the read timeout, already set: no system call then
        sock.settimeout(wait)


class FinalResponse(http.client.HTTPResponse):
    """An answer whose interim 1xx answers (but ``101``) are skipped, as ``100`` is."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not (100 < status < 200) or status == 101:
                return version, status, reason
            http.client._read_headers(self.fp)  # type: ignore[attr-defined]


def connection_classes() -> dict[str, Any]:
    """Pool classes, by scheme, whose connections behave as this module's docstring says."""
    import urllib3
    import urllib3.connection

    class HTTPConnection(urllib3.connection.HTTPConnection):  # named as the base: error messages read the same
        debuglevel = 0
        response_class = FinalResponse

        def connect(self) -> None:
            super().connect()
            self.sock = DeadlineSocket(self.sock)

    class HTTPSConnection(urllib3.connection.HTTPSConnection):
        debuglevel = 0
        response_class = FinalResponse

        def connect(self) -> None:
            super().connect()
            self.sock = DeadlineSocket(self.sock)

    class HTTPConnectionPool(urllib3.HTTPConnectionPool):
        ConnectionCls = HTTPConnection

    class HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = HTTPSConnection

    return {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


_POOL_CLASSES: dict[str, Any] = {}


def use_own_connections(session: Any) -> None:
    """Make every adapter of ``session`` open this module's connections (in fresh pools)."""
    if not _POOL_CLASSES:
        _POOL_CLASSES.update(connection_classes())
    for adapter in getattr(session, "adapters", {}).values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = _POOL_CLASSES


# --------------------------------------------------------------------------- fork

_sessions: weakref.WeakSet[Any] = weakref.WeakSet()


def forget_after_fork(session: Any) -> None:
    """Give ``session`` fresh pools in any child forked while it lives."""
    _sessions.add(session)


def _fresh_pools_in_child() -> None:
    # New pool managers, not clear(): a lock another thread of the parent held at the fork
    # stays held in the child. The inherited sockets are dropped unclosed here (closing the
    # child's copy would be harmless, but a TLS socket may try to say goodbye on the parent's
    # connection); the parent's copies stay as they were.
    for session in list(_sessions):
        for adapter in getattr(session, "adapters", {}).values():
            if hasattr(adapter, "init_poolmanager") and hasattr(adapter, "_pool_connections"):
                adapter.init_poolmanager(adapter._pool_connections, adapter._pool_maxsize, block=adapter._pool_block)
        use_own_connections(session)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_pools_in_child)
