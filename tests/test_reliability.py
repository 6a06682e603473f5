"""Retries, timeouts, broken answers, load and faults (issue 7), against scripted and real servers.

Back-off values are tiny and sleeps are recorded instead of slept wherever the length of a wait
is what is being checked, so the whole file runs in seconds.
"""

from __future__ import annotations

import copy
import email.utils
import json
import logging
import pickle
import random
import signal
import subprocess
import threading
import time
import weakref
from pathlib import Path

import pytest
from conftest import restart_on_port, serve_process

import odm_dyn
from odm_dyn.client.transport import DEFAULT_TIMEOUT, RetryPolicy, parse_retry_after
from odm_dyn.server import EmbeddedServer
from tests import faults
from tests.faults import FaultServer
from tests.scripted import ScriptedServer

TOKEN = "reliability-token-7d1e"
TASK = {"id": "GSF000123", "name": "n", "status": "DONE", "application": "publish-versions", "createdBy": "c"}
FAST = RetryPolicy(total=3, backoff=0.001, max_backoff=0.002)
SLOW_BOX = 15  # seconds: an upper bound that only a hang exceeds, even on a busy 2-core CI machine


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def sleeps(retry_pauses):
    """The transport's waits (Client's and AsyncClient's), recorded instead of slept: not
    time.sleep, since test servers still sleep."""
    return retry_pauses


def ok(server: ScriptedServer, data: dict = TASK) -> None:
    server.answer(200, json.dumps(data))


# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_get_is_retried_on_each_retry_status(make_client, scripted, status):
    scripted.answer(status, b"", content_type=None)
    ok(scripted)
    with make_client(scripted.url, retries=FAST) as client:
        answer = client.get_task_info_with_http_info("GSF000123")
    assert answer.status_code == 200 and len(scripted.received) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 409, 500, 501])
def test_other_statuses_are_not_retried(make_client, scripted, status):
    scripted.answer(status, b"{}")
    with make_client(scripted.url, retries=FAST) as client:
        with pytest.raises(odm_dyn.ApiException) as caught:
            client.get_task_info("GSF000123")
    assert caught.value.status == status and len(scripted.received) == 1


def test_connection_errors_are_retried_for_get(make_client):
    with FaultServer(faults.fail_first_then_answer(2)) as server:
        with make_client(server.url, retries=FAST) as client:
            assert client.get_task_info("GSF000123").status == "DONE"
    assert server.connections == 3


def test_exhausted_retries_end_with_the_last_answer(make_client, scripted, caplog):
    scripted.default.status, scripted.default.body = 503, b"{}"
    with caplog.at_level(logging.WARNING, logger="odm_dyn.transport"):
        with make_client(scripted.url, retries=FAST) as client:
            with pytest.raises(odm_dyn.ServiceException) as caught:
                client.get_task_info("GSF000123")
    assert caught.value.status == 503 and len(scripted.received) == FAST.total + 1
    lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert [line.split("; ")[1].split(" in ")[0] for line in lines] == ["retry 1 of 3", "retry 2 of 3", "retry 3 of 3"]
    assert all("GET /api/v1/tasks/GSF000123 answered 503" in line for line in lines)


def test_backoff_doubles_up_to_its_cap_with_full_jitter(make_client, scripted, sleeps, monkeypatch):
    bounds: list[float] = []

    def highest(low: float, high: float) -> float:
        bounds.append(high)
        return high

    monkeypatch.setattr("odm_dyn.client.retry._jitter", highest)
    scripted.default.status = 503
    policy = RetryPolicy(total=5, backoff=0.1, max_backoff=0.5)
    with make_client(scripted.url, retries=policy) as client:
        with pytest.raises(odm_dyn.ServiceException):
            client.get_task_info("GSF000123")
    assert bounds == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5]) and sleeps == bounds


def test_jitter_spreads_the_waits_below_the_bound():
    policy = RetryPolicy(backoff=1.0, max_backoff=8.0)
    waits = [policy.delay(2, None) for _ in range(200)]
    assert all(0 <= w <= 4.0 for w in waits) and len({round(w, 3) for w in waits}) > 150


