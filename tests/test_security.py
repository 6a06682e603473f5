"""Secrets never leak, and hostile input on either side is refused cleanly (issue 7).

Client side: a known token is searched for in every log record at DEBUG (urllib3's included),
http.client's wire dump, every error's message, repr and attributes, the reprs of the client
objects, the command line's output and the server's log. Hostile values never change the
request target or the header block. Server side: raw sockets send what no HTTP library would,
and each gets a 4xx JSON answer while the server keeps serving others.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from conftest import serve_process

import odm_dyn
from odm_dyn.client.compat import ApiClient, Configuration
from odm_dyn.client.transport import MAX_RESPONSE_BYTES, Transport
from odm_dyn.server import EmbeddedServer
from tests import faults
from tests.faults import FaultServer
from tests.scripted import ScriptedServer

SECRET = "SeCrEt-t0ken-5a8b"  # known and unusual: any hit is a leak
CURATOR = "curator-sec-9e2f"
DATA = Path(__file__).parent / "data"
EXTRA_SPEC = [odm_dyn.TASKS_SPEC, str(DATA / "extra_ops.yaml")]
TASK = {"id": "GSF000123", "name": "n", "status": "DONE", "application": "publish-versions", "createdBy": "c"}


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


@pytest.fixture(scope="module")
def server():
    with EmbeddedServer(spec=EXTRA_SPEC, task_seconds=0.3, tokens=[CURATOR]) as server:
        yield server


def everything_about(error: BaseException) -> str:
    """An error as anyone could see it: message, repr, args, attributes, the errors chained to it."""
    seen = [str(error), repr(error), repr(error.args), repr(vars(error))]
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            seen.append(everything_about(linked))
    return "\n".join(seen)


# --------------------------------------------------------------------------- secrets


@pytest.fixture
def wire_dump(monkeypatch):
    """http.client's own debug output switched on for every connection, as a user debugging would."""
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 1)


def exercise(url: str) -> list[BaseException]:
    """Calls that succeed, fail on the server, fail off-spec, fail locally and fail to connect."""
    caught: list[BaseException] = []
    policy = odm_dyn.RetryPolicy(total=1, backoff=0.001)
    for client in (
        odm_dyn.Client(url, token=SECRET, access_token=SECRET, retries=policy),
        odm_dyn.Client(url, credentials={"Genestack-API-Token": SECRET}, retries=policy),
        ApiClient(Configuration(host=url, api_key={"Genestack-API-Token": SECRET}, retries=1)).client,
    ):
        for call in (
            lambda c: c.get_task_info("GSF000123"),
            lambda c: c.get_task_info("GSF000123"),
            lambda c: c.publish_all_studies(version_message="x"),
            lambda c: c.get_task_info("GSF000123"),
            lambda c: c.get_task_info(12),
            lambda c: c.get_task_info("A", _headers={"X-Bad": "a\r\nb"}),
            lambda c: c.get_task_info("GSF000123", _request_timeout=0.3),
        ):
            try:
                call(client)
            except odm_dyn.OdmError as exc:
                caught.append(exc)
        caught_repr = repr(client) + repr(client.transport) + repr(client.tasks_api)
        caught.append(RuntimeError(caught_repr))
        client.close()
    return caught


def script_every_kind_of_answer(server: ScriptedServer) -> None:
    def handler(request):
        from tests.scripted import Answer

        kind = len(server.received) % 7
        if kind == 1:
            return Answer(401, b'{"message": "not authenticated"}')
        if kind == 2:
            return Answer(503, b"", {"Retry-After": "0"})
        if kind == 3:
            return Answer(200, b'{"status": ["SLEEPING"]}')  # off-spec: a list where a string belongs
        if kind == 4:
            time.sleep(0.5)  # longer than the call's timeout
        return Answer(200, json.dumps(TASK).encode())

    server.handler = handler


def test_a_token_appears_in_no_log_line_error_or_repr(scripted, caplog, capfd, wire_dump):
    script_every_kind_of_answer(scripted)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            errors = exercise(scripted.url)
            errors += exercise("http://127.0.0.1:1")  # refused
    finally:
        logging.getLogger("urllib3").setLevel(logging.NOTSET)
    assert scripted.received and all(r.headers.get("Genestack-API-Token") == SECRET for r in scripted.received)
    kinds = {type(e).__name__ for e in errors}
    assert {"UnauthorizedException", "ResponseValidationError", "RequestTypeError", "ApiTimeoutError"} <= kinds
    assert {"RequestValidationError", "ApiConnectionError"} <= kinds
    logged = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "urllib3.connectionpool" in logged and "odm_dyn" in logged  # the loggers did speak
    out, err = capfd.readouterr()
    for text in [logged, out, err, *map(everything_about, errors)]:
        assert SECRET not in text


