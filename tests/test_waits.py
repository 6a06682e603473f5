"""Issue 15: waits that ride out outages, many waits from one thread, failures raised on request,
the resume command on timeout and Ctrl-C, progress bars, and enum values the spec does not know."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import CURATOR_TOKEN, restart_on_port, serve_process

import odm_dyn
from odm_dyn.client import polling
from odm_dyn.server import EmbeddedServer
from tests.scripted import Answer, ScriptedServer

TASK = {"id": "GSF000123", "name": "n", "status": "RUNNING", "application": "publish", "createdBy": "curator"}


def task_answer(status: str) -> Answer:
    return Answer(200, json.dumps({**TASK, "status": status}).encode())


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def no_sleep(poll_pauses):
    """The waits' pauses recorded, not slept (Client's and AsyncClient's): a test counts them
    instead of timing them."""
    return poll_pauses


def odm(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "odm_dyn", *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )


# --------------------------------------------------------------------------- the decisions


def test_the_decisions_are_plain_functions():
    pace = polling.Pace(interval=0.5, max_interval=4, backoff=2)
    assert [polling.outage_delay(pace, n) for n in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 4, 4]
    assert polling.next_interval(pace, 3) == 4
    assert polling.schedule(10, 5, deadline=12) == 12  # the last poll is at the deadline, not after it
    assert polling.is_outage(odm_dyn.ApiConnectionError("refused"))
    assert polling.is_outage(odm_dyn.ApiTimeoutError("slow"))
    assert polling.is_outage(odm_dyn.ServiceException(503, "Unavailable"))
    assert polling.is_outage(odm_dyn.TooManyRequestsException(429, "slow down"))
    assert not polling.is_outage(odm_dyn.NotFoundException(404, "gone"))
    retry_after = odm_dyn.TooManyRequestsException(429, "x", headers={"Retry-After": "7"})
    assert polling.outage_delay(pace, 1, retry_after) == 7


def test_a_poll_gets_the_time_left_but_never_less_than_its_floor():
    transport = odm_dyn.Client("http://127.0.0.1:9", timeout=(5, 30), retries=4).transport
    assert polling.poll_options(transport, 2.0)["_request_timeout"] == (2.0, 2.0)
    at_the_deadline = polling.poll_options(transport, 0.0)
    assert at_the_deadline["_request_timeout"] == (polling.MIN_POLL_SECONDS,) * 2 == (0.1, 0.1)
    assert at_the_deadline["_retries"].total == 0 and transport.retries.total == 4  # the wait retries, not the poll


# --------------------------------------------------------------------------- outages


def test_a_wait_rides_out_5xx_and_read_timeouts_logging_each_kind_once(make_client, scripted, no_sleep, caplog):
    answers = [Answer(503, b"{}"), Answer(503, b"{}"), "stall", Answer(500, b"{}"), Answer(502, b"{}")]
    answers += [task_answer("RUNNING"), task_answer("DONE")]

    def handle(request):
        answer = answers.pop(0)
        if answer == "stall":
            time.sleep(0.6)  # longer than the client's read timeout
            return task_answer("RUNNING")
        return answer

    scripted.handler = handle
    with make_client(scripted.url, timeout=(2, 0.3)) as client, caplog.at_level(logging.WARNING, "odm_dyn"):
        done = client.wait_for_task("GSF000123", timeout=60, interval=0.01)
    assert done.status == "DONE" and len(scripted.received) == 7
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4, warnings  # 503, the read timeout, 500, 502: once each, not once per retry
    assert "ServiceException 503" in warnings[0] and "the wait goes on" in warnings[0]
    assert no_sleep[:5] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.16])  # the back-off of the outage doubles


def test_only_a_4xx_ends_a_wait_early(make_client, scripted, no_sleep):
    scripted.handler = lambda request: Answer(404, b"{}")
    with make_client(scripted.url) as client:
        with pytest.raises(odm_dyn.NotFoundException):
            client.wait_for_task("GSF000123", timeout=60)
    assert len(scripted.received) == 1 and no_sleep == []


def test_an_outage_that_outlasts_the_wait_ends_at_its_deadline_with_the_resume_hint(make_client):
    with make_client("http://127.0.0.1:9") as client:  # nothing listens: refused, every time
        started = time.monotonic()
        with pytest.raises(odm_dyn.TaskTimeoutError) as caught:
            client.wait_for_task("GSF000123", timeout=0.5, interval=0.05)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "no answer to getTaskInfo" in message and "ApiConnectionError" in message
    assert "may still be running" in message and "`odm-dyn tasks-api get-task-info GSF000123 --wait`" in message


def test_the_server_killed_and_restarted_mid_wait_and_the_wait_ends_done(tmp_path, caplog):
    db, log_file = tmp_path / "odm.db", tmp_path / "serve.log"

    def start(port: int = 0):
        return serve_process(log_file, "--db", str(db), "--task-seconds", "3", "--token", CURATOR_TOKEN, port=port)

    process, url = start()
    outcome: dict[str, object] = {}
    try:
        client = odm_dyn.Client(url, token=CURATOR_TOKEN)
        task = client.publish_all_studies()

        def wait() -> None:
            try:
                outcome["task"] = client.wait_for_task(task.id, timeout=60, interval=0.1, max_interval=0.5)
            except Exception as error:  # noqa: BLE001  (the test reports it)
                outcome["error"] = error

        with caplog.at_level(logging.WARNING, "odm_dyn"):
            waiter = threading.Thread(target=wait)
            waiter.start()
            time.sleep(0.5)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            time.sleep(1.5)  # the wait meets a dead server for a while
            process, _ = restart_on_port(lambda: start(port=int(url.rsplit(":", 1)[1])))
            waiter.join(60)
        assert not waiter.is_alive()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["task"].status == "DONE"  # type: ignore[attr-defined]
        outage_lines = [r for r in caplog.records if "the wait goes on" in r.getMessage()]
        assert 1 <= len(outage_lines) <= 2  # once per kind (refused; perhaps a reset), not per poll
        client.close()
    finally:
        process.kill()
        process.wait(10)


# --------------------------------------------------------------------------- many at once, failures


def test_fifty_tasks_waited_for_from_one_thread(server):
    seen_threads: set[int] = set()
    with odm_dyn.Client(server.url, token=CURATOR_TOKEN) as client:
        ids = [client.publish_all_studies(version_message=f"v{i}").id for i in range(50)]
        client.on_exchange = lambda exchange: seen_threads.add(threading.get_ident())
        threads_before = set(threading.enumerate())
        finished = [t.id for t in client.wait_for_tasks(ids, timeout=60, interval=0.1, max_interval=0.5)]
        # No thread of its own left behind (a count would also move when an unrelated thread ends).
        assert set(threading.enumerate()) - threads_before == set()
    assert sorted(finished) == sorted(ids) and len(finished) == 50
    assert seen_threads == {threading.get_ident()}  # every poll from the calling thread


def test_wait_for_tasks_yields_each_as_it_finishes(make_client, scripted, no_sleep):
    states = {"A": ["RUNNING", "RUNNING", "DONE"], "B": ["DONE"]}

    def handle(request):
        task_id = request.target.rsplit("/", 1)[-1]
        return Answer(200, json.dumps({**TASK, "id": task_id, "status": states[task_id].pop(0)}).encode())

    scripted.handler = handle
    with make_client(scripted.url) as client:
        assert [t.id for t in client.wait_for_tasks(["A", "B"], interval=0.01)] == ["B", "A"]


def test_raise_on_failure_raises_with_the_final_task(make_client, scripted):
    scripted.answer(200, json.dumps({**TASK, "status": "KILLED"}))
    with make_client(scripted.url) as client:
        with pytest.raises(odm_dyn.TaskFailedError) as caught:
            client.wait_for_task("GSF000123", raise_on_failure=True)
    assert caught.value.task.status == "KILLED" and caught.value.status == "KILLED"


def test_failed_task_is_returned_by_default(make_client, scripted):
    scripted.answer(200, json.dumps({**TASK, "status": "FAILED"}))
    with make_client(scripted.url) as client:
        assert client.wait_for_task("GSF000123").status == "FAILED"


def test_a_timeout_of_several_names_the_unfinished(make_client, scripted, no_sleep):
    scripted.handler = lambda request: Answer(
        200, json.dumps({**TASK, "id": request.target.rsplit("/", 1)[-1]}).encode()
    )
    with make_client(scripted.url) as client:
        with pytest.raises(odm_dyn.TaskTimeoutError) as caught:
            list(client.wait_for_tasks(["A", "B"], timeout=0, interval=0.01))
    assert "unfinished" in str(caught.value) and "wait_for_tasks(['A', 'B']" in str(caught.value)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1"])
def test_wait_for_tasks_checks_its_interval_before_any_poll(make_client, scripted, bad):
    with make_client(scripted.url) as client:
        with pytest.raises(ValueError, match="interval must be a positive"):
            client.wait_for_tasks(["A"], interval=bad)
    assert scripted.received == []


# --------------------------------------------------------------------------- the command line


def test_cli_timeout_prints_the_command_that_resumes_the_wait():
    with EmbeddedServer(task_seconds=60, tokens=[CURATOR_TOKEN]) as slow:
        result = odm(
            "--host",
            slow.url,
            "--token",
            CURATOR_TOKEN,
            "tasks-api",
            "publish-all-studies",
            "--wait",
            "--timeout",
            "0.3",
        )
    assert result.returncode == 5
    last = json.loads(result.stdout)
    assert "may still be running" in result.stderr
    resume = f"odm-dyn --host {slow.url} --token TOKEN tasks-api get-task-info {last['id']} --wait --timeout SECONDS"
    assert resume in result.stderr and CURATOR_TOKEN not in result.stderr


def test_cli_ctrl_c_prints_the_command_that_resumes_the_wait():
    with EmbeddedServer(task_seconds=60, tokens=[CURATOR_TOKEN]) as slow:
        task_id = odm_dyn.Client(slow.url, token=CURATOR_TOKEN).publish_all_studies().id
        command = [sys.executable, "-m", "odm_dyn", "--host", slow.url, "--token", CURATOR_TOKEN]
        command += ["tasks-api", "get-task-info", task_id, "--wait"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = process.stderr.readline()  # the status line's first state: the wait is on
            assert f"task {task_id}" in first
            process.send_signal(signal.SIGINT)
            _, rest = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 130
    assert f"task {task_id} may still be running" in rest
    assert f"odm-dyn --host {slow.url} --token TOKEN tasks-api get-task-info {task_id} --wait" in rest


# --------------------------------------------------------------------------- progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_when_not_a_terminal(make_client, scripted, no_sleep):
    for status in ("QUEUED", "RUNNING", "RUNNING", "DONE"):
        scripted.answer(200, json.dumps({**TASK, "status": status}))
    out = io.StringIO()
    with make_client(scripted.url) as client:
        client.wait_for_task("GSF000123", interval=0.01, progress=out)
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "task GSF000123: QUEUED",
        "task GSF000123: RUNNING",
        "task GSF000123: DONE",
    ]  # a line per change of status, no carriage returns
    assert "\r" not in out.getvalue()


def test_progress_is_a_tqdm_bar_on_a_terminal(make_client, scripted, no_sleep):
    scripted.answer(200, json.dumps({**TASK, "status": "RUNNING"}))
    scripted.answer(200, json.dumps({**TASK, "status": "DONE"}))
    terminal = Terminal()
    with make_client(scripted.url) as client:
        client.wait_for_task("GSF000123", interval=0.01, progress=terminal)
    assert "\rtask GSF000123: DONE" in terminal.getvalue()  # tqdm redraws in place


# --------------------------------------------------------------------------- unknown enum values


def test_an_unknown_enum_value_is_accepted_with_one_warning(scripted, caplog):
    scripted.default = task_answer("PAUSED")  # a status newer than the spec
    with odm_dyn.Client(scripted.url) as client, caplog.at_level(logging.WARNING, "odm_dyn"):
        first = client.get_task_info("GSF000123")
        second = client.get_task_info("GSF000123")
    assert first.status == second.status == "PAUSED"
    warnings = [r.getMessage() for r in caplog.records if "enum does not list" in r.getMessage()]
    assert len(warnings) == 1 and "$.status is 'PAUSED'" in warnings[0] and "unknown_enums='strict'" in warnings[0]


def test_an_unknown_enum_value_is_refused_when_strict(make_client, scripted):
    scripted.default = task_answer("PAUSED")
    with make_client(scripted.url, unknown_enums="strict") as client:
        with pytest.raises(odm_dyn.ResponseValidationError, match="enum"):
            client.get_task_info("GSF000123")


def test_a_wrong_type_for_an_enum_is_still_refused(make_client, scripted):
    scripted.default = Answer(200, json.dumps({**TASK, "status": 7}).encode())
    with make_client(scripted.url) as client:
        with pytest.raises(odm_dyn.ResponseValidationError, match="type"):
            client.get_task_info("GSF000123")


def test_unknown_enums_takes_only_its_two_modes():
    with pytest.raises(ValueError, match="unknown_enums must be one of warn, strict"):
        odm_dyn.Client("http://127.0.0.1:9", unknown_enums="off")


def test_the_contract_fixtures_are_strict_about_enums(pytester_run):
    assert pytester_run.ret == 0, pytester_run.stdout.str()


@pytest.fixture
def pytester_run(pytester):
    pytester.makepyfile(
        """
        def test_strict(odm_client):
            assert odm_client._unknown_enums == "strict"
        """
    )
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


pytest_plugins = ["pytester"]


def test_the_new_errors_pickle_with_what_they_carry():
    import pickle

    info = {"jobExecId": 7, "status": "FAILED"}
    for error in (
        odm_dyn.TaskTimeoutError("late", task={"id": "A"}, pending=({"id": "A"}, {"id": "B"})),
        odm_dyn.TaskFailedError("failed", task={"id": "A"}),
        odm_dyn.JobTimeoutError("late", job=info),
        odm_dyn.JobFailedError("failed", job=info, output={"errors": [1]}),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
