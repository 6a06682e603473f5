"""The installed ``odm-dyn`` command, run as a subprocess against the embedded server.

Every run goes through :func:`odm`, which also checks that no token of the test ever shows on
stdout or stderr and that no expected failure prints a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import odm_dyn
from odm_dyn.server import EmbeddedServer

DATA = Path(__file__).parent / "data"
EXTRA = str(DATA / "cli_extra.yaml")
CURATOR = "curator-token-5f1c9a"
USER = "user-token-77b2e0"
SECRETS = (CURATOR, USER)
SCRIPT = Path(sys.executable).parent / "odm-dyn"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "odm_dyn"]


@pytest.fixture(scope="module")
def server():
    """Overrides conftest's ``server`` here: one server for the module, serving the extra spec too."""
    with EmbeddedServer(
        spec=[odm_dyn.TASKS_SPEC, EXTRA], task_seconds=1.0, tokens=[CURATOR], user_tokens=[USER]
    ) as running:
        yield running


@pytest.fixture(scope="module")
def slow_server():
    """Tasks that stay unfinished for a minute: for the tests that must catch one running."""
    with EmbeddedServer(task_seconds=60.0, tokens=[CURATOR]) as running:
        yield running


def odm(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, module: bool = False
) -> subprocess.CompletedProcess:
    """Run ``odm-dyn`` with a clean environment (no ODM_* or PRED_SPOT_* unless given)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ODM_", "PRED_SPOT_"))}
    result = subprocess.run(
        [*([sys.executable, "-m", "odm_dyn"] if module else COMMAND), *args],
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr
    assert "Traceback" not in result.stderr
    return result


def on(server: EmbeddedServer, *args: str, token: str | None = CURATOR) -> list[str]:
    """Global options for the test server (with the extra operations) before the command."""
    options = ["--spec", f"+{EXTRA}", "--host", server.url]
    return options + (["--token", token] if token else []) + list(args)


def published(server: EmbeddedServer) -> str:
    """A new task's id; set-up goes through the Python client, each odm-dyn run costs ~0.6 s."""
    with odm_dyn.Client(server.url, token=CURATOR) as client:
        return client.publish_all_studies(version_message="set-up").id


# --------------------------------------------------------------------------- success, exit 0


def test_publish_prints_compact_json_on_stdout(server):
    result = odm(*on(server, "tasks-api", "publish-all-studies", "--version-message", "release 7"))
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1 and '", "' not in result.stdout  # compact when piped
    assert json.loads(result.stdout)["name"] == "release 7"
    assert result.stderr == ""


@pytest.mark.parametrize("name", ["getTaskInfo", "get_task_info", "get-task-info"])
def test_call_takes_operation_id_or_python_or_command_name(server, name):
    task_id = published(server)
    result = odm(*on(server, "call", name, task_id))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == task_id


def test_wait_follows_the_task_to_done(server):
    result = odm(*on(server, "call", "publishAllStudies", "--version-message", "w", "--wait"))
    assert result.returncode == 0, result.stderr
    final = json.loads(result.stdout)
    assert final["status"] == "DONE" and final["endedAt"]
    lines = result.stderr.splitlines()  # not a terminal: plain lines, one per status
    assert lines[0].startswith(f"task {final['id']}: CREATED") and lines[-1].startswith(f"task {final['id']}: DONE")
    assert "\r" not in result.stderr


# --------------------------------------------------------------------------- failures: 1 to 6


@pytest.mark.parametrize(
    ("args", "token", "status"),
    [
        (["tasks-api", "get-task-info", "GSF999999"], CURATOR, "404"),
        (["tasks-api", "publish-all-studies"], None, "401"),
        (["tasks-api", "publish-all-studies"], USER, "403"),
    ],
)
def test_api_error_status_exits_1(server, args, token, status):
    result = odm(*on(server, *args, token=token))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"HTTP {status}" in result.stderr
    if status == "401":  # says how to pass a token on the command line
        assert "--token" in result.stderr and "ODM_API_TOKEN" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["task-api", "get-task-info", "X"], "did you mean tasks-api"),
        (["tasks-api", "get-task-info"], "required: ID"),
        (["studies-api", "count-study-objects", "S1", "--page-limit", "many"], "not an integer"),
        (["studies-api", "count-study-objects", "S1", "--page-limit", "0"], "nothing was sent"),
        (["studies-api", "search-studies", "--body", "{not json"], "not valid JSON"),
        (["studies-api", "search-studies", "--body", '{"limit": 3}'], "'text' is missing"),
    ],
)
def test_bad_usage_and_requests_the_spec_refuses_exit_2(server, args, message):
    result = odm(*on(server, *args))
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_a_broken_spec_exits_2_naming_the_file(server):
    broken = DATA / "broken" / "bad_yaml.yaml"
    result = odm("--spec", str(broken), "--host", server.url, "ops")
    assert result.returncode == 2
    assert "bad_yaml.yaml" in result.stderr


