"""Issue 12, the client's half: a hostile server, fork(), bare exceptions, pickling, downloads,
the embedded database's secrets. Each test fails on the code before the fix.

No timed assertions: a bound is generous enough that only a hang (the old behaviour) exceeds it.
"""

from __future__ import annotations

import hashlib
import inspect
import multiprocessing
import os
import pickle
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import odm_dyn
from odm_dyn import errors
from odm_dyn.client.retry import parse_retry_after
from odm_dyn.server import EmbeddedServer
from odm_dyn.server.store import Store, legacy_hash
from tests import faults
from tests.conftest import CURATOR_TOKEN, TEST_TASK_SECONDS
from tests.scripted import ScriptedServer

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data"
FEATURES = DATA / "features30.yaml"
HANG = 20.0  # seconds only a hang reaches: the old code held these calls until the sender stopped


# --------------------------------------------------------------------------- 1. fork


def _child_calls(url: str, client: odm_dyn.Client, task_id: str, calls: int, results: multiprocessing.Queue) -> None:
    wrong = 0
    for _ in range(calls):
        if client.get_task_info(task_id).id != task_id:
            wrong += 1
    results.put((task_id, wrong))


def test_a_client_used_before_fork_gives_each_child_answers_of_its_own():
    with EmbeddedServer(task_seconds=TEST_TASK_SECONDS, tokens=[CURATOR_TOKEN]) as server:
        client = odm_dyn.Client(server.url, token=CURATOR_TOKEN)
        ids = [client.publish_all_studies(version_message=f"v{n}").id for n in range(4)]
        client.get_task_info(ids[0])  # a pooled, kept-alive connection the children inherit
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        children = [
            context.Process(target=_child_calls, args=(server.url, client, task_id, 60, results)) for task_id in ids
        ]
        for child in children:
            child.start()
        answers = dict(results.get(timeout=60) for _ in children)
        for child in children:
            child.join(timeout=30)
        assert answers == {task_id: 0 for task_id in ids}  # no child read another's answer
        assert client.get_task_info(ids[1]).id == ids[1]  # and the parent's pool still works
        client.close()


# --------------------------------------------------------------------------- 4. deadlines


def _trickled_body(server: faults.FaultServer, conn: socket.socket, number: int) -> None:
    """A whole head, then a 200-byte body at 2 bytes a second (a byte every half second)."""
    faults.read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
    for byte in faults.TASK_JSON.ljust(200):
        if server.stopped.is_set():
            return
        conn.sendall(bytes([byte]))
        server.wait(0.5)


def _trickled_head(server: faults.FaultServer, conn: socket.socket, number: int) -> None:
    """A status line and headers that never end, 2 bytes a second."""
    faults.read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not server.stopped.is_set():
        conn.sendall(b"X")
        server.wait(0.5)


@pytest.mark.parametrize("behaviour", [_trickled_body, _trickled_head], ids=["body", "head"])
def test_a_trickling_sender_does_not_hold_a_call_past_its_deadline(behaviour):
    # Before: each 2-byte read came within the read timeout, so the call lasted as long as the
    # sender did (100 s for this body, forever for the head).
    with faults.FaultServer(behaviour) as server:
        with odm_dyn.Client(server.url, retries=0, timeout=(1, 1)) as client:
            started = time.monotonic()
            with pytest.raises(odm_dyn.ApiTimeoutError, match="deadline"):
                client.get_task_info("GSF000123")
            assert time.monotonic() - started < HANG


def test_wait_for_task_ends_by_its_timeout_against_a_trickling_server():
    with faults.FaultServer(_trickled_body) as server:
        with odm_dyn.Client(server.url, timeout=(1, 30)) as client:
            started = time.monotonic()
            with pytest.raises(odm_dyn.TaskTimeoutError):
                client.wait_for_task("GSF000123", timeout=3)
            assert time.monotonic() - started < 3 + 5  # its own timeout and a little, not a poll's 30 s


# --------------------------------------------------------------------------- 7. bare exceptions