def test_a_retry_policy_is_an_immutable_value():
    policy = RetryPolicy(total=3, backoff=0.5, max_backoff=8, retry_after_cap=30, total_time=60)  # the README's
    assert policy == RetryPolicy() and hash(policy) == hash(RetryPolicy())  # its defaults
    assert RetryPolicy(1, 0.25) == RetryPolicy(total=1, backoff=0.25) != RetryPolicy(total=1)
    assert policy != (3, 0.5, 8, 30, 60)  # a value of its own, not a tuple
    with pytest.raises(AttributeError, match="immutable: cannot assign to 'total'"):
        policy.total = 0
    with pytest.raises(AttributeError, match="immutable: cannot delete 'backoff'"):
        del policy.backoff
    fewer = policy.replace(total=0, total_time=5)
    assert (fewer.total, fewer.total_time, fewer.backoff, policy.total) == (0, 5, 0.5, 3)
    assert pickle.loads(pickle.dumps(fewer)) == fewer == copy.deepcopy(fewer)
    assert repr(RetryPolicy(total=1)).startswith("RetryPolicy(total=1, backoff=0.5, max_backoff=8.0, ")
    with pytest.raises(TypeError, match="tries"):
        policy.replace(tries=1)
    assert weakref.ref(policy)() is policy  # as the dataclass it was


def test_a_violation_is_an_immutable_value_that_pickles():
    from odm_dyn.api.schemas import Violation
    from odm_dyn.testing import ExchangeViolation

    for found in (
        Violation("$.id", "type", "is not a string", value="t0ken"),
        ExchangeViolation("$.id", "type", "m", "request"),
    ):
        assert pickle.loads(pickle.dumps(found)) == found == copy.copy(found) and hash(copy.deepcopy(found)) == hash(
            found
        )
        with pytest.raises(AttributeError, match="immutable: cannot assign to 'path'"):
            found.path = "$"
        with pytest.raises(AttributeError, match="immutable: cannot delete 'rule'"):
            del found.rule
    assert pickle.loads(pickle.dumps(Violation("$", "type", "m", value=[1]))).value == [1]


def test_retry_after_seconds_is_honoured_and_capped(make_client, scripted, sleeps):
    scripted.answer(503, b"", content_type=None, headers={"Retry-After": "2"})
    scripted.answer(429, b"", content_type=None, headers={"Retry-After": "3600"})
    ok(scripted)
    with make_client(scripted.url, retries=RetryPolicy(total=3, retry_after_cap=30.0)) as client:
        client.get_task_info("GSF000123")
    assert sleeps == [2.0, 30.0]


def test_retry_after_http_date_is_honoured(make_client, scripted, sleeps):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    scripted.answer(503, b"", content_type=None, headers={"Retry-After": when})
    ok(scripted)
    with make_client(scripted.url, retries=RetryPolicy(total=1)) as client:
        client.get_task_info("GSF000123")
    assert 15 < sleeps[0] <= 20


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        ("-5", None),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value, expected):
    assert parse_retry_after(value) == expected


def test_unparsable_retry_after_falls_back_to_backoff(make_client, scripted, sleeps):
    scripted.answer(503, b"", content_type=None, headers={"Retry-After": "whenever"})
    ok(scripted)
    with make_client(scripted.url, retries=RetryPolicy(total=1, backoff=0.01, max_backoff=0.01)) as client:
        client.get_task_info("GSF000123")
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.01


def test_publish_is_never_retried_by_default(make_client, scripted):
    scripted.default.status = 503
    with make_client(scripted.url, retries=FAST) as client:
        with pytest.raises(odm_dyn.ServiceException):
            client.publish_all_studies(version_message="once")
    assert len(scripted.received) == 1 and scripted.received[0].method == "POST"


def test_publish_is_not_retried_after_a_dropped_connection_either(make_client):
    with FaultServer(faults.fail_first_then_answer(1)) as server:
        with make_client(server.url, retries=FAST) as client:
            with pytest.raises(odm_dyn.ApiConnectionError):
                client.publish_all_studies()
    assert server.connections == 1