@pytest.mark.parametrize(
    ("command", "option", "instead"),
    [
        ("serve", ["--token", "T"], "serve --token T"),
        ("serve", ["--host", "0.0.0.0"], "serve --host ADDRESS"),
        ("serve", ["--access-token", "T"], "--user-token"),
        ("serve", ["--retries", "1"], "has no such option"),
        ("demo", ["--host", "http://x"], "`odm-dyn demo` has no such option"),
        ("demo", ["--request-timeout", "3"], "`odm-dyn demo` has no such option"),
    ],
)
def test_global_options_before_serve_or_demo_are_refused_not_dropped(command, option, instead):
    """``odm-dyn --token T serve`` used to serve with a fresh token, T silently ignored."""
    result = odm(*option, command, "--help")  # --help: it would start nothing even if accepted
    assert result.returncode == 2 and result.stdout == ""
    assert f"{option[0]} before '{command}' does not apply" in result.stderr and instead in result.stderr


def test_transport_failure_exits_3():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = odm("--host", f"http://127.0.0.1:{port}", "--retries", "0", "tasks-api", "get-task-info", "GSF1")
    assert result.returncode == 3
    assert "transport error" in result.stderr and result.stdout == ""


@pytest.fixture(scope="module")
def scripted():
    """A server answering fixed bodies: a FAILED task and an off-spec one, which the embedded
    server never produces."""
    answers = {
        "/api/v1/tasks/FAILING": b'{"id": "FAILING", "status": "FAILED"}',
        "/api/v1/tasks/OFFSPEC": b'{"id": 5, "status": "DONE"}',
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = answers.get(self.path, b"{}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_waited_task_that_failed_exits_4_and_prints_it(scripted):
    result = odm("--host", scripted, "--token", CURATOR, "tasks-api", "get-task-info", "FAILING", "--wait")
    assert result.returncode == 4
    assert json.loads(result.stdout)["status"] == "FAILED"
    assert "ended FAILED" in result.stderr


@pytest.mark.parametrize("flag", ["--timeout", "--wait-timeout"])  # issue 4's name, and the older alias
def test_wait_timeout_exits_5_with_the_last_state_on_stdout(slow_server, flag):
    args = ["--host", slow_server.url, "--token", CURATOR, "tasks-api", "get-task-info", published(slow_server)]
    result = odm(*args, "--wait", flag, "0.2")
    assert result.returncode == 5
    assert json.loads(result.stdout)["status"] != "DONE"
    assert "task timeout" in result.stderr
    assert "--timeout SECONDS" in result.stderr and "wait_for_task" not in result.stderr  # a hint for the shell


def test_request_timeout_bounds_each_request_not_the_wait(slow_server):
    """``--request-timeout`` is the per-request timeout: it must not end a wait that polls fine."""
    task_id = published(slow_server)
    args = ["--host", slow_server.url, "--token", CURATOR, "tasks-api", "get-task-info", task_id]
    result = odm(*args, "--request-timeout", "0.2", "--wait", "--timeout", "1")
    assert result.returncode == 5, result.stderr  # ended by --timeout 1, after several polls
    assert "after 1.0 s" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "5", "tasks-api", "get-task-info", "X"],  # before the command: the old per-request meaning
        ["tasks-api", "get-task-info", "X", "--timeout", "5"],  # after it, with --wait absent
        ["ops", "--timeout", "5"],  # a command that never waits
    ],
)
def test_timeout_without_wait_is_a_usage_error_naming_request_timeout(server, args):
    result = odm(*on(server, *args))
    assert result.returncode == 2 and result.stdout == ""
    assert "--request-timeout" in result.stderr and "--wait" in result.stderr


def test_help_documents_timeout_and_request_timeout(server):
    operation = odm(*on(server, "call", "publishAllStudies", "--help")).stdout
    assert "--timeout SECONDS, --wait-timeout SECONDS" in operation and "--request-timeout" in operation
    assert "not finished after --timeout" in odm("--help").stdout


def test_off_spec_answer_exits_6(scripted):
    result = odm("--host", scripted, "tasks-api", "get-task-info", "OFFSPEC")
    assert result.returncode == 6
    assert "off-spec" in result.stderr and result.stdout == ""
    relaxed = odm("--host", scripted, "--no-validate", "tasks-api", "get-task-info", "OFFSPEC")
    assert relaxed.returncode == 0 and json.loads(relaxed.stdout)["id"] == 5