def test_retry_after_in_superscript_digits_is_no_number():
    assert parse_retry_after("²") is None and parse_retry_after("٣") is None  # noqa: RUF001
    assert parse_retry_after("2") == 2.0
    with ScriptedServer() as server:
        for _ in range(4):
            server.answer(503, b'{"message": "busy"}', headers={"Retry-After": "²"})
        client = odm_dyn.Client(server.url, retries=odm_dyn.RetryPolicy(total=1, backoff=0.01))
        with pytest.raises(odm_dyn.ServiceException):
            client.get_task_info("GSF000123")


RECURSIVE = """
openapi: 3.1.0
info: {title: recursive, version: "1"}
paths:
  /nodes:
    get:
      operationId: getNode
      parameters:
        - {name: n, in: query, schema: {type: integer}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Node"}}}}
components:
  schemas:
    Node:
      type: object
      properties:
        child: {$ref: "#/components/schemas/Node"}
"""


@pytest.fixture
def recursive_spec(tmp_path):
    path = tmp_path / "recursive.yaml"
    path.write_text(RECURSIVE)
    return path


@pytest.mark.parametrize("mode", ["strict", "warn"])
def test_a_valid_answer_400_deep_is_read_and_shown(recursive_spec, mode):
    depth = 400
    with ScriptedServer() as server:
        server.answer(200, '{"child":' * depth + "{}" + "}" * depth)
        client = odm_dyn.Client(server.url, spec=recursive_spec, validate_responses=mode)
        node = client.get_node()
        assert repr(node).startswith("Node(child=Node(")  # was a RecursionError
        assert node.to_dict()["child"]["child"] is not None


def test_an_integer_of_more_digits_than_python_prints_is_refused(recursive_spec):
    import requests

    with EmbeddedServer(spec=recursive_spec, tokens=[CURATOR_TOKEN]) as server:
        client = odm_dyn.Client(server.url, spec=recursive_spec, token=CURATOR_TOKEN)
        with pytest.raises(odm_dyn.RequestValidationError, match="nothing was sent"):
            client.get_node(n=10**5000)
        answer = requests.get(f"{server.url}/nodes?n={'9' * 5000}", timeout=10)
        assert answer.status_code == 400  # was a 500
        assert "integer" in answer.json()["message"]


@pytest.mark.parametrize("timeout", [1e10, (1, 1e10), float("inf")])
def test_a_timeout_beyond_what_sockets_take_is_refused(timeout):
    with pytest.raises(odm_dyn.RequestValidationError, match="at most"):
        odm_dyn.Client("http://127.0.0.1:9", timeout=timeout)
    with pytest.raises(odm_dyn.RequestValidationError, match="at most"):
        odm_dyn.Client("http://127.0.0.1:9").get_task_info("GSF000123", _request_timeout=timeout)


def _early_hints_then_answer(server: faults.FaultServer, conn: socket.socket, number: int) -> None:
    faults.read_request(conn)
    conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
    faults.answer(conn)
    server.wait(0.5)


def test_an_interim_103_answer_is_not_taken_as_the_final_one():
    with faults.FaultServer(_early_hints_then_answer) as server:
        with odm_dyn.Client(server.url, retries=0) as client:
            response = client.get_task_info_with_http_info("GSF000123")
    assert response.status_code == 200 and response.data.id == "GSF000123"


def _serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "odm_dyn", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("kind", ["corrupt", "directory", "nowhere"])
def test_serve_on_a_database_it_cannot_use_says_so(tmp_path, kind):
    path = {"corrupt": tmp_path / "bad.db", "directory": tmp_path / "folder.db", "nowhere": Path("/proc/nope/x.db")}[
        kind
    ]
    if kind == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    elif kind == "directory":
        path.mkdir()
    done = _serve("--db", str(path))
    assert done.returncode == 2, done.stderr
    assert "database" in done.stderr and str(path) in done.stderr
    assert "Traceback" not in done.stderr and "cannot listen" not in done.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes read-only files")
def test_serve_on_a_read_only_database_says_so(tmp_path):
    path = tmp_path / "ro.db"
    Store(path).close()
    path.chmod(0o400)
    done = _serve("--db", str(path))
    assert done.returncode == 2 and "database" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_an_empty_host():
    done = _serve("--host", "")
    assert done.returncode == 2 and "--host" in done.stderr


# --------------------------------------------------------------------------- 8. pickling

SECRET = "tok-3b1f-never-shown"


