"""The live spec (issue 13): specs by URL, cached like a browser, drift, spec diff, stub checks,
and the embedded server serving its own spec files under /swagger/yaml/."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from scripted import Answer, ScriptedServer

import odm_dyn
from odm_dyn.errors import SpecError
from odm_dyn.server import EmbeddedServer
from odm_dyn.spec import fetch

VENDOR_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "vendor" / "genestack-openapi-v1"
needs_vendor = pytest.mark.skipif(not VENDOR_DIR.exists(), reason="the vendor's spec is not in this checkout")
TOKEN = "live-spec-token-5e1b"
OURS = Path(odm_dyn.TASKS_SPEC)

MINIMAL = """openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /api/v1/things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "%s"}
"""


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A cache of its own for every test: what one test fetched never serves another."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ODM_DYN_CACHE_DIR", str(folder))
    return folder


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m odm_dyn ARGS`` with this test's cache and no ODM_HOST/ODM_SPEC from outside."""
    base = {k: v for k, v in os.environ.items() if k not in ("ODM_HOST", "ODM_SPEC", "ODM_API_TOKEN")}
    result = subprocess.run(
        [sys.executable, "-m", "odm_dyn", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def spec_requests(caplog) -> list[str]:
    """The server's log lines of the spec files it served (one per request)."""
    return [
        r.getMessage() for r in caplog.records if r.name == "odm_dyn.server" and r.getMessage().endswith("spec file")
    ]


def serve_files(files: dict[str, bytes], headers: dict[str, str] | None = None) -> ScriptedServer:
    """A scripted server answering GET PATH with ``files[PATH]`` (404 otherwise)."""
    server = ScriptedServer()

    def handler(request):
        body = files.get(request.target)
        if body is None:
            return Answer(404, b"{}")
        return Answer(200, body, {"Content-Type": "application/yaml", **(headers or {})})

    server.handler = handler
    return server


# --------------------------------------------------------------------------- the vendor's spec, served


@needs_vendor
def test_vendor_odm_api_over_http_cached_revalidated_offline_and_drifting(tmp_path, caplog):
    shutil.copytree(VENDOR_DIR, tmp_path / "served")  # a copy the test can change; its schemas beside it
    served = tmp_path / "served" / "odmApi.yaml"
    caplog.set_level(logging.INFO)
    server = EmbeddedServer(spec=served, tokens=[TOKEN]).start()
    try:
        url = f"{server.url}/swagger/yaml/odmApi.yaml"
        client = odm_dyn.Client(server.url, spec=url, token=TOKEN)
        assert len(client.operations) == 244
        assert client.publish_all_studies().status == "CREATED"
        first = spec_requests(caplog)
        assert '"GET /swagger/yaml/odmApi.yaml" 200 ' in first[0], first
        assert any('"GET /swagger/yaml/schemas/common/CommitInfo.yaml" 200 ' in line for line in first)

        # A second load in a new process: one conditional request per file, each answered 304.
        caplog.clear()
        script = "import odm_dyn, sys; print(len(odm_dyn.Client(sys.argv[1], spec=sys.argv[2]).operations))"
        out = subprocess.run(
            [sys.executable, "-c", script, server.url, url], capture_output=True, text=True, timeout=120, check=True
        )
        assert out.stdout.strip() == "244"
        second = spec_requests(caplog)
        assert len(second) == len(first) and all(" 304 " in line for line in second), second

        # The served spec changes (an operation added): the next load has its method, and says so.
        text = served.read_text()
        served.write_text(text.replace("paths:\n", "paths:\n" + EXTRA_PATH, 1))
        caplog.clear()
        changed = odm_dyn.Client(server.url, spec=url, token=TOKEN)
        assert callable(changed.ping_extra)
        drift = [r.getMessage() for r in caplog.records if r.name == "odm_dyn.spec"]
        assert drift == [
            f"the spec at {url} changed since it was last loaded: 1 operations added, 0 removed, 0 changed "
            "(odm-dyn spec diff shows how)"
        ]
    finally:
        server.stop()

    # The server gone: the cached copy, with one warning naming its age.
    caplog.clear()
    offline = odm_dyn.Client(server.url, spec=url)
    assert callable(offline.ping_extra)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert re.fullmatch(
        r"cannot reach http://127\.0\.0\.1:\d+ \(connection failed\); using the cached copy of its spec, "
        r"fetched \d+ seconds ago",
        warnings[0],
    ), warnings


EXTRA_PATH = """  /api/v1/extra/ping:
    get:
      operationId: pingExtra
      responses:
        "200":
          description: ok
"""


@needs_vendor
def test_vendor_area_file_loads_with_its_relative_refs_and_revalidates_each_file(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with EmbeddedServer(spec=VENDOR_DIR / "tasks.yaml", tokens=[TOKEN]) as server:
        url = f"{server.url}/swagger/yaml/tasks.yaml"
        client = odm_dyn.Client(server.url, spec=url, token=TOKEN)
        task = client.publish_all_studies(version_message="live")
        assert client.get_task_info(task.id).name == "live"
        first = spec_requests(caplog)
        assert any('/swagger/yaml/schemas/tasks/TaskInfo.yaml" 200' in line for line in first)
        caplog.clear()
        again = run("--spec", url, "--host", server.url, "--token", TOKEN, "call", "getTaskInfo", task.id)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["id"] == task.id
        second = spec_requests(caplog)
        assert len(second) == len(first) and all(" 304 " in line for line in second), second


# --------------------------------------------------------------------------- the embedded server's spec files


def test_embedded_server_serves_its_spec_files_with_etags_and_no_token(tmp_path):
    import requests

    with EmbeddedServer(tokens=[TOKEN]) as server:
        assert server.spec is None
        answer = requests.get(f"{server.url}/swagger/yaml/tasks.yaml", timeout=10)
        assert answer.status_code == 200 and answer.content == OURS.read_bytes()
        assert answer.headers["Content-Type"] == "application/yaml"
        etag = answer.headers["ETag"]
        again = requests.get(f"{server.url}/swagger/yaml/tasks.yaml", headers={"If-None-Match": etag}, timeout=10)
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
        for path in ("/swagger/yaml/nothing.yaml", "/swagger/yaml/../data/spec/tasks.yaml", "/swagger/yaml/%2e%2e/x"):
            assert requests.get(server.url + path, timeout=10).status_code == 404
        refused = requests.put(f"{server.url}/swagger/yaml/tasks.yaml", data=b"x", timeout=10)
        assert refused.status_code == 405


# --------------------------------------------------------------------------- limits and refusals


def test_a_ref_to_another_origin_is_refused_and_nothing_is_fetched_there():
    with ScriptedServer() as other, serve_files({}) as spec:
        spec.handler = None
        spec.answer(200, MINIMAL % f"{other.url}/schemas/Thing.yaml", "application/yaml")
        with pytest.raises(SpecError, match="another origin"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")
        assert other.received == []


def test_a_redirect_to_another_host_is_refused_and_not_followed():
    with ScriptedServer() as other, ScriptedServer() as spec:
        spec.answer(302, b"", headers={"Location": f"{other.url}/api.yaml"})
        with pytest.raises(SpecError, match="another origin"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")
        assert other.received == []


def test_a_redirect_on_the_same_origin_is_followed():
    files = {"/v2/api.yaml": (MINIMAL % "#/components/schemas/Thing").encode() + THING_COMPONENT}
    with serve_files(files) as spec:
        handler = spec.handler
        spec.handler = lambda r: (
            Answer(301, b"", {"Location": "/v2/api.yaml"}) if r.target == "/api.yaml" else handler(r)
        )
        client = odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")
        assert callable(client.get_thing)


THING_COMPONENT = b"""components:
  schemas:
    Thing: {type: object, properties: {id: {type: string}}}
"""


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "FILE:///etc/passwd", "ftp://127.0.0.1/api.yaml", "gopher://x/y"]
)
def test_only_http_and_https_urls_are_read(url):
    with pytest.raises(SpecError, match="only http and https"):
        odm_dyn.Client("http://127.0.0.1:9", spec=url)


def test_a_spec_url_with_credentials_is_refused_without_showing_them():
    with pytest.raises(SpecError, match="must not carry credentials") as caught:
        odm_dyn.Client("http://127.0.0.1:9", spec="https://user:s3cret-pw@odm.example.com/swagger/yaml/tasks.yaml")
    assert "s3cret-pw" not in str(caught.value) and "user" not in str(caught.value)


def test_a_list_of_urls_loads_every_document_on_the_first_ones_origin():
    other_op = (MINIMAL % "#/components/schemas/Thing").replace("getThing", "getOther").replace("things", "others")
    files = {
        "/a.yaml": (MINIMAL % "#/components/schemas/Thing").encode() + THING_COMPONENT,
        "/b.yaml": other_op.encode() + THING_COMPONENT,
    }
    with serve_files(files) as spec, serve_files(files) as elsewhere:
        client = odm_dyn.Client(spec.url, spec=[f"{spec.url}/a.yaml", f"{spec.url}/b.yaml"])
        assert callable(client.get_thing) and callable(client.get_other)
        with pytest.raises(SpecError, match="another origin"):
            odm_dyn.Client(spec.url, spec=[f"{spec.url}/a.yaml", f"{elsewhere.url}/b.yaml"])
        assert elsewhere.received == []


def test_a_file_ref_inside_a_served_spec_is_refused():
    with serve_files({"/api.yaml": (MINIMAL % "file:///etc/passwd").encode()}) as spec:
        with pytest.raises(SpecError, match="only http and https"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")


def test_a_spec_file_ref_to_a_url_is_refused(tmp_path):
    local = tmp_path / "api.yaml"
    local.write_text(MINIMAL % "http://127.0.0.1:9/Thing.yaml")
    with pytest.raises(SpecError, match="names a URL"):
        odm_dyn.Client(spec=local)


def test_an_oversized_file_is_refused(monkeypatch):
    monkeypatch.setattr(fetch, "DEFAULT_LIMITS", fetch.Limits(max_bytes=300))
    with serve_files({"/api.yaml": (MINIMAL % "#/x").encode() + b"#" * 400}) as spec:
        with pytest.raises(SpecError, match="larger than the limit of 300 bytes"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")


def test_too_many_files_are_refused(monkeypatch):
    monkeypatch.setattr(fetch, "DEFAULT_LIMITS", fetch.Limits(max_files=1))
    files = {"/api.yaml": (MINIMAL % "Thing.yaml").encode(), "/Thing.yaml": b"type: object\n"}
    with serve_files(files) as spec:
        with pytest.raises(SpecError, match="more than 1 files"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")


def test_a_spec_server_that_does_not_answer_in_time_is_an_error_when_nothing_is_cached(monkeypatch):
    monkeypatch.setattr(fetch, "DEFAULT_LIMITS", fetch.Limits(timeout=0.2))
    with ScriptedServer() as spec:
        spec.handler = lambda r: (time.sleep(1), Answer(200, b""))[1]
        with pytest.raises(SpecError, match=r"no answer in time\) and no copy of it is cached"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")


def test_a_load_past_its_total_time_is_stopped(monkeypatch):
    monkeypatch.setattr(fetch, "DEFAULT_LIMITS", fetch.Limits(total_seconds=1e-9))
    with serve_files({"/api.yaml": (MINIMAL % "#/x").encode()}) as spec:
        with pytest.raises(SpecError, match="took more than"):
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")
        assert spec.received == []


def test_an_unreachable_spec_server_with_nothing_cached_is_a_clear_spec_error():
    with ScriptedServer() as gone:
        url = f"{gone.url}/api.yaml"
    with pytest.raises(SpecError, match="cannot fetch the spec \\(connection failed\\) and no copy of it is cached"):
        odm_dyn.Client("http://127.0.0.1:9", spec=url)


def test_a_missing_spec_url_is_a_spec_error_naming_the_status():
    with serve_files({}) as spec:
        with pytest.raises(SpecError, match="answered HTTP 404") as caught:
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml")
        assert caught.value.file == f"{spec.url}/api.yaml"


def test_the_token_goes_to_the_spec_host_only_with_spec_auth():
    files = {"/api.yaml": (MINIMAL % "#/components/schemas/Thing").encode() + THING_COMPONENT}
    with serve_files(files) as spec:
        odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml", token=TOKEN)
        assert all("Genestack-API-Token" not in r.headers and "Authorization" not in r.headers for r in spec.received)
        spec.received.clear()
        odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml", token=TOKEN, spec_auth=True, refresh=True)
        assert [r.headers.get("Genestack-API-Token") for r in spec.received] == [TOKEN]


def test_a_token_that_could_inject_headers_is_refused_before_any_spec_fetch():
    with serve_files({}) as spec:
        with pytest.raises(odm_dyn.RequestValidationError, match="CR, LF or NUL") as caught:
            odm_dyn.Client(spec.url, spec=f"{spec.url}/api.yaml", token="abc\r\nX: 1", spec_auth=True)
        assert "abc" not in str(caught.value)
        assert spec.received == []


def test_conditional_requests_use_the_validators_and_refresh_skips_them():
    files = {"/api.yaml": (MINIMAL % "#/components/schemas/Thing").encode() + THING_COMPONENT}
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"}
    with serve_files(files, validators) as spec:
        url = f"{spec.url}/api.yaml"
        before = odm_dyn.Client(spec.url, spec=url)
        after = odm_dyn.Client(spec.url, spec=url)
        assert after.api is before.api  # the 304 reused what was compiled
        first, second = spec.received
        assert "If-None-Match" not in first.headers
        assert second.headers["If-None-Match"] == '"v1"'
        assert second.headers["If-Modified-Since"] == validators["Last-Modified"]
        odm_dyn.Client(spec.url, spec=url, refresh=True)
        assert "If-None-Match" not in spec.received[-1].headers


# --------------------------------------------------------------------------- the command line


def test_cli_reads_the_spec_from_odm_spec_and_refresh_fetches_again(caplog):
    caplog.set_level(logging.INFO)
    with EmbeddedServer(tokens=[TOKEN]) as server:
        url = f"{server.url}/swagger/yaml/tasks.yaml"
        listed = run("ops", env={"ODM_SPEC": url})
        assert listed.returncode == 0 and "get-task-info" in listed.stdout
        caplog.clear()
        fresh = run("--spec", url, "--refresh", "ops")
        assert fresh.returncode == 0
        assert [" 200 " in line for line in spec_requests(caplog)] == [True]


def test_cli_spec_auth_sends_the_token_to_the_spec_host():
    files = {"/api.yaml": (MINIMAL % "#/components/schemas/Thing").encode() + THING_COMPONENT}
    with serve_files(files) as spec:
        url = f"{spec.url}/api.yaml"
        assert run("--spec", url, "--token", TOKEN, "ops").returncode == 0
        assert run("--spec", url, "--token", TOKEN, "--spec-auth", "--refresh", "ops").returncode == 0
        sent = [r.headers.get("Genestack-API-Token") for r in spec.received]
        assert sent == [None, TOKEN]


def test_client_from_env_reads_odm_spec():
    with EmbeddedServer(tokens=[TOKEN]) as server:
        url = f"{server.url}/swagger/yaml/tasks.yaml"
        client = odm_dyn.Client.from_env({"ODM_HOST": server.url, "ODM_SPEC": url, "ODM_API_TOKEN": TOKEN})
        assert f"spec={url!r}" in repr(client)
        assert client.publish_all_studies().status == "CREATED"


# --------------------------------------------------------------------------- spec diff


def altered_copy(tmp_path: Path) -> Path:
    """Our spec without publishAllStudies and without the status KILLED."""
    data = yaml.safe_load(OURS.read_text())
    data["paths"] = {
        path: item
        for path, item in data["paths"].items()
        if all(op.get("operationId") != "publishAllStudies" for op in item.values() if isinstance(op, dict))
    }
    status = data["components"]["schemas"]["TaskInfo"]["properties"]["status"]
    status["enum"].remove("KILLED")
    target = tmp_path / "altered" / "tasks.yaml"
    target.parent.mkdir()
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@needs_vendor
def test_spec_diff_of_the_vendors_tasks_file_against_ours_finds_nothing_breaking():
    result = run("spec", "diff", str(VENDOR_DIR / "tasks.yaml"), str(OURS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "no changes to operations"


def test_spec_diff_marks_a_removed_operation_and_a_removed_enum_value_breaking(tmp_path):
    altered = altered_copy(tmp_path)
    result = run("spec", "diff", str(OURS), str(altered.parent))  # a file against a folder
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 changes, 2 breaking"
    assert "breaking  publishAllStudies: operation removed (POST /api/v1/tasks/publish-versions)" in lines
    assert "breaking  getTaskInfo: response 200 application/json .status: enum value 'KILLED' removed" in lines
    as_json = json.loads(run("spec", "diff", "--json", str(OURS), str(altered)).stdout)
    assert as_json["breaking"] is True
    assert {(c["operation"], c["breaking"]) for c in as_json["changes"]} == {
        ("publishAllStudies", True),
        ("getTaskInfo", True),
    }
    in_python = odm_dyn.spec.diff(OURS, altered)
    assert in_python.breaking and in_python.to_dict() == as_json
    backwards = run("spec", "diff", str(altered), str(OURS))  # adding them back breaks no caller of altered...
    assert "ok        publishAllStudies: operation added" in backwards.stdout
    # ... except the status a validating client of the old spec would refuse in an answer
    assert backwards.returncode == 1 and "enum value 'KILLED' added" in backwards.stdout


def test_spec_diff_over_http_and_of_parameters(tmp_path):
    data = yaml.safe_load(OURS.read_text())
    publish = data["paths"]["/api/v1/tasks/publish-versions"]["post"]
    publish["parameters"][0]["required"] = True
    publish["parameters"].append({"name": "dryRun", "in": "query", "schema": {"type": "boolean"}})
    changed = tmp_path / "tasks.yaml"
    changed.write_text(yaml.safe_dump(data, sort_keys=False))
    with EmbeddedServer(spec=changed, tokens=[TOKEN]) as server:
        result = odm_dyn.spec.diff(OURS, f"{server.url}/swagger/yaml/tasks.yaml")
    assert [str(c) for c in result.changes] == [
        "breaking  publishAllStudies: query parameter versionMessage: made required",
        "ok        publishAllStudies: query parameter dryRun: added",
    ]
    assert odm_dyn.spec.diff(OURS, OURS).changes == []


def test_spec_diff_usage_errors():
    assert run("spec").returncode == 2
    missing = run("spec", "diff", str(OURS), "no-such-spec.yaml")
    assert missing.returncode == 2 and "no such spec file" in missing.stderr


# --------------------------------------------------------------------------- stubs that know their spec


def test_stubs_check_names_the_operations_that_differ(tmp_path):
    stub = tmp_path / "odm_client.pyi"
    assert run("stubs", str(stub)).returncode == 0
    assert "# odm-dyn spec sha256: " in stub.read_text()
    same = run("stubs", "--check", str(stub))
    assert same.returncode == 0 and "matches the loaded spec" in same.stderr
    altered = altered_copy(tmp_path)
    differs = run("--spec", str(altered), "stubs", "--check", str(stub))
    assert differs.returncode == 1
    assert differs.stdout.splitlines() == ["removed: publishAllStudies", "changed: getTaskInfo"]
    assert "no longer matches the loaded spec" in differs.stderr


def test_stubs_check_of_a_file_without_a_stamp_is_a_usage_error(tmp_path):
    plain = tmp_path / "plain.pyi"
    plain.write_text("class Client: ...\n")
    result = run("stubs", "--check", str(plain))
    assert result.returncode == 2 and "holds no spec hash" in result.stderr


# --------------------------------------------------------------------------- TLS


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_a_spec_server_with_an_unverifiable_certificate_is_refused(tmp_path):
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    plain = ScriptedServer()
    plain.answer(200, (MINIMAL % "#/x").encode(), "application/yaml")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain._server.socket = context.wrap_socket(plain._server.socket, server_side=True)
    with plain:
        url = plain.url.replace("http://", "https://") + "/api.yaml"
        with pytest.raises(SpecError, match="TLS verification failed"):
            odm_dyn.Client("http://127.0.0.1:9", spec=url)
        assert plain.received == []


def _body_spec(tmp_path: Path, name: str, request: dict, answer: dict) -> Path:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/api/v1/things": {
                "post": {
                    "operationId": "makeThing",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": answer}}}},
                }
            }
        },
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_spec_diff_of_request_and_answer_schemas(tmp_path):
    old = _body_spec(
        tmp_path,
        "old.json",
        {"type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}}},
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        },
    )
    new = _body_spec(
        tmp_path,
        "new.json",
        {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "size": {"type": "number"}},
        },
        {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "integer"}}, "n": {"type": "integer"}},
        },
    )
    assert [str(c) for c in odm_dyn.spec.diff(old, new).changes] == [
        "breaking  makeThing: request body application/json .name: property made required",
        "breaking  makeThing: request body application/json .size: type integer changed to number",
        "breaking  makeThing: response 200 application/json .id: property removed",
        "breaking  makeThing: response 200 application/json .tags[]: type string changed to integer",
        "ok        makeThing: response 200 application/json .n: property added",
    ]


def test_a_spec_file_whose_name_holds_a_colon_is_still_a_file(tmp_path):
    local = tmp_path / "tasks:v2.yaml"
    shutil.copy(OURS, local)
    assert callable(odm_dyn.Client(spec=str(local)).get_task_info)
