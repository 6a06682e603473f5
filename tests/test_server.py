"""The embedded ODM server over real HTTP: requests on the wire, and odm_dyn.Client (strict).

Every status the spec declares for both operations is produced for the reason the spec
gives; bad requests get 400/404/405; state survives a restart; the log never holds a token;
an operation that exists only in a test's YAML is served with schema-valid data.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
import requests
from conftest import CURATOR_TOKEN, USER_TOKEN

import odm_dyn
from odm_dyn.server import EmbeddedServer, Store, add_serve_arguments, default_db_path
from odm_dyn.server.examples import from_pattern
from odm_dyn.spec.load import load_documents
from odm_dyn.spec.read import spec_source

DATA = Path(__file__).parent / "data"
EXTRA_SPEC = [odm_dyn.TASKS_SPEC, str(DATA / "extra_ops.yaml")]
VENDOR_TASKS = Path(__file__).resolve().parents[1] / ".." / "shared" / "vendor" / "genestack-openapi-v1" / "tasks.yaml"
PUBLISH = "/api/v1/tasks/publish-versions"
CURATOR = {"Genestack-API-Token": CURATOR_TOKEN}
STATUS_ORDER = ["CREATED", "QUEUED", "RUNNING", "DONE"]


def client_for(server, token: str | None = CURATOR_TOKEN, **options) -> odm_dyn.Client:
    settings = {"validate_requests": "strict", "validate_responses": "strict", **options}
    return odm_dyn.Client(server.url, token=token, **settings)


def publish_raw(server, headers=CURATOR, **params) -> requests.Response:
    return requests.post(server.url + PUBLISH, headers=headers, params=params, timeout=5)


def get_raw(server, task_id: str, headers=CURATOR) -> requests.Response:
    return requests.get(f"{server.url}/api/v1/tasks/{task_id}", headers=headers, timeout=5)


# --------------------------------------------------------------------------- 200


def test_publish_names_the_task_and_its_creator(embedded_server):
    client = client_for(embedded_server)
    task = client.publish_all_studies(version_message="release 7")
    assert task.name == "release 7" and task.created_by == "curator" and task.status == "CREATED"
    assert task.id.startswith("GSF") and task.application == "publish-versions"
    assert client.publish_all_studies().name == "Auto-published by API call"


def test_task_moves_to_done_with_epoch_millis(embedded_server):
    client = client_for(embedded_server)
    before = int(time.time() * 1000)
    task = client.publish_all_studies()
    seen: list[str] = []
    done = client.wait_for_task(task.id, timeout=10, interval=0.05, on_poll=lambda t, _: seen.append(t.status))
    assert done.status == "DONE"
    assert [s for s in STATUS_ORDER if s in seen] == sorted(set(seen), key=STATUS_ORDER.index)
    assert "RUNNING" in seen or "QUEUED" in seen
    assert before <= done.started_at <= done.ended_at <= int(time.time() * 1000)
    assert client.get_task_info(task.id) == done


def test_started_and_ended_appear_only_once_they_happened(embedded_server):
    body = publish_raw(embedded_server).json()
    assert "startedAt" not in body and "endedAt" not in body


# --------------------------------------------------------------------------- 401, 403, 404, 500


@pytest.mark.parametrize("headers", [{}, {"Genestack-API-Token": "wrong"}, {"Authorization": "Bearer wrong"}])
@pytest.mark.parametrize("method,path", [("GET", "/api/v1/tasks/GSF000001"), ("POST", PUBLISH)])
def test_401_without_a_valid_token_says_what_to_send(embedded_server, headers, method, path):
    answer = requests.request(method, embedded_server.url + path, headers=headers, timeout=5)
    assert answer.status_code == 401
    message = answer.json()["message"]
    assert "Authorization" in message and "Genestack-API-Token" in message and "bearer" in message.lower()


def test_401_through_the_client(embedded_server):
    client = client_for(embedded_server, token="wrong")
    with pytest.raises(odm_dyn.UnauthorizedException):
        client.get_task_info("GSF000001")
    with pytest.raises(odm_dyn.UnauthorizedException):
        client.publish_all_studies()


def test_403_for_publish_without_access_all_data(embedded_server):
    client = client_for(embedded_server, token=USER_TOKEN)
    with pytest.raises(odm_dyn.ForbiddenException) as caught:
        client.publish_all_studies()
    assert caught.value.status == 403
    assert "ACCESS_ALL_DATA" in publish_raw(embedded_server, {"Genestack-API-Token": USER_TOKEN}).json()["message"]


def test_user_without_permission_may_still_read_tasks(embedded_server):
    task = client_for(embedded_server).publish_all_studies()
    assert client_for(embedded_server, token=USER_TOKEN).get_task_info(task.id).id == task.id


@pytest.mark.parametrize("task_id", ["GSF999999", "nonsense", "../publish-versions", "GSF000001/x"])
def test_404_for_unknown_task_ids(embedded_server, task_id):
    with pytest.raises(odm_dyn.NotFoundException):
        client_for(embedded_server).get_task_info(task_id)


@pytest.mark.parametrize("operation,args", [("get_task_info", ("GSF000001",)), ("publish_all_studies", ())])
def test_500_on_request_through_prefer(embedded_server, operation, args):
    with pytest.raises(odm_dyn.ServiceException) as caught:
        getattr(client_for(embedded_server), operation)(*args, _headers={"Prefer": "code=500"})
    assert caught.value.status == 500


@pytest.mark.parametrize("code", [401, 403, 404, 500])
def test_prefer_answers_only_declared_statuses(embedded_server, code):
    declared = {"GET": {200, 401, 404, 500}, "POST": {200, 401, 403, 500}}
    for method, path in (("GET", "/api/v1/tasks/GSF1"), ("POST", PUBLISH)):
        headers = {**CURATOR, "Prefer": f"code={code}"}
        answer = requests.request(method, embedded_server.url + path, headers=headers, timeout=5)
        assert answer.status_code == (code if code in declared[method] else 400)


@pytest.mark.parametrize("credentials", [{}, {"Genestack-API-Token": "wrong"}, {"Authorization": "Bearer wrong"}])
@pytest.mark.parametrize("code", [200, 404, 500])
def test_prefer_is_honoured_only_after_authentication(embedded_server, credentials, code):
    """A contract test with broken credentials must see its 401, not the answer it preferred."""
    for method, path in (("GET", "/api/v1/tasks/GSF1"), ("POST", PUBLISH)):
        headers = {**credentials, "Prefer": f"code={code}"}
        answer = requests.request(method, embedded_server.url + path, headers=headers, timeout=5)
        assert answer.status_code == 401 and "Genestack-API-Token" in answer.text


def test_prefer_200_answers_schema_valid_example(embedded_server):
    task = client_for(embedded_server).get_task_info("anything", _headers={"Prefer": "code=200"})
    assert task.status in STATUS_ORDER


# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    "headers",
    [
        {"Genestack-API-Token": CURATOR_TOKEN},
        {"Authorization": f"Bearer {CURATOR_TOKEN}"},
        {"Authorization": f"bearer {CURATOR_TOKEN}"},
        {"Authorization": f"BEARER {CURATOR_TOKEN}"},
        {"Authorization": CURATOR_TOKEN},
    ],
)
def test_token_accepted_in_either_header(embedded_server, headers):
    answer = publish_raw(embedded_server, headers)
    assert answer.status_code == 200, answer.text
    assert get_raw(embedded_server, answer.json()["id"], headers).status_code == 200


def test_authorization_decides_when_both_headers_are_sent(embedded_server):
    """ODM documents that Authorization wins: a bad one is a 401 beside a good Genestack-API-Token,
    and a plain user's one is a 403 beside a curator's Genestack-API-Token."""
    both_bad = publish_raw(embedded_server, {"Authorization": "Bearer wrong", "Genestack-API-Token": CURATOR_TOKEN})
    assert both_bad.status_code == 401
    as_user = publish_raw(
        embedded_server, {"Authorization": f"Bearer {USER_TOKEN}", "Genestack-API-Token": CURATOR_TOKEN}
    )
    assert as_user.status_code == 403
    as_curator = publish_raw(embedded_server, {"Authorization": CURATOR_TOKEN, "Genestack-API-Token": USER_TOKEN})
    assert as_curator.status_code == 200


def test_access_token_through_the_client(embedded_server):
    client = odm_dyn.Client(embedded_server.url, access_token=CURATOR_TOKEN)
    assert client.publish_all_studies().created_by == "curator"


def test_added_token_acts_as_its_user(server):
    server.add_token("reader-1", user="reader", permissions=())
    assert client_for(server, token=USER_TOKEN).get_task_info(client_for(server).publish_all_studies().id)
    with pytest.raises(odm_dyn.ForbiddenException):
        client_for(server, token="reader-1").publish_all_studies()


def test_tokens_are_stored_only_as_hashes(tmp_path):
    db = tmp_path / "server.db"
    with EmbeddedServer(db=db, tokens=["plain-secret-token"]):
        pass
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"plain-secret-token" not in stored


# --------------------------------------------------------------------------- bad requests


def test_unknown_path_is_404_with_json(embedded_server):
    answer = requests.get(embedded_server.url + "/api/v1/nothing", headers=CURATOR, timeout=5)
    assert answer.status_code == 404 and "/api/v1/nothing" in answer.json()["message"]


@pytest.mark.parametrize(
    "method,path,allow",
    [("POST", "/api/v1/tasks/GSF000001", "GET"), ("DELETE", PUBLISH, "POST"), ("GET", PUBLISH, "POST")],
)
def test_undeclared_method_is_405_with_allow(embedded_server, method, path, allow):
    answer = requests.request(method, embedded_server.url + path, headers=CURATOR, timeout=5)
    assert answer.status_code == 405 and answer.headers["Allow"] == allow
    assert method in answer.json()["message"]


@pytest.fixture(scope="module")
def extra_server():
    with EmbeddedServer(spec=EXTRA_SPEC, task_seconds=0.5, tokens=[CURATOR_TOKEN]) as server:
        yield server


@pytest.mark.parametrize(
    "query,headers,name,rule",
    [
        ("limit=abc", {}, "limit", "type"),
        ("limit=0", {}, "limit", "minimum"),
        ("kind=secret", {}, "kind", "enum"),
        ("", {"X-Trace": "x"}, "X-Trace", "type"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter_and_rule(extra_server, query, headers, name, rule):
    url = f"{extra_server.url}/api/v1/studies/GSF000100?{query}"
    answer = requests.get(url, headers={**CURATOR, **headers}, timeout=5)
    assert answer.status_code == 400
    body = answer.json()
    assert body["operation"] == "getStudy" and name in body["message"]
    assert {"name": name, "rule": rule}.items() <= body["errors"][0].items()


def test_a_repeated_single_valued_query_parameter_is_400_naming_it(embedded_server, extra_server):
    """?versionMessage=a&versionMessage=b used to publish as "b"; which one was meant is a guess."""
    url = f"{embedded_server.url}{PUBLISH}?versionMessage=a&versionMessage=b"
    answer = requests.post(url, headers=CURATOR, timeout=5)
    assert answer.status_code == 400
    body = answer.json()
    assert "versionMessage" in body["message"] and "2 times" in body["message"]
    assert {"in": "query", "name": "versionMessage", "rule": "repeated"}.items() <= body["errors"][0].items()
    study = f"{extra_server.url}/api/v1/studies/GSF000100"
    assert requests.get(f"{study}?limit=1&limit=2", headers=CURATOR, timeout=5).status_code == 400
    # an array (form style, exploded: the default) repeats by design; an unknown parameter is let be
    assert requests.get(f"{study}?tags=a&tags=b&tags=c&other=1&other=2", headers=CURATOR, timeout=5).ok


@pytest.mark.parametrize(
    "data,content_type,rule",
    [
        (b"", "application/json", "required"),
        (b"{not json", "application/json", "json"),
        (b'{"pageSize": 3}', "application/json", "required"),
        (b'{"query": ""}', "application/json", "minLength"),
        (b"query=x", "text/plain", "media-type"),
    ],
)
def test_bad_bodies_are_400(extra_server, data, content_type, rule):
    headers = {**CURATOR, "Content-Type": content_type}
    answer = requests.post(extra_server.url + "/api/v1/studies/search", data=data, headers=headers, timeout=5)
    assert answer.status_code == 400 and answer.json()["errors"][0]["rule"] == rule


def test_bad_request_reaches_clients_as_bad_request_exception(extra_server):
    client = client_for(extra_server, spec=EXTRA_SPEC, validate_requests="off")
    with pytest.raises(odm_dyn.BadRequestException):
        client.get_study("GSF1", limit=500)


# --------------------------------------------------------------------------- operations only in YAML


def test_operation_only_in_yaml_answers_generated_valid_data(extra_server):
    client = client_for(extra_server, spec=EXTRA_SPEC)
    study = client.get_study("GSF000100", limit=5, kind="public", tags=["a", "b"], _headers={"X-Trace": "7"})
    data = study.to_dict()
    assert data["accession"].startswith("GSF") and data["size"] > 2**31  # int64 beyond 32 bits
    assert len(data["samples"]) >= 2 and data["samples"][0] != data["samples"][1]
    assert "secret" not in data  # writeOnly never comes back


def test_operation_only_in_yaml_uses_the_spec_example(extra_server):
    found = client_for(extra_server, spec=EXTRA_SPEC).search_studies(body={"query": "atlas"})
    assert [s.to_dict()["accession"] for s in found] == ["GSF000100", "GSF000101"]


def test_operation_without_security_needs_no_token(extra_server):
    assert client_for(extra_server, token=None, spec=EXTRA_SPEC).ping()["ok"] is True


def test_declared_error_body_has_its_declared_shape(extra_server):
    headers = {**CURATOR, "Prefer": "code=404"}
    answer = requests.get(f"{extra_server.url}/api/v1/studies/x", headers=headers, timeout=5)
    assert answer.status_code == 404 and answer.json() == {"code": 404, "detail": "no such study"}


def test_handler_operations_still_work_beside_extra_ones(extra_server):
    client = client_for(extra_server, spec=EXTRA_SPEC)
    assert client.wait_for_task(client.publish_all_studies().id, timeout=10, interval=0.05).status == "DONE"


@pytest.mark.parametrize("pattern", [r"^GSF[0-9]+$", r"^[A-Z]{3}-\d{2,4}$", r"^(foo|bar)_[a-z]*$", r"[^x]+"])
def test_strings_are_generated_from_patterns(pattern):
    import re

    assert re.search(pattern, from_pattern(pattern) or "")


# --------------------------------------------------------------------------- state, concurrency


def test_state_survives_a_restart_mid_task(tmp_path):
    db = tmp_path / "odm.db"
    with EmbeddedServer(db=db, task_seconds=1.5, tokens=[CURATOR_TOKEN]) as first:
        task = client_for(first).publish_all_studies(version_message="before restart")
    with EmbeddedServer(db=db, task_seconds=1.5) as second:  # no token given: the stored ones still work
        client = client_for(second)
        again = client.get_task_info(task.id)
        assert again.name == "before restart" and again.status != "DONE"
        done = client.wait_for_task(task.id, timeout=10, interval=0.1)
        assert done.status == "DONE" and done.created_by == "curator"
        assert client.publish_all_studies().id != task.id  # numbering continues


def test_only_the_latest_auto_made_token_stays_valid_across_restarts(tmp_path):
    """serve with a kept database and no --token makes a token at each start: the older ones go."""
    db = tmp_path / "kept.db"
    with EmbeddedServer(db=db, tokens=["given"]):  # a token given by name is kept across restarts
        pass
    with EmbeddedServer(db=db) as first:
        first_token = first.token
        assert publish_raw(first, {"Genestack-API-Token": first_token}).status_code == 200
    with EmbeddedServer(db=db) as second:
        assert second.token != first_token
        assert publish_raw(second, {"Genestack-API-Token": first_token}).status_code == 401
        assert publish_raw(second, {"Genestack-API-Token": second.token}).status_code == 200
        assert publish_raw(second, {"Genestack-API-Token": "given"}).status_code == 200


def test_a_database_made_before_tokens_were_marked_still_opens(tmp_path):
    import sqlite3

    db = tmp_path / "old.db"
    with sqlite3.connect(db) as old:
        old.execute("CREATE TABLE users (name TEXT PRIMARY KEY, permissions TEXT NOT NULL DEFAULT '')")
        old.execute("CREATE TABLE tokens (token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name))")
    old.close()
    with EmbeddedServer(db=db, tokens=[CURATOR_TOKEN]) as server, EmbeddedServer(db=db, port=0) as again:
        assert publish_raw(server).status_code == 200 and again.token


def test_fifty_concurrent_publishes_are_all_stored(server):
    client = client_for(server)
    with ThreadPoolExecutor(max_workers=16) as pool:
        tasks = list(pool.map(lambda i: client.publish_all_studies(version_message=f"v{i}"), range(50)))
    assert len({t.id for t in tasks}) == 50 and server.store.task_count() == 50
    assert {client.get_task_info(t.id).name for t in tasks} == {f"v{i}" for i in range(50)}


def test_connections_are_kept_alive(embedded_server):
    connection = http.client.HTTPConnection("127.0.0.1", embedded_server.port, timeout=5)
    try:
        for _ in range(3):
            connection.request("POST", PUBLISH, headers=CURATOR)
            answer = answer_of(connection)
            assert answer.status == 200 and answer.getheader("Connection") != "close"
        connection.request("GET", "/nowhere", body=b"ignored body", headers={"Content-Length": "12"})
        assert answer_of(connection).status == 404  # an unread body must not spoil the next request
        connection.request("GET", "/api/v1/tasks/GSF000001", headers=CURATOR)
        assert answer_of(connection).status == 200
    finally:
        connection.close()


def answer_of(connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    answer = connection.getresponse()
    answer.read()
    return answer


# --------------------------------------------------------------------------- logging


def test_log_has_one_line_per_request_and_no_token(embedded_server, caplog):
    secret = "secret-in-query-9a7"
    with caplog.at_level(logging.DEBUG):
        publish_raw(embedded_server, {"Authorization": f"Bearer {CURATOR_TOKEN}"}, versionMessage=secret)
        get_raw(embedded_server, "GSF000001", {"Genestack-API-Token": "wrong-token-77"})
        get_raw(embedded_server, "GSF000001", {"Genestack-API-Token": CURATOR_TOKEN})
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("odm_dyn.server", "werkzeug"))]
    assert len(ours) == 3 and " 401 " in ours[1]
    for needle in (CURATOR_TOKEN, "wrong-token-77", secret):
        assert not [line for line in ours if needle in line]


# --------------------------------------------------------------------------- any client of the vendor's spec


@pytest.mark.skipif(not VENDOR_TASKS.exists(), reason="the vendor's spec is not in this checkout")
def test_vendor_spec_is_served_and_its_client_is_satisfied():
    with EmbeddedServer(spec=str(VENDOR_TASKS), task_seconds=0.3, tokens=[CURATOR_TOKEN]) as server:
        client = odm_dyn.Client(server.url, token=CURATOR_TOKEN, spec=str(VENDOR_TASKS))
        done = client.wait_for_task(client.publish_all_studies().id, timeout=10, interval=0.05)
        assert done.status == "DONE"
        with pytest.raises(odm_dyn.UnauthorizedException) as caught:
            odm_dyn.Client(server.url, spec=str(VENDOR_TASKS)).get_task_info(done.id)
        assert "Genestack-API-Token" in caught.value.body and isinstance(caught.value.raw_body, bytes)


@pytest.mark.skipif(not VENDOR_TASKS.exists(), reason="the vendor's spec is not in this checkout")
def test_every_body_of_the_vendors_whole_api_gets_a_valid_example():
    """244 operations with no handler: each declared body has a schema-valid answer ready."""
    whole = VENDOR_TASKS.parent / "odmApi.yaml"
    with EmbeddedServer(spec=str(whole)) as server:
        prepared = server.app.prepared.values()
        assert len(prepared) > 200
        assert [
            (p.plan.op.operation_id, s) for p in prepared for s, v in p.examples.items() if isinstance(v, Exception)
        ] == []
        headers = {"Genestack-API-Token": server.token, "Prefer": "code=200"}
        answer = requests.get(server.url + "/api/v1/tasks/x", headers=headers, timeout=5)
        assert answer.status_code == 200 and answer.json()["status"]


def test_exchanges_pass_openapi_core_validation(embedded_server):
    """openapi-core, independent of our own checks, finds every kind of answer on spec."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    from odm_dyn.api.schemas import openapi_core_errors

    class AtSpecServer(RequestsOpenAPIRequest):
        host_url = "http://localhost"  # the spec's server: the port is ours, the paths are the spec's

    documents = [load_documents(odm_dyn.TASKS_SPEC)[0]]
    if VENDOR_TASKS.exists():
        documents.append(load_documents(str(VENDOR_TASKS))[0])
    task_id = publish_raw(embedded_server).json()["id"]
    exchanges = [
        ("POST", PUBLISH, CURATOR),
        ("GET", f"/api/v1/tasks/{task_id}", CURATOR),
        ("GET", f"/api/v1/tasks/{task_id}", {"Authorization": f"Bearer {CURATOR_TOKEN}"}),
        ("GET", "/api/v1/tasks/GSF999999", CURATOR),
        ("POST", PUBLISH, {"Genestack-API-Token": USER_TOKEN}),
        ("GET", "/api/v1/tasks/x", {**CURATOR, "Prefer": "code=500"}),
    ]
    for method, path, headers in exchanges:
        answer = requests.request(method, embedded_server.url + path, headers=headers, timeout=5)
        # The vendor's errors declare "content: {}", which openapi-core can never match (with a
        # body: no such media type; without: MissingData): only its success answers are checked.
        for document in documents if answer.status_code == 200 else documents[:1]:
            request = AtSpecServer(answer.request)
            assert openapi_core_errors(document, request, RequestsOpenAPIResponse(answer)) == []


