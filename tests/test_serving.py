"""The embedded server's own serving (``server/httpd.py``): lingering workers, parked
connections, pipelining, send deadlines, framing, the connection limit and stop.

Guards count work (the selector thread's hand-offs to workers and the connections parked back
with it), never time; every wait is bounded by a socket timeout or a bounded loop.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from typing import Callable, Iterator

import pytest

import odm_dyn
from odm_dyn.server.httpd import HttpServer, Settings
from tests.conftest import CURATOR_TOKEN

TOKEN_HEADER = f"Genestack-API-Token: {CURATOR_TOKEN}\r\n".encode()


@contextlib.contextmanager
def serving(app: Callable, **settings: object) -> Iterator[HttpServer]:
    """A bare WSGI app on the embedded server's serving, in a background thread."""
    server = HttpServer(app, socket.create_server(("127.0.0.1", 0)), Settings(**settings))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(10)
        assert not thread.is_alive()


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Read ``count`` answers framed by Content-Length from a socket (its timeout bounds it)."""
    buffer, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {len(answers)} answers"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk
            buffer += chunk
        answers.append((int(lines[0].split()[1]), headers, buffer[:length]))
        buffer = buffer[length:]
    return answers


def wait_until(condition: Callable[[], bool], bound: float = 10.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.01)


def read_to_end(sock: socket.socket) -> bytes:
    """Everything until the server closes (``TimeoutError`` if it never does)."""
    received = b""
    try:
        while chunk := sock.recv(1 << 20):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def published(server: odm_dyn.server.EmbeddedServer) -> str:
    with odm_dyn.Client(server.url, token=CURATOR_TOKEN, retries=0) as client:
        return str(client.publish_all_studies().id)


def get(task_id: str) -> bytes:
    return f"GET /api/v1/tasks/{task_id} HTTP/1.1\r\nHost: h\r\n".encode() + TOKEN_HEADER + b"\r\n"


# --------------------------------------------------------------------------- lingering and parking


def test_a_hot_kept_alive_connection_is_served_by_one_worker_without_hand_offs(server):
    # waitress handed every request from its loop to a worker and back: 2 hand-offs each.
    server.settings.linger_seconds = 5  # longer than this client could ever pause between requests
    task_id = published(server)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", f"/api/v1/tasks/{task_id}", headers={"Genestack-API-Token": CURATOR_TOKEN})
    connection.getresponse().read()
    handed, parked = server.counts.handed, server.counts.parked
    for _ in range(50):
        connection.request("GET", f"/api/v1/tasks/{task_id}", headers={"Genestack-API-Token": CURATOR_TOKEN})
        answer = connection.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["id"] == task_id
    connection.close()
    assert (server.counts.handed - handed, server.counts.parked - parked) == (0, 0)


def test_a_connection_parked_mid_head_is_resumed_where_it_stopped(server):
    server.settings.linger_seconds = 0.01
    task_id = published(server)
    head = get(task_id)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        parked = server.counts.parked
        sock.sendall(head[:20])
        wait_until(lambda: server.counts.parked > parked)  # its worker gave it back, half a head parsed
        handed = server.counts.handed
        sock.sendall(head[20:])
        ((status, _, body),) = read_answers(sock, 1)
        assert status == 200 and json.loads(body)["id"] == task_id
        assert server.counts.handed == handed + 1  # the rest went to a worker, which finished the parse


def test_pipelined_requests_are_answered_in_order(server):
    first, second = published(server), published(server)
    search = b'{"filter":"x"}'
    post = (
        b"POST /api/v1/tasks/publish-versions HTTP/1.1\r\nHost: h\r\n"
        + TOKEN_HEADER
        + b"Content-Length: %d\r\n\r\n%s" % (len(search), search)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(get(first) + post + get(second) + get(first))
        answers = read_answers(sock, 4)
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    ids = [json.loads(body)["id"] for _, _, body in answers]
    assert ids[0] == ids[3] == first and ids[2] == second and ids[1] not in (first, second)


def test_more_trickling_clients_than_workers_leave_a_new_client_answered(server):
    # Each trickler sends a byte of its head now and then: it holds a socket, never a worker.
    tricklers = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(24)]
    stop = threading.Event()

    def trickle() -> None:
        offset = 0
        head = b"GET /api/v1/tasks/GSF000001 HTTP/1.1\r\nHost: h\r\nX-Padding: " + b"a" * 1000
        while not stop.wait(0.02) and offset < len(head):
            for sock in tricklers:
                sock.sendall(head[offset : offset + 1])
            offset += 1

    driver = threading.Thread(target=trickle, daemon=True)
    driver.start()
    try:
        with odm_dyn.Client(server.url, token=CURATOR_TOKEN, retries=0, timeout=(5, 5)) as client:
            for _ in range(5):
                assert client.get_task_info(client.publish_all_studies().id).status
        assert driver.is_alive()  # still trickling while the new client was answered
    finally:
        stop.set()
        driver.join(10)
        for sock in tricklers:
            sock.close()


# --------------------------------------------------------------------------- a bare app on the serving


def _app(environ: dict, start_response: Callable) -> object:
    path = environ["PATH_INFO"]
    if path == "/big":
        body = b"x" * (8 << 20)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/pieces":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"one,", b"", b"two,", b"three"])
    if path == "/fails":
        raise RuntimeError("a bug in the app")
    if path == "/short":
        start_response("200 OK", [("Content-Length", "10")])
        return iter([b"12345"])
    if path == "/negative":
        start_response("200 OK", [("Content-Length", "-5")])
        return [b"12345"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
    return [b"small"]


def test_a_client_that_never_reads_its_answer_holds_a_worker_only_until_the_send_deadline():
    with serving(_app, threads=2, send_seconds=0.5) as server:
        readers = []
        for _ in range(2):  # as many as there are workers: each one sends until its deadline
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(10)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
            readers.append(sock)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
            other.sendall(b"GET /small HTTP/1.1\r\nHost: h\r\n\r\n")
            assert read_answers(other, 1)[0][2] == b"small"  # a worker was free again
        for sock in readers:
            assert len(read_to_end(sock)) < 8 << 20  # cut: the server closed it, not a full answer
            sock.close()


def test_answers_are_framed_by_chunks_for_1_1_and_by_the_close_for_1_0():
    with serving(_app) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /pieces HTTP/1.1\r\nHost: h\r\n\r\nGET /small HTTP/1.1\r\nHost: h\r\n\r\n")
            received = read_to_end(sock)  # the second answer's dropped Connection: close still ends it
        first, _, rest = received.partition(b"0\r\n\r\n")
        assert b"Transfer-Encoding: chunked\r\n" in first and b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n" in first
        assert rest.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 5\r\n" in rest
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /pieces HTTP/1.0\r\n\r\n")
            received = read_to_end(sock)
        assert b"Connection: close\r\n" in received and received.endswith(b"\r\n\r\none,two,three")


def test_head_gets_no_body_and_1_0_keep_alive_is_kept():
    with serving(_app) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"HEAD /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(65536)
        assert b"Content-Length: 8388608\r\n" in head and b"Connection: keep-alive\r\n" in head
        assert head.endswith(b"\r\n\r\n")  # and nothing after: the next answer is the next request's
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        answer = read_to_end(sock)
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"x" * 100) and b"Connection: close" in answer


def test_an_app_that_fails_gets_a_json_500_and_a_short_answer_a_close():
    with serving(_app) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /fails HTTP/1.1\r\nHost: h\r\n\r\n")
            received = read_to_end(sock)
        assert received.startswith(b"HTTP/1.1 500 ") and json.loads(received.partition(b"\r\n\r\n")[2])["status"] == 500
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /short HTTP/1.1\r\nHost: h\r\n\r\n")
            received = read_to_end(sock)  # the app declared 10 bytes and gave 5: only a close ends it
        assert received.endswith(b"\r\n\r\n12345")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"HEAD /negative HTTP/1.1\r\nHost: h\r\n\r\n")
            received = read_to_end(sock)  # a length no client could frame by is never sent
        assert received.startswith(b"HTTP/1.1 500 ") and b"Content-Length: -5" not in received


def test_the_connection_limit_leaves_the_rest_in_the_backlog_until_one_closes():
    with serving(_app, connection_limit=3) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
        wait_until(lambda: server.counts.accepted == 3)
        waiting = socket.create_connection(("127.0.0.1", server.port), timeout=10)  # in the backlog
        waiting.sendall(b"GET /pieces HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        held[0].sendall(b"GET /small HTTP/1.1\r\nHost: h\r\n\r\n")
        assert read_to_end(held[0]).endswith(b"small")  # a round trip through the selector thread...
        held[1].close()  # ...and one more closed: there is room for the one waiting
        assert read_to_end(waiting).endswith(b"three\r\n0\r\n\r\n") and server.counts.accepted == 4
        for sock in [*held, waiting]:
            sock.close()


def test_stop_closes_lingering_and_parked_connections():
    with serving(_app, linger_seconds=5) as server:
        lingering = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        lingering.sendall(b"GET /pieces HTTP/1.1\r\nHost: h\r\n\r\n")
        received = b""
        while not received.endswith(b"0\r\n\r\n"):  # the whole chunked answer
            received += lingering.recv(65536)
        # its worker now waits on it for the next request
        parked = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        wait_until(lambda: server.counts.accepted == 2)
    for sock in (lingering, parked):
        assert read_to_end(sock) == b""  # closed by the server, not left talking to nothing
        sock.close()


# --------------------------------------------------------------------------- refusals of the embedded server


def test_a_tls_handshake_is_refused_at_once_in_plain_http(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 32)
        received = read_to_end(sock)
    assert received.startswith(b"HTTP/1.1 400 ")
    assert "TLS" in json.loads(received.partition(b"\r\n\r\n")[2])["message"]


@pytest.mark.parametrize("version, kept", [("1.0", False), ("1.1", True)])
def test_http_1_0_is_closed_after_its_answer_and_1_1_kept(server, version, kept):
    task_id = published(server)
    request = get(task_id).replace(b"HTTP/1.1", f"HTTP/{version}".encode())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        ((status, headers, _),) = read_answers(sock, 1)
        assert status == 200 and ("connection" in headers) is not kept
        if kept:
            sock.sendall(request)
            assert read_answers(sock, 1)[0][0] == 200
        else:
            assert sock.recv(10) == b""