def test_interrupt_exits_130_without_a_traceback(slow_server):
    args = ["--host", slow_server.url, "--token", CURATOR, "tasks-api", "get-task-info", published(slow_server)]
    command = [*COMMAND, *args, "--wait"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as process:
        process.stderr.readline()  # the first status line: it is waiting now
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err


# --------------------------------------------------------------------------- the spec makes the commands


def test_operations_of_an_added_spec_file_are_commands(server):
    result = odm(
        "--spec",
        odm_dyn.TASKS_SPEC,
        "--spec",
        EXTRA,
        "--host",
        server.url,
        "--token",
        CURATOR,
        "studies-api",
        "count-study-objects",
        "GSF000001",
        "--page-limit",
        "3",
        "--kinds",
        "sample,library",
        "--kinds",
        "preparation",
        "--include-drafts",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"accession": "GSF000001", "count": 42}


def test_body_from_text_and_from_file(server, tmp_path):
    query = tmp_path / "query.json"
    query.write_text('{"text": "liver", "limit": 2}')
    result = odm(*on(server, "studies-api", "search-studies", "--body", f"@{query}"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"accession": "GSF000001", "count": 42}]


def test_help_lists_the_spec_operations_and_exit_codes():
    result = odm("--spec", f"+{EXTRA}", "--help", module=True)  # python -m odm_dyn: the same command
    assert result.returncode == 0
    assert "tasks-api get-task-info ID" in result.stdout and "studies-api search-studies" in result.stdout
    assert "exit codes" in result.stdout and "ODM_API_TOKEN" in result.stdout


def test_operation_help_shows_summary_parameters_and_responses():
    result = odm("--spec", f"+{EXTRA}", "studies-api", "count-study-objects", "--help")
    assert result.returncode == 0
    for text in ("Count the objects attached to one study.", "--page-limit", "--kinds", "ACCESSION", "200: The count."):
        assert text in result.stdout


def test_ops_long_lists_method_path_and_signature():
    result = odm("--spec", f"+{EXTRA}", "ops", "--long")
    assert result.returncode == 0
    assert "GET     /api/v1/tasks/{id}" in result.stdout
    assert "get_task_info(id: str) -> TaskInfo" in result.stdout
    assert "search_studies(*, body: StudyQuery | dict[str, Any]) -> list[StudyCount]" in result.stdout


def test_describe_prints_the_documentation_and_the_command():
    result = odm("describe", "publishAllStudies")
    assert result.returncode == 0
    assert "POST /api/v1/tasks/publish-versions" in result.stdout
    assert "403: The user lacks the ACCESS_ALL_DATA permission." in result.stdout
    assert "odm-dyn tasks-api publish-all-studies" in result.stdout


# --------------------------------------------------------------------------- credentials

WRONG = {"ODM_HOST": "http://127.0.0.1:9", "ODM_API_TOKEN": "wrong", "ODM_ACCESS_TOKEN": "wrong"}


@pytest.mark.parametrize(
    ("args", "env", "stdin"),
    [
        (["--host", "{url}", "--token", "-"], {}, CURATOR + "\n"),
        (["--host", "{url}", "--access-token", "-"], {}, CURATOR + "\n"),
        ([], {"ODM_HOST": "{url}", "ODM_API_TOKEN": CURATOR}, None),
        (["--host", "{url}"], {"ODM_ACCESS_TOKEN": CURATOR}, None),
        ([], {"PRED_SPOT_HOST": "{hostport}", "PRED_SPOT_SCHEME": "http", "PRED_SPOT_TOKEN": CURATOR}, None),
        (["--host", "{url}"], {"PRED_SPOT_ACCESS_TOKEN": CURATOR}, None),
        (["--host", "{url}", "--token", CURATOR], WRONG, None),
    ],
    ids=[
        "token-stdin",
        "access-token-stdin",
        "ODM_HOST+API_TOKEN",
        "ODM_ACCESS_TOKEN",
        "PRED_SPOT_HOST+SCHEME+TOKEN",
        "PRED_SPOT_ACCESS_TOKEN",
        "flags-beat-env",
    ],
)
def test_settings_from_flags_stdin_and_both_environment_sets(server, args, env, stdin):
    """--token on its own is used by most tests above."""
    names = {"url": server.url, "hostport": server.url.split("://", 1)[1]}
    args = [arg.format(**names) for arg in args]
    env = {key: value.format(**names) for key, value in env.items()}
    result = odm(*args, "tasks-api", "publish-all-studies", env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["createdBy"]


# --------------------------------------------------------------------------- IDE stubs


GOOD = """\
from odm_client import Client, StudyCount, TaskInfo

client = Client("http://127.0.0.1:1", token="t")
task: TaskInfo = client.tasks_api.publish_all_studies(version_message="release 7", _retry_unsafe=True)
done = client.wait_for_task(task, timeout=600)
again: TaskInfo = client.get_task_info(task.id or "", _retries=2, _request_timeout=(1, 5), _headers={"X-A": "b"})
status: str | None = done.status
count: StudyCount = client.count_study_objects("GSF1", page_limit=3, kinds=["sample"])
total: int = count.count + len(client.search_studies(body={"text": "liver"}))
"""

BAD = """\
from odm_client import Client

client = Client("http://127.0.0.1:1")
client.get_task_info(123)
client.publish_all_studies(version_mesage="typo")
client.count_study_objects("GSF1", page_limit="three")
"""


def test_stubs_let_mypy_accept_good_calls_and_reject_wrong_types(tmp_path):
    result = odm("--spec", f"+{EXTRA}", "stubs", str(tmp_path / "odm_client.pyi"))
    assert result.returncode == 0, result.stderr
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--python-version",
            "3.10",
            "good.py",
            "bad.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert not [line for line in errors if line.startswith("good.py")], checked.stdout
    bad = [line for line in errors if line.startswith("bad.py")]
    assert len(bad) == 3, checked.stdout
    assert '"get_task_info"' in bad[0] and "version_mesage" in bad[1] and '"page_limit"' not in bad[1]