# --------------------------------------------------------------------------- running it


def test_serve_arguments_match_the_contract():
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(["--token", "a", "--token", "b", "--user-token", "c", "--spec", "x.yaml"])
    assert (args.host, args.port, args.task_seconds) == ("127.0.0.1", 8080, 5.0)
    assert args.token == ["a", "b"] and args.user_token == ["c"] and args.spec == ["x.yaml"] and args.db is None
    assert spec_source(["+extra.yaml"]) == [odm_dyn.TASKS_SPEC, "extra.yaml"]  # "+" adds to the bundled spec


def test_serve_adds_the_bundled_spec_once(monkeypatch, tmp_path):
    from odm_dyn.server import serving

    served = []

    def fake_server(spec, **options):
        served.append(load_documents(spec))  # the duplicate-operationId check runs here
        raise ValueError("stop here")

    monkeypatch.setattr(serving, "EmbeddedServer", fake_server)
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(["--db", str(tmp_path / "db"), "--spec", "+" + odm_dyn.TASKS_SPEC])
    assert serving.serve(args) == 2 and [len(documents) for documents in served] == [1]


def test_default_database_is_in_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "odm_dyn" / "server.db"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signals(tmp_path, signum):
    code = (
        "import argparse, sys; from odm_dyn.server import add_serve_arguments, serve; "
        "p = argparse.ArgumentParser(); add_serve_arguments(p); sys.exit(serve(p.parse_args(sys.argv[1:])))"
    )
    argv = [sys.executable, "-c", code, "--port", "0", "--db", str(tmp_path / "s.db"), "--task-seconds", "0.2"]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = [process.stderr.readline()]
        while "Ctrl-C" not in lines[-1] and lines[-1]:
            lines.append(process.stderr.readline())
        url = lines[0].split(" on ", 1)[1].split()[0]
        token = lines[1].rsplit(" ", 1)[1].strip()  # no --token: one curator token is made and shown
        assert publish_raw(type("S", (), {"url": url}), {"Genestack-API-Token": token}).status_code == 200
        process.send_signal(signum)
        _, rest = process.communicate(timeout=10)
    finally:
        process.kill() if process.poll() is None else None
    assert process.returncode == 0 and "stopped" in rest
    assert rest.count(token) == 0  # the request log line never shows it