def test_reprs_of_every_configuration_object_hide_the_token():
    config = Configuration(host="http://h", api_key={"Genestack-API-Token": SECRET}, access_token=SECRET)
    api_client = ApiClient(config)
    client = odm_dyn.Client("http://h", token=SECRET, access_token=SECRET)
    seen = (repr(config), str(config), repr(api_client), repr(client), str(client), repr(client.transport))
    for text in (*seen, repr(client._settings)):  # the settings are a local of every call's frames
        assert SECRET not in text
    assert "Genestack-API-Token" in repr(client) or "auth=" in repr(client)


def test_a_token_with_a_line_break_is_refused_without_echoing_it():
    with pytest.raises(odm_dyn.RequestValidationError) as caught:
        odm_dyn.Client("http://h", token=SECRET + "\r\nX-Injected: 1")
    assert SECRET not in everything_about(caught.value)


def test_the_command_line_never_prints_the_token(server):
    odm = [sys.executable, "-m", "odm_dyn"]
    runs = [
        [*odm, "--host", server.url, "--token", SECRET, "tasks-api", "get-task-info", "GSF000001"],  # 401
        [*odm, "--host", server.url, "--token", SECRET, "call", "publishAllStudies"],  # 401
        [*odm, "--host", "http://127.0.0.1:1", "--token", SECRET, "--retries", "0", "call", "getTaskInfo", "A"],
        [*odm, "--host", server.url, "--access-token", SECRET, "call", "getTaskInfo", "--id", "x" * 10],
        [*odm, "--host", server.url, "--token", SECRET + "\n", "call", "getTaskInfo", "A"],
    ]
    env = {**os.environ, "ODM_API_TOKEN": SECRET}
    for command in runs:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode != 0, done
        assert SECRET not in done.stdout + done.stderr
        assert done.stderr.strip()  # it did say what went wrong


def test_the_server_log_never_holds_a_token(tmp_path):
    log_path = tmp_path / "serve.log"
    process, base = serve_process(log_path, "--db", str(tmp_path / "s.db"), "--token", SECRET, "--task-seconds", "0.2")
    port = int(base.rsplit(":", 1)[1])
    try:
        with odm_dyn.Client(base, token=SECRET) as client:
            client.get_task_info(client.publish_all_studies().id)
        requests.get(f"{base}/api/v1/tasks/GSF000001?token={SECRET}", headers={"Authorization": SECRET}, timeout=5)
        requests.get(f"{base}/nowhere/{SECRET}-not-here", timeout=5)
        send_raw(port, f"GARBAGE /?token={SECRET}\r\n\r\n".encode())
        send_raw(port, f"GET /?token={SECRET} HTTP/9.9\r\n\r\n".encode())
        send_raw(port, b"GET / HTTP/1.1\r\nX-Token: " + SECRET.encode() * 5000 + b"\r\n\r\n")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    text = log_path.read_text()
    assert "GET" in text and "publishAllStudies" in text and "malformed" in text  # it logged those requests
    # The path is logged as sent: a token pasted into a path is the one place it may show.
    assert SECRET not in text.replace(f"/nowhere/{SECRET}-not-here", "")


# --------------------------------------------------------------------------- hostile input, client side


@pytest.mark.parametrize(
    "value",
    ["../../admin", "..", ".", "a/b", "?x=1", "#frag", "%2F", "%2e%2e", "a\x00b", "ü/ö", "\u202e", "a;b=c", "a\\b"],
)
def test_hostile_path_values_stay_one_segment_on_the_wire(scripted, value):
    scripted.handler = lambda r: faults_answer()
    with odm_dyn.Client(scripted.url, retries=0) as client:
        client.get_task_info(value)
    target = scripted.received[0].target
    assert target.startswith("/api/v1/tasks/") and "?" not in target and "#" not in target
    segment = target.removeprefix("/api/v1/tasks/")
    assert "/" not in segment and segment not in (".", "..") and re.fullmatch(r"[A-Za-z0-9%._~-]+", segment)
    assert requests.utils.unquote(segment) == value


