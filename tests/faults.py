"""A raw TCP server on 127.0.0.1 for the faults an HTTP server library will not produce.

Each accepted connection runs ``behaviour(connection, number)`` in its own thread: it may
answer half, stall, close at once or stream forever. ``stop`` ends every behaviour (they poll
``stopped``) and closes the sockets, so no test leaves a thread talking to nobody.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

Behaviour = Callable[["FaultServer", socket.socket, int], None]


class FaultServer:
    """``with FaultServer(behaviour) as f: Client(f.url)``; ``f.connections`` counts accepts."""

    def __init__(self, behaviour: Behaviour):
        self.behaviour = behaviour
        self.connections = 0
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._sockets: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> FaultServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        for sock in [self._listener, *self._sockets]:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self._sockets.append(conn)
            threading.Thread(target=self._run, args=(conn, self.connections), daemon=True).start()

    def _run(self, conn: socket.socket, number: int) -> None:
        try:
            self.behaviour(self, conn, number)
        except OSError:
            pass  # the client went away: that is what several faults are about

    def wait(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        self.stopped.wait(seconds)


def read_request(conn: socket.socket) -> bytes:
    """Read up to the end of the request head (bodies are not needed by the faults)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


TASK_JSON = (
    b'{"id":"GSF000123","name":"n","status":"DONE","application":"publish-versions",'
    b'"createdBy":"curator","startedAt":1,"endedAt":2}'
)


def answer(conn: socket.socket, body: bytes = TASK_JSON, status: str = "200 OK") -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    conn.sendall(head.encode() + body)


def deflated(content_type: str, deflated_body: bytes) -> Behaviour:
    """Answer 200 with ``deflated_body`` sent as it is, declared ``Content-Encoding: deflate``
    (a few kilobytes that inflate to megabytes: what the size cap must count decoded)."""

    def behave(server: FaultServer, conn: socket.socket, number: int) -> None:
        read_request(conn)
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Encoding: deflate\r\n"
            f"Content-Length: {len(deflated_body)}\r\n\r\n"
        )
        conn.sendall(head.encode() + deflated_body)
        server.wait(0.5)

    return behave


def stall(server: FaultServer, conn: socket.socket, number: int) -> None:
    """Read the request and never answer."""
    read_request(conn)
    server.wait(30)


def close_at_once(server: FaultServer, conn: socket.socket, number: int) -> None:
    read_request(conn)
    conn.close()


def endless_body(server: FaultServer, conn: socket.socket, number: int) -> None:
    """A chunked body that never ends, as fast as the client reads."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while not server.stopped.is_set():
        conn.sendall(frame)


def trickling_body(server: FaultServer, conn: socket.socket, number: int) -> None:
    """A chunked body that never ends, one byte now and then: each read waits less than the timeout."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    while not server.stopped.is_set():
        conn.sendall(b"1\r\n \r\n")
        server.wait(0.02)


def truncated_body(server: FaultServer, conn: socket.socket, number: int) -> None:
    """Content-Length promises more than is sent, then the connection closes."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n" + TASK_JSON[:20])
    conn.close()


def head_then_stall(server: FaultServer, conn: socket.socket, number: int) -> None:
    """The head arrives, the promised body never does."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
    server.wait(30)


def garbage_status_line(server: FaultServer, conn: socket.socket, number: int) -> None:
    read_request(conn)
    conn.sendall(b"HELLO THERE\r\n\r\n")
    conn.close()


def fail_first_then_answer(failures: int) -> Behaviour:
    """The first ``failures`` connections are closed without an answer; later ones answer."""

    def behaviour(server: FaultServer, conn: socket.socket, number: int) -> None:
        read_request(conn)
        if number <= failures:
            conn.close()
            return
        answer(conn)
        time.sleep(0.05)  # let the client read before this thread lets go of the socket

    return behaviour