def test_post_is_retried_when_the_client_opts_in(make_client, scripted):
    scripted.answer(503, b"", content_type=None)
    ok(scripted)
    with make_client(scripted.url, retries=FAST, retry_unsafe=True) as client:
        client.publish_all_studies()
    assert [r.method for r in scripted.received] == ["POST", "POST"]


def test_post_is_retried_when_one_call_opts_in(make_client, scripted):
    scripted.answer(503, b"", content_type=None)
    ok(scripted)
    scripted.answer(503, b"", content_type=None)
    with make_client(scripted.url, retries=FAST) as client:
        client.publish_all_studies(_retry_unsafe=True)
        with pytest.raises(odm_dyn.ServiceException):
            client.publish_all_studies()  # the next call is back to the default
    assert len(scripted.received) == 3


def test_a_call_can_refuse_retries_the_client_allows(make_client, scripted):
    scripted.default.status = 503
    with make_client(scripted.url, retries=FAST, retry_unsafe=True) as client:
        with pytest.raises(odm_dyn.ServiceException):
            client.publish_all_studies(_retry_unsafe=False)
        with pytest.raises(odm_dyn.ServiceException):
            client.get_task_info("GSF000123", _retries=0)
    assert len(scripted.received) == 2


def test_retries_stop_when_the_total_time_is_spent(make_client, scripted):
    scripted.default.status = 503
    policy = RetryPolicy(total=10_000, backoff=0.01, max_backoff=0.02, total_time=0.3)
    started = time.monotonic()
    with make_client(scripted.url, retries=policy) as client:
        with pytest.raises(odm_dyn.ServiceException):
            client.get_task_info("GSF000123")
    assert time.monotonic() - started < SLOW_BOX  # 10,000 retries would take minutes
    assert 2 < len(scripted.received) < 200


def test_a_retry_after_beyond_the_total_time_ends_the_retries_at_once(make_client, scripted, sleeps):
    scripted.default.status = 503
    scripted.default.headers = {"Retry-After": "25"}
    with make_client(scripted.url, retries=RetryPolicy(total=5, total_time=20)) as client:
        with pytest.raises(odm_dyn.ServiceException):
            client.get_task_info("GSF000123")
    assert sleeps == [] and len(scripted.received) == 1


# --------------------------------------------------------------------------- timeouts


def test_every_call_carries_a_connect_and_read_timeout(scripted, monkeypatch):
    import urllib3

    seen: list[tuple[object, object]] = []
    original = urllib3.HTTPConnectionPool.urlopen

    def spy(pool, *args, **kwargs):
        sauce = kwargs["timeout"]
        seen.append((sauce.connect_timeout, sauce.read_timeout))
        return original(pool, *args, **kwargs)

    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", spy)
    for _ in range(3):
        ok(scripted)
    with odm_dyn.Client(scripted.url, retries=0) as client:
        client.get_task_info("GSF000123")
        client.get_task_info("GSF000123", _request_timeout=2.5)
        client.get_task_info("GSF000123", _request_timeout=(1, None))
    assert seen == [DEFAULT_TIMEOUT, (2.5, 2.5), (1, DEFAULT_TIMEOUT[1])]


@pytest.mark.parametrize("timeout", [None, (None, None), (3, None)])
def test_no_client_setting_can_mean_wait_forever(make_client, timeout):
    with make_client("http://127.0.0.1:1", timeout=timeout) as client:
        connect, read = client.transport.timeout
    assert connect is not None and read is not None


def test_a_server_that_never_answers_times_out_quickly(make_client):
    with FaultServer(faults.stall) as server:
        with make_client(server.url, timeout=0.3, retries=FAST) as client:
            started = time.monotonic()
            with pytest.raises(odm_dyn.ApiTimeoutError, match="_request_timeout"):
                client.get_task_info("GSF000123")
            assert time.monotonic() - started < SLOW_BOX  # not the default read timeout (60 s)
            started = time.monotonic()
            with pytest.raises(odm_dyn.ApiTimeoutError):
                client.get_task_info("GSF000123", _request_timeout=(5, 0.2))
            assert time.monotonic() - started < SLOW_BOX
    assert server.connections == 2  # a read timeout is not retried: the server may be working on it