def faults_answer():
    from tests.scripted import Answer

    return Answer(200, json.dumps(TASK).encode())


def test_an_empty_path_value_is_refused(scripted):
    with odm_dyn.Client(scripted.url) as client:
        with pytest.raises(odm_dyn.RequestValidationError, match="empty"):
            client.get_task_info("")
    assert scripted.received == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "a\r\nInjected: 1"},
        {"X-A": "a\nb"},
        {"X-A": "a\rb"},
        {"X-A": "a\x00b"},
        {"X-A\r\nInjected": "1"},
        {"X A": "1"},
        {"X-A:": "1"},
        {"X-A": "€uro"},
    ],
)
def test_header_injection_is_refused_before_sending(scripted, headers):
    with odm_dyn.Client(scripted.url) as client:
        with pytest.raises(odm_dyn.RequestValidationError):
            client.get_task_info("A", _headers=headers)
    assert scripted.received == []


def test_deeply_nested_and_cyclic_bodies_are_refused_clearly(scripted):
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    cyclic: dict = {"name": "n"}
    cyclic["self"] = cyclic
    with odm_dyn.Client(scripted.url, spec=str(DATA / "params.yaml")) as client:
        for body in ({"name": "n", "size": 1, "extra": deep}, cyclic):
            with pytest.raises(odm_dyn.RequestValidationError) as caught:
                client.create_item(body=body)
            assert "nothing was sent" in str(caught.value) or "JSON" in str(caught.value)
        with odm_dyn.Client(scripted.url, spec=str(DATA / "params.yaml"), validate_requests="off") as unchecked:
            with pytest.raises(odm_dyn.RequestValidationError):
                unchecked.create_item(body={"name": deep})
    assert scripted.received == []


def test_a_huge_body_gets_a_clear_413_and_the_server_keeps_serving(server):
    with odm_dyn.Client(server.url, spec=EXTRA_SPEC, token=CURATOR, retries=0) as client:
        with pytest.raises(odm_dyn.ApiException) as caught:
            client.call("searchStudies", body={"query": "x" * (11 * 1024 * 1024)})
        assert caught.value.status == 413 and "too large" in str(caught.value)
        assert client.publish_all_studies().status == "CREATED"


def test_answers_are_capped_by_default():
    assert Transport("http://127.0.0.1:9").max_response_bytes == MAX_RESPONSE_BYTES
    with odm_dyn.Client("http://127.0.0.1:9") as client:
        assert client.transport.max_response_bytes == MAX_RESPONSE_BYTES


def test_an_endless_answer_is_cut_at_the_cap_not_memory():
    with FaultServer(faults.endless_body) as fault:
        with odm_dyn.Client(fault.url, retries=0) as client:
            client.transport.max_response_bytes = 4 << 20  # the default's behaviour, at a size a test can afford
            with pytest.raises(odm_dyn.TransportError, match=f"larger than {4 << 20} bytes"):
                client.get_task_info("A")


# --------------------------------------------------------------------------- hostile input, server side


