"""Issue 12, item 6: the embedded server under hostile clients (its own serving, waitress's parser).

Each test fails on werkzeug's development server, which the embedded server ran on before.
No timed assertions: the bounds are ones only a hang, a starved client or a spinning loop exceeds.
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest

import odm_dyn
from odm_dyn.server import serving
from tests.conftest import CURATOR_TOKEN
from tests.test_security import send_raw

TOKEN_HEADER = f"Genestack-API-Token: {CURATOR_TOKEN}\r\n".encode()


def _closed_after_answer(port: int, data: bytes) -> tuple[int, bytes, bool]:
    """Send ``data``; the status, the body, and whether the server then closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return _status(received), received, False
            if not chunk:
                return _status(received), received.partition(b"\r\n\r\n")[2], True
            received += chunk


def _status(received: bytes) -> int:
    parts = received.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def test_content_length_with_chunked_is_a_400_and_the_connection_closes(server):
    # Before: read as chunked, answered 401, the connection kept (a smuggled request's way in).
    status, body, closed = _closed_after_answer(
        server.port,
        b"POST /api/v1/tasks/publish-versions HTTP/1.1\r\nHost: h\r\n"
        + TOKEN_HEADER
        + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    )
    assert status == 400 and closed
    assert "Transfer-Encoding" in json.loads(body)["message"]
    assert server.store.task_count() == 0  # nothing was published


def test_two_content_lengths_are_a_400(server):
    status, _, body = send_raw(
        server.port,
        b"POST /api/v1/tasks/publish-versions HTTP/1.1\r\nHost: h\r\n"
        + TOKEN_HEADER
        + b"Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
    )
    assert status == 400 and json.loads(body)["status"] == 400  # before: the last one won, a 200
    assert server.store.task_count() == 0


def test_an_unreadable_absolute_target_is_a_400_without_traceback(server, caplog):
    caplog.set_level(logging.DEBUG)
    status, _, body = send_raw(server.port, b"GET http://[::1/api/v1/tasks/A HTTP/1.1\r\nHost: h\r\n\r\n")
    assert status == 400 and "target" in json.loads(body)["message"]  # before: no answer at all
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_a_trickling_connection_is_dropped_at_the_request_deadline(server, monkeypatch):
    # Before: a byte now and then kept werkzeug's per-read timeout from ever firing.
    monkeypatch.setattr(server.settings, "request_seconds", 1.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/tasks/GSF000001 HTTP/1.1\r\n")
        started = time.monotonic()
        dropped = False
        while time.monotonic() - started < 20:
            try:
                sock.sendall(b"X")
            except OSError:
                dropped = True
                break
            sock.settimeout(0.3)
            try:
                if sock.recv(1024) == b"":
                    dropped = True
                    break
            except TimeoutError:
                continue
            except OSError:
                dropped = True
                break
        assert dropped


def test_many_idle_connections_starve_no_new_client_and_spin_no_cpu(server):
    idle = []
    try:
        for _ in range(250):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        for half, sock in enumerate(idle):
            if half % 2:
                sock.sendall(b"GET /api/v1/tasks/GSF0")  # a head begun and never finished
        cpu_before = time.process_time()
        wall_before = time.monotonic()
        # The client's own timeout is the bound: it must be answered, not left in the backlog.
        with odm_dyn.Client(server.url, token=CURATOR_TOKEN, retries=0, timeout=(5, 5)) as client:
            for _ in range(5):
                client.get_task_info(client.publish_all_studies().id)
            time.sleep(1.0)  # the server's loop watching 250 idle sockets, with nothing to do
        busy = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)
        assert busy < 0.8  # a loop spinning on the idle sockets takes a whole core (about 1.0)
    finally:
        for sock in idle:
            sock.close()


def test_the_connection_limit_and_timeouts_are_the_servings_settings(server):
    assert server.settings.connection_limit == serving.CONNECTION_LIMIT >= 250
    assert server.settings.idle_seconds == serving.IDLE_SECONDS
    assert server.settings.request_seconds == serving.REQUEST_SECONDS
    with pytest.raises(ValueError):
        serving.EmbeddedServer(host="", port=0).stop()  # an empty host never binds every interface