def test_demo_publishes_follows_and_prints_done():
    from odm_dyn.cli.demo import StatusLine, add_demo_arguments, demo

    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    assert demo(parser.parse_args(["--task-seconds", "0.4"]), out=out, err=err) == 0
    final = json.loads(out.getvalue())
    assert final["status"] == "DONE" and final["endedAt"] >= final["startedAt"]
    assert "DONE" in err.getvalue()
    tty = io.StringIO()
    line = StatusLine(tty, is_tty=lambda: True)
    line(type("T", (), {"id": "GSF1", "status": "RUNNING"})(), 1.0)
    assert tty.getvalue().startswith("\rtask GSF1: RUNNING")


def _demo_args(*argv: str) -> argparse.Namespace:
    from odm_dyn.cli.demo import add_demo_arguments

    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    return parser.parse_args(list(argv))


def test_demo_exit_codes_follow_the_command_lines_table(monkeypatch):
    """FAILED → 4, not finished in --timeout → 5, transport failure → 3 (never a bare 1)."""
    from odm_dyn.cli import demo as demo_module
    from odm_dyn.exit_codes import EXIT_TASK_FAILED, EXIT_TASK_TIMEOUT, EXIT_TRANSPORT

    err = io.StringIO()
    assert demo_module.demo(_demo_args("--task-seconds", "30", "--timeout", "0.3"), io.StringIO(), err) == 5
    assert EXIT_TASK_TIMEOUT == 5 and "wait longer with --timeout" in err.getvalue()

    real_wait = odm_dyn.Client.wait_for_task

    def failed(self, task_id, **options):
        task = real_wait(self, task_id, **options)
        return type(task).from_dict({**task.to_dict(), "status": "FAILED"})

    monkeypatch.setattr(odm_dyn.Client, "wait_for_task", failed)
    out, err = io.StringIO(), io.StringIO()
    assert demo_module.demo(_demo_args("--task-seconds", "0.1"), out, err) == EXIT_TASK_FAILED == 4
    assert json.loads(out.getvalue())["status"] == "FAILED" and "ended FAILED" in err.getvalue()

    real_client = demo_module.Client
    monkeypatch.setattr(demo_module, "Client", lambda url, **options: real_client("http://127.0.0.1:9", **options))
    err = io.StringIO()
    assert demo_module.demo(_demo_args("--task-seconds", "0.1"), io.StringIO(), err) == EXIT_TRANSPORT == 3
    assert "transport error" in err.getvalue()