def send_raw(port: int, data: bytes, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """Send bytes, read one answer: (status, headers, body); status 0 when nothing came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
                head, _, body = received.partition(b"\r\n\r\n")
                found = re.search(rb"content-length: *(\d+)", head, re.I)
                if found and len(body) >= int(found.group(1)):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    head, _, body = received.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        return (0, {}, received)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


TOKEN_HEADER = f"Genestack-API-Token: {CURATOR}\r\n".encode()
HOSTILE = {
    "garbage request line": (b"GARBAGE\r\n\r\n", 400),
    "unknown method": (b"FROB /api/v1/tasks/GSF000001 HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    "unknown method, unknown path": (b"BREW /coffee HTTP/1.1\r\nHost: h\r\n\r\n", 404),
    "invalid UTF-8 in the path": (b"GET /api/v1/tasks/\xff\xfe HTTP/1.1\r\nHost: h\r\n" + TOKEN_HEADER + b"\r\n", 400),
    "percent-encoded invalid UTF-8": (
        b"GET /api/v1/tasks/%ff%c0 HTTP/1.1\r\nHost: h\r\n" + TOKEN_HEADER + b"\r\n",
        404,
    ),
    "malformed percent escapes": (b"GET /api/v1/tasks/%zz%4 HTTP/1.1\r\nHost: h\r\n" + TOKEN_HEADER + b"\r\n", 404),
    "a number too big for the store": (
        b"GET /api/v1/tasks/GSF" + b"9" * 40 + b" HTTP/1.1\r\nHost: h\r\n" + TOKEN_HEADER + b"\r\n",
        404,
    ),
    "invalid UTF-8 in the body": (
        b"POST /api/v1/studies/search HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
        + TOKEN_HEADER
        + b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
        400,
    ),
    "JSON nested too deep": (
        b"POST /api/v1/studies/search HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
        + TOKEN_HEADER
        + b"Content-Length: 200000\r\n\r\n"
        + b"[" * 100000
        + b"]" * 100000,
        400,
    ),
    "Content-Length not a number": (b"POST /api/v1/tasks/publish-versions HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
    "negative Content-Length": (b"POST /api/v1/tasks/publish-versions HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    "oversized Content-Length": (b"POST /api/v1/studies/search HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
    "broken chunked body": (
        b"POST /api/v1/studies/search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "oversized header line": (b"GET /api/v1/tasks/A HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431),
    "too many headers": (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
    "oversized URL": (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 431),  # the head as a whole is too large
    "absolute-form target": (b"GET http://elsewhere/api/v1/tasks/A HTTP/1.1\r\nHost: h\r\n\r\n", 401),
    "asterisk target": (b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 404),
    "NUL in the path": (b"GET /api/v1/tasks/a%00b HTTP/1.1\r\nHost: h\r\n" + TOKEN_HEADER + b"\r\n", 404),
    "Prefer for a code not declared": (
        b"GET /api/v1/tasks/A HTTP/1.1\r\nHost: h\r\nPrefer: code=599\r\n" + TOKEN_HEADER + b"\r\n",
        400,
    ),
}


@pytest.mark.parametrize("data, status", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_requests_get_a_4xx_json_answer_and_the_server_keeps_serving(server, data, status):
    got, headers, body = send_raw(server.port, data)
    assert got == status, body[:300]
    answer = json.loads(body)
    assert answer["status"] == status and answer["message"]
    assert b"Traceback" not in body and b'File "' not in body
    assert requests.get(f"{server.url}/api/v1/tasks/GSF000001", headers={"Genestack-API-Token": CURATOR}).ok is not None
    alive = requests.post(f"{server.url}/api/v1/tasks/publish-versions", headers={"Genestack-API-Token": CURATOR})
    assert alive.status_code == 200


def test_an_unsupported_http_version_is_refused_with_json(server):
    got, _, body = send_raw(server.port, b"GET / HTTP/9.9\r\n\r\n")
    assert got == 505 and json.loads(body)["status"] == 505  # HTTP's own answer for this case


def stall(server: EmbeddedServer, count: int) -> list[socket.socket]:
    """Connections that send half a request, then nothing: half a head, or a head and half a body."""
    stalled = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    for n, sock in enumerate(stalled):
        if n % 2:
            sock.sendall(b"POST /api/v1/studies/search HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        else:
            sock.sendall(b"GET /api/v1/tasks/GSF000001 HTTP/1.1\r\nHost: h\r\n")
    return stalled


def test_slow_clients_block_no_one(server, monkeypatch):
    server.settings.idle_seconds = 120  # they stay for the whole test
    stalled = stall(server, 8)
    try:
        # A server that waited for them would leave these calls to time out.
        with odm_dyn.Client(server.url, token=CURATOR, retries=0, timeout=10) as client:
            for _ in range(10):
                client.get_task_info(client.publish_all_studies().id)
    finally:
        for sock in stalled:
            sock.close()


def test_a_slow_client_is_dropped_after_the_idle_timeout(server, monkeypatch):
    server.settings.idle_seconds = 0.5
    for sock in stall(server, 8):
        sock.settimeout(30)
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
        sock.close()
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400")  # closed, never a 500 and never left open


def test_many_concurrent_stalled_connections_do_not_starve_the_server(server):
    stalled = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET /api/v1/ta")
            stalled.append(sock)
        results: list[int] = []

        def call() -> None:
            answer = requests.get(f"{server.url}/api/v1/tasks/GSF000001", headers={"Genestack-API-Token": CURATOR})
            results.append(answer.status_code)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(results) == [200] * 8
    finally:
        for sock in stalled:
            sock.close()