def _instances() -> dict[type, errors.OdmError]:
    def hide(text: str) -> str:
        return text.replace(SECRET, "[redacted]")

    exchange = {"operation": "getTaskInfo", "status": 200, "headers": {"X-A": "1"}, "body": b"{}"}
    made: dict[type, errors.OdmError] = {
        errors.SpecError: errors.SpecError("bad", file="a.yaml", pointer="/paths"),
        errors.RequestValidationError: errors.RequestValidationError("no", operation="o", parameter="p", rule="r"),
        errors.RequestTypeError: errors.RequestTypeError("no", operation="o", parameter="p", rule="type"),
        errors.ResponseValidationError: errors.ResponseValidationError(
            f"off {SECRET}", errors=[f"e {SECRET}"], hide=hide, **exchange
        ),
        errors.PaginationError: errors.PaginationError("loops", errors=["same cursor"], **exchange),
        errors.ApiTimeoutError: errors.ApiTimeoutError("slow", connect=True),
        errors.TaskTimeoutError: errors.TaskTimeoutError("late", task={"id": "GSF1"}),
        errors.TaskFailedError: errors.TaskFailedError("failed", task=None),
        errors.JobTimeoutError: errors.JobTimeoutError("late", job={"id": "J1"}),
        errors.JobFailedError: errors.JobFailedError("failed"),
    }
    for cls in _tree():
        if cls not in made and issubclass(cls, errors.ApiException):
            made[cls] = cls(
                404, "Not Found", operation="getTaskInfo", headers={"X": "1"}, body=f"no {SECRET}".encode(), hide=hide
            )
        elif cls not in made:
            made[cls] = cls("it failed")
    return made


def _tree() -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.OdmError) and cls.__module__ == errors.__name__
    ]


@pytest.mark.parametrize("cls", _tree(), ids=lambda cls: cls.__name__)
def test_every_error_pickles_and_unpickles_equal(cls):
    error = _instances()[cls]
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls and back == error and str(back) == str(error)
    assert vars(back) == vars(error)
    assert str(back).count(getattr(cls, "hint", "") or "\0") <= 1  # a hint said once, not twice
    assert SECRET not in str(back) and SECRET not in repr(back)


def raise_off_spec() -> None:
    raise errors.ResponseValidationError(
        "getTaskInfo: off spec", operation="getTaskInfo", status=200, headers={}, body=b"[]", errors=["not an object"]
    )


def test_an_off_spec_error_crosses_a_process_pool():
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        future = pool.submit(raise_off_spec)
        with pytest.raises(errors.ResponseValidationError) as caught:
            future.result(timeout=60)  # was BrokenProcessPool: the error could not be unpickled
    assert caught.value.errors == ["not an object"] and caught.value.operation == "getTaskInfo"


# --------------------------------------------------------------------------- 9. downloads


_deflate_bomb = faults.deflated("application/octet-stream", zlib.compress(b"\0" * (8 << 20), 9))  # 8 MiB of zeros


def test_a_download_is_capped_by_what_it_writes_decompressed(tmp_path):
    target = tmp_path / "blob.bin"
    with faults.FaultServer(_deflate_bomb) as server:
        with odm_dyn.Client(server.url, spec=FEATURES, retries=0) as client:
            client.transport.max_response_bytes = 1 << 20
            with pytest.raises(odm_dyn.TransportError, match="larger than"):
                client.get_blob(_stream_to=target)
    assert not target.exists() and not Path(f"{target}.part").exists()


# --------------------------------------------------------------------------- 10. the database


def test_the_database_is_private_and_its_token_hashes_keyed(tmp_path):
    path = tmp_path / "server.db"
    store = Store(path)
    store.add_token("secret-token", "curator", ("ACCESS_ALL_DATA",))
    assert store.user_for_token("secret-token").name == "curator"
    store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        stored = [row[0] for row in db.execute("SELECT token_hash FROM tokens")]
    assert stored and hashlib.sha256(b"secret-token").hexdigest() not in stored
    other = tmp_path / "other.db"
    second = Store(other)
    second.add_token("secret-token", "curator")
    second.close()
    with sqlite3.connect(other) as db:
        assert [row[0] for row in db.execute("SELECT token_hash FROM tokens")] != stored  # a key of its own