def test_serve_that_cannot_listen_exits_2_as_the_table_says(tmp_path):
    from odm_dyn.exit_codes import EXIT_USAGE
    from odm_dyn.server import serve

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    with EmbeddedServer() as running:  # its port is taken
        port = running.url.rsplit(":", 1)[1]
        args = parser.parse_args(["--port", port, "--db", str(tmp_path / "s.db")])
        assert serve(args) == EXIT_USAGE == 2


# --------------------------------------------------------------------------- content negotiation

FEATURES = Path(__file__).parent / "data" / "features31.yaml"


@pytest.fixture(scope="module")
def features_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(spec=FEATURES) as server:
        yield server


@pytest.mark.parametrize(
    "accept, media, first_line",
    [
        ("text/tab-separated-values", "text/tab-separated-values", "id\tname"),
        ("text/csv", "text/csv", "id,name"),
        ("text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values", "id\tname"),
        ("text/*", "text/tab-separated-values", "id\tname"),
    ],
)
def test_accept_chooses_among_the_declared_media_types(features_server, accept, media, first_line):
    answer = requests.get(features_server.url + "/table", headers={"Accept": accept}, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == media
    assert answer.text.splitlines()[0].startswith(first_line)


@pytest.mark.parametrize("accept", [None, "application/xml", "*/*", "application/json"])
def test_json_unless_a_declared_table_is_asked_for(features_server, accept):
    headers = {"Accept": accept} if accept else {}
    answer = requests.get(features_server.url + "/table", headers=headers, timeout=10)
    assert answer.headers["Content-Type"] == "application/json" and isinstance(answer.json(), list)


def test_the_client_gets_tables_as_str_from_the_embedded_server(features_server):
    with odm_dyn.Client(features_server.url, spec=FEATURES) as client:
        tsv = client.get_table(_accept="text/tab-separated-values")
        rows = client.get_table()
    assert isinstance(tsv, str) and tsv.count("\n") == len(rows) + 1
    assert tsv.splitlines()[1].split("\t")[:2] == [str(rows[0].id), rows[0].name]


# --------------------------------------------------------------------------- batched log output


def test_batched_stream_loses_no_line_and_keeps_their_order():
    from odm_dyn.server.logstream import BatchedStream

    target = io.StringIO()
    stream = BatchedStream(target, every=60)  # no timed flush during the test: only close() drains
    for i in range(1000):
        stream.write(f"line {i}\n")
        stream.flush()
    assert target.getvalue() == ""  # gathered, not written line by line
    stream.close()
    assert target.getvalue().splitlines() == [f"line {i}" for i in range(1000)]


def test_batched_stderr_swaps_only_stderr_handlers_and_restores_them(capsys):
    from odm_dyn.server.logstream import batched_stderr

    logger = logging.getLogger("odm_dyn.server.batch-test")
    to_stderr, elsewhere = logging.StreamHandler(sys.stderr), logging.StreamHandler(io.StringIO())
    logger.addHandler(to_stderr)
    logger.addHandler(elsewhere)
    try:
        with batched_stderr(logger):
            assert to_stderr.stream is not sys.stderr and isinstance(elsewhere.stream, io.StringIO)
            logger.warning("during")
        assert to_stderr.stream is sys.stderr
        assert "during" in capsys.readouterr().err  # drained when the block ends
    finally:
        logger.removeHandler(to_stderr)
        logger.removeHandler(elsewhere)


RANGES_SPEC = """
openapi: 3.0.3
info: {title: ranges, version: "1"}
paths:
  /thing:
    get:
      operationId: getThing
      responses:
        "201": {description: made, content: {application/json: {schema: {type: string, enum: [made]}}}}
        "200": {description: found, content: {application/json: {schema: {type: string, enum: [found]}}}}
        "4XX": {description: refused, content: {application/json: {schema: {type: string, enum: [refused]}}}}
        default: {description: other, content: {application/json: {schema: {type: string, enum: [other]}}}}
"""


def test_prefer_and_examples_follow_the_declared_status_ranges(tmp_path):
    spec = tmp_path / "ranges.yaml"
    spec.write_text(RANGES_SPEC, encoding="utf-8")
    with EmbeddedServer(spec=spec) as server:

        def get(prefer=None):
            answer = requests.get(server.url + "/thing", headers={"Prefer": prefer} if prefer else {}, timeout=5)
            return answer.status_code, answer.json()

        assert get() == (200, "found")  # the first declared success, whatever the spec's order
        assert get("code=201") == (201, "made")  # exact
        assert get("code=418") == (418, "refused")  # then the range
        assert get("code=503") == (503, "other")  # then default


# --------------------------------------------------------------------------- the store's in-memory reads


def test_cached_users_follow_every_token_change():
    store = Store(":memory:")
    store.add_token("tok-a", "ann", ["ACCESS_ALL_DATA"])
    assert store.user_for_token("tok-a").permissions == {"ACCESS_ALL_DATA"}  # now remembered
    store.add_token("tok-b", "ann", [])  # the same user loses the permission
    assert store.user_for_token("tok-a").permissions == frozenset()
    store.add_token("auto-1", "curator", ["ACCESS_ALL_DATA"], auto=True)
    assert store.user_for_token("auto-1") is not None
    store.add_token("auto-2", "curator", ["ACCESS_ALL_DATA"], auto=True)  # replaces auto-1
    assert store.user_for_token("auto-1") is None and store.user_for_token("auto-2") is not None
    assert store.user_for_token("nobody") is None and "nobody" not in str(store._users)


def test_a_token_revoked_by_another_process_stops_working_at_once(tmp_path):
    """The users cache is this process's; another process on the same file (a second
    ``odm-dyn serve``, or anything writing the database) must still be obeyed at the next request."""
    db = tmp_path / "shared.db"
    store = Store(db)
    store.add_token("tok-a", "ann", ["ACCESS_ALL_DATA"])
    store.add_token("tok-b", "bob", [])
    assert store.user_for_token("tok-a").name == "ann" and store.user_for_token("tok-b").name == "bob"  # remembered
    changes = (
        "from odm_dyn.server import Store; import sqlite3, sys; "
        "Store(sys.argv[1]).add_token('tok-c', 'bob', ['ACCESS_ALL_DATA']); "
        "db = sqlite3.connect(sys.argv[1]); db.execute('DELETE FROM tokens WHERE user_name = ?', ('ann',)); db.commit()"
    )
    subprocess.run([sys.executable, "-c", changes, str(db)], check=True, timeout=60)
    assert store.user_for_token("tok-a") is None  # revoked in the file: refused at once
    assert store.user_for_token("tok-b").permissions == {"ACCESS_ALL_DATA"}  # bob's new permission too
    store.close()


def test_cached_tasks_are_the_stored_rows():
    store = Store(":memory:")
    made = store.create_task("n", "publish-versions", "ann", 1000)
    accession = made.accession
    assert store.task(accession) == made
    store._tasks.clear()  # a fresh process: the row comes from the database, equal to the one made
    assert store.task(accession) == made and store.task("GSF999999") is None


def test_the_log_line_formatter_writes_what_the_plain_formatter_would():
    """LineFormatter's short cuts (the clock text once a second, no generic %-formatting) change no line."""
    from odm_dyn.server.logstream import LineFormatter

    plain, fast = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"), LineFormatter()
    args = ("127.0.0.1", "GET", "/api/v1/tasks/GSF000001", 200, 0.25, "getTaskInfo")
    record = logging.LogRecord("odm_dyn.server", logging.INFO, __file__, 1, '%s "%s %s" %d %.1fms %s', args, None)
    assert fast.format(record) == plain.format(record) and fast.format(record) == plain.format(record)  # cached clock
    record.created += 1  # the next second: a new clock text
    assert fast.format(record) == plain.format(record)
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("odm_dyn.server", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info())
    assert fast.format(failed) == plain.format(failed) and "ValueError: boom" in fast.format(failed)