def test_per_call_timeout_overrides_a_long_client_timeout(make_client):
    with FaultServer(faults.stall) as server:
        with make_client(server.url, timeout=60, retries=0) as client:
            started = time.monotonic()
            with pytest.raises(odm_dyn.ApiTimeoutError):
                client.get_task_info("GSF000123", _request_timeout=0.2)
    assert time.monotonic() - started < SLOW_BOX  # not the client's 60 s


def test_wait_for_task_is_bounded_by_default(make_client, scripted, monkeypatch):
    monkeypatch.setattr("odm_dyn.client.polling.DEFAULT_WAIT_TIMEOUT", 0.2)
    scripted.default.body = json.dumps({**TASK, "status": "RUNNING"}).encode()
    with make_client(scripted.url, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(odm_dyn.TaskTimeoutError) as caught:
            client.wait_for_task("GSF000123", interval=0.02)
    assert time.monotonic() - started < SLOW_BOX and caught.value.task.status == "RUNNING"


def test_wait_for_task_gives_up_after_one_hour_by_default(scripted, monkeypatch):
    clock = iter(range(0, 100_000, 600))  # each reading of the client's clock: ten minutes later
    monkeypatch.setattr("odm_dyn.client.polling._clock", lambda: next(clock))  # the waits' clock only
    monkeypatch.setattr("odm_dyn.client.polling._sleep", lambda seconds: None)
    scripted.default.body = json.dumps({**TASK, "status": "RUNNING"}).encode()
    with odm_dyn.Client(scripted.url, retries=0) as client:
        with pytest.raises(odm_dyn.TaskTimeoutError, match=r"after 3600\.0s \(timeout 3600\.0s\)"):
            client.wait_for_task("GSF000123", interval=0.001)
    assert len(scripted.received) == 6  # polled at 10, 20 … 60 minutes


# --------------------------------------------------------------------------- broken answers


def test_endless_body_stops_at_the_size_cap(make_client):
    with FaultServer(faults.endless_body) as server:
        with make_client(server.url, retries=0) as client:
            client.transport.max_response_bytes = 1 << 20
            started = time.monotonic()
            with pytest.raises(odm_dyn.TransportError, match="larger than"):
                client.get_task_info("GSF000123")
    assert time.monotonic() - started < SLOW_BOX


def test_trickling_endless_body_stops_at_the_body_deadline(make_client):
    with FaultServer(faults.trickling_body) as server:
        with make_client(server.url, retries=0, timeout=5) as client:
            client.transport.body_seconds = 0.4
            started = time.monotonic()
            with pytest.raises(odm_dyn.ApiTimeoutError, match="longer than"):
                client.get_task_info("GSF000123")
    assert time.monotonic() - started < SLOW_BOX  # each byte comes within the read timeout: only the deadline ends it


def test_a_body_that_stops_coming_is_a_timeout(make_client):
    with FaultServer(faults.head_then_stall) as server:
        with make_client(server.url, retries=0, timeout=0.3) as client:
            with pytest.raises(odm_dyn.ApiTimeoutError):
                client.get_task_info("GSF000123")


@pytest.mark.parametrize(
    "behaviour, error",
    [
        (faults.truncated_body, odm_dyn.TransportError),
        (faults.close_at_once, odm_dyn.ApiConnectionError),
        (faults.garbage_status_line, odm_dyn.TransportError),
    ],
)
def test_broken_exchanges_raise_odm_dyn_errors(make_client, behaviour, error):
    with FaultServer(behaviour) as server:
        with make_client(server.url, retries=0, timeout=2) as client:
            with pytest.raises(error) as caught:
                client.get_task_info("GSF000123")
    assert type(caught.value).__module__ == "odm_dyn.errors"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize(
    "status, body, content_type",
    [
        (200, b"{not json", "application/json"),
        (200, b'{"id": 1}', "application/json"),
        (200, b"\xff\xfe\x00garbage", "application/json"),
        (200, b"<html/>", "text/html; charset=nonexistent-codec"),
        (200, b"hello", "text/plain; charset=base64"),
        (200, b"", None),
        (200, b"[" * 100_000, "application/json"),
        (200, b"1" * 10_000, "application/json"),
        (201, b"[]", "application/xml"),
        (404, b"\xff", "application/json"),
        (500, b"{", "text/plain; charset=zzz"),
        (302, b"", None),
    ],
)
def test_off_spec_answers_raise_odm_dyn_errors(make_client, scripted, status, body, content_type):
    scripted.answer(status, body, content_type=content_type)
    with make_client(scripted.url, retries=0) as client:
        with pytest.raises(odm_dyn.OdmError) as caught:
            client.get_task_info("GSF000123")
    assert isinstance(caught.value, (odm_dyn.ResponseValidationError, odm_dyn.ApiException))


# --------------------------------------------------------------------------- load


def test_one_client_shared_by_16_threads_loses_nothing():
    threads, rounds = 16, 50
    errors: list[BaseException] = []
    published: list[str] = []
    reads = [0]
    lock = threading.Lock()
    with EmbeddedServer(task_seconds=0.3, tokens=[TOKEN]) as server:
        client = odm_dyn.Client(server.url, token=TOKEN, retries=0)

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            for n in range(rounds):
                try:
                    if n % 3 == 0 or not published:
                        task = client.publish_all_studies(version_message=f"w{seed}-{n}")
                        with lock:
                            published.append(task.id)
                    else:
                        with lock:
                            task_id = rng.choice(published)
                        assert client.get_task_info(task_id).id == task_id
                        with lock:
                            reads[0] += 1
                except BaseException as exc:  # noqa: BLE001 - every failure is counted, none may occur
                    with lock:
                        errors.append(exc)

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        started = time.monotonic()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(60)
        elapsed = time.monotonic() - started
        stored = server.store.task_count()
        client.close()
    print(
        f"\nload: {threads} threads, {len(published) + reads[0] + len(errors)} requests in {elapsed:.1f}s, "
        f"{len(errors)} errors, {stored} tasks stored / {len(published)} published"
    )
    assert errors == []
    assert len(published) + reads[0] == threads * rounds
    assert stored == len(published) == len(set(published))


# --------------------------------------------------------------------------- faults


def start_serve(db: Path, log_file: Path, port: int = 0) -> tuple[subprocess.Popen, str]:
    return serve_process(log_file, "--db", str(db), "--task-seconds", "2", "--token", TOKEN, port=port)


def test_sigkill_mid_task_loses_nothing_and_the_same_client_recovers(tmp_path):
    db, log_file = tmp_path / "odm.db", tmp_path / "serve.log"
    process, url = start_serve(db, log_file)
    try:
        client = odm_dyn.Client(url, token=TOKEN, retries=RetryPolicy(total=0))
        tasks = [client.publish_all_studies(version_message=f"before kill {i}") for i in range(5)]
        assert {t.status for t in tasks} <= {"CREATED", "QUEUED"}
        assert client.get_task_info(tasks[0].id).status != "DONE"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        with pytest.raises(odm_dyn.ApiConnectionError):
            client.get_task_info(tasks[0].id)  # the server is gone: a clear error, no hang
        process, _ = restart_on_port(lambda: start_serve(db, log_file, port=int(url.rsplit(":", 1)[1])))
        finished = [client.wait_for_task(t.id, timeout=15, interval=0.2) for t in tasks]
        assert [t.status for t in finished] == ["DONE"] * 5
        assert [t.name for t in finished] == [f"before kill {i}" for i in range(5)]
        assert client.publish_all_studies().id == "GSF000006"  # numbering goes on: nothing lost, nothing reused
        client.close()
    finally:
        process.kill()
        process.wait(10)


def test_a_client_recovers_when_its_server_comes_back(tmp_path):
    db = tmp_path / "odm.db"
    with EmbeddedServer(db=db, tokens=[TOKEN], task_seconds=0.2) as server:
        client = odm_dyn.Client(server.url, token=TOKEN, retries=FAST)
        task = client.publish_all_studies()
        assert client.get_task_info(task.id).id == task.id  # a kept-alive connection now sits in the pool
    with pytest.raises(odm_dyn.ApiConnectionError):
        client.get_task_info(task.id)
    with restart_on_port(lambda: EmbeddedServer(db=db, port=server.port, tokens=[TOKEN], task_seconds=0.2)):
        assert client.get_task_info(task.id).id == task.id
    client.close()