def test_an_older_database_with_bare_hashes_still_accepts_its_tokens(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE users (name TEXT PRIMARY KEY, permissions TEXT NOT NULL DEFAULT '');"
            "CREATE TABLE tokens (token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL,"
            " auto INTEGER NOT NULL DEFAULT 0);"
        )
        db.execute("INSERT INTO users VALUES ('curator', 'ACCESS_ALL_DATA')")
        db.execute("INSERT INTO tokens VALUES (?, 'curator', 0)", (legacy_hash("old-token"),))
    store = Store(path)
    assert store.user_for_token("old-token").permissions == {"ACCESS_ALL_DATA"}
    assert store.user_for_token("not-a-token") is None
    store.close()
    with sqlite3.connect(path) as db:
        assert [row[0] for row in db.execute("SELECT token_hash FROM tokens")] != [legacy_hash("old-token")]
    again = Store(path)
    assert again.user_for_token("old-token").name == "curator"  # re-keyed, and still valid
    again.close()


# --------------------------------------------------------------------------- 5. tokens


TOKEN = "tok-9f2e4c1a7b3d5e6f"


def test_a_body_excerpt_cut_through_an_echoed_token_leaves_no_fragment():
    with ScriptedServer() as server:
        body = '{"message": "' + "x" * 273 + "you sent " + TOKEN + '"}'  # the 300-character cut is mid-token
        server.answer(500, body)
        client = odm_dyn.Client(server.url, token=TOKEN, retries=0)
        with pytest.raises(odm_dyn.ServiceException) as caught:
            client.get_task_info("GSF000123")
    shown = str(caught.value) + repr(caught.value)
    assert "tok-9" not in shown  # before: "tok-9" was left at the cut, where no scrubber saw a whole token


def test_the_report_scrubs_headers_and_cut_bodies_by_value():
    from types import SimpleNamespace

    from odm_dyn.secrets import scrubber
    from odm_dyn.testing.report import BODY_CHARS, raw_exchange

    echo = ("y" * (BODY_CHARS - 5) + TOKEN).encode()
    exchange = SimpleNamespace(
        method="GET",
        url="http://h/api",
        request_headers={"Genestack-API-Token": "[redacted]"},
        request_body=None,
        status=401,
        response=SimpleNamespace(reason=f"bad token {TOKEN}", content=echo),
        response_headers={"X-Echo": f"you sent {TOKEN}", "WWW-Authenticate": TOKEN},
    )
    shown = repr(raw_exchange(SimpleNamespace(exchange=exchange), scrubber([TOKEN])))
    assert TOKEN[:6] not in shown  # neither the headers' echo nor the cut body's fragment


def test_showlocals_shows_no_token(pytester, monkeypatch):
    pytester.makepyfile(
        test_leak=f"""
        import odm_dyn
        from tests.scripted import ScriptedServer

        def test_api_error():
            with ScriptedServer() as s:
                s.answer(500, b'{{"message": "echo"}}')
                odm_dyn.Client(s.url, token="{TOKEN}", retries=0).get_task_info("GSF1")

        def test_transport_error():
            odm_dyn.Client("http://127.0.0.1:9", access_token="{TOKEN}", retries=0).get_task_info("GSF1")

        def test_request_error():
            odm_dyn.Client("http://127.0.0.1:9", token="{TOKEN}").get_task_info("GSF1", _headers={{"X": "a\\nb"}})
        """
    )
    root = str(Path(__file__).parent.parent)  # the inner run imports tests.scripted from the checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    result = pytester.runpytest_subprocess("--showlocals", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(failed=3)
    lines = [line for line in result.outlines if TOKEN in line]
    assert all("odm_dyn.Client(" in line for line in lines), lines  # only the test's own source line


@pytest.mark.parametrize("host", [f"http://127.0.0.1:9/?token={TOKEN}", f"http://user:{TOKEN}@127.0.0.1:9"])
def test_a_host_holding_credentials_is_never_echoed(host, monkeypatch):
    monkeypatch.setenv("ODM_HOST", host)
    with pytest.raises(odm_dyn.RequestValidationError) as caught:
        odm_dyn.Client.from_env()
    assert TOKEN not in str(caught.value) and "127.0.0.1" in str(caught.value)
    done = subprocess.run(
        [sys.executable, "-m", "odm_dyn", "--host", host, "tasks-api", "get-task-info", "X"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and TOKEN not in done.stdout + done.stderr
