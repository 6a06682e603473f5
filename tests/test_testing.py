"""validate_exchange on exchanges made with plain requests, and the client's on_exchange hook."""

from __future__ import annotations

import json

import pytest
import requests

import odm_dyn
from odm_dyn.api.load import load_api
from odm_dyn.testing import validate_exchange
from odm_dyn.wire.exchange import Exchange, redact_headers, redact_target
from tests.conftest import CURATOR_TOKEN
from tests.scripted import ScriptedServer

TASK = {"id": "GSF000123", "status": "DONE", "startedAt": 1700000000000}


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


# --------------------------------------------------------------------------- validate_exchange


def test_a_valid_exchange_has_no_violations(embedded_server) -> None:
    url = f"{embedded_server.url}/api/v1/tasks/publish-versions?versionMessage=release%207"
    response = requests.post(url, headers={"Genestack-API-Token": CURATOR_TOKEN}, timeout=10)

    assert response.status_code == 200
    assert validate_exchange(odm_dyn.TASKS_SPEC, response.request, response) == []
    assert validate_exchange([odm_dyn.TASKS_SPEC], response) == []  # the response alone, a list of specs
    missing = requests.get(
        f"{embedded_server.url}/api/v1/tasks/GSF999", headers={"Genestack-API-Token": "x"}, timeout=10
    )
    assert missing.status_code == 401 and validate_exchange(load_api(), missing) == []  # an Api, a declared 401


def test_a_body_off_its_schema_is_named_with_its_json_path(scripted: ScriptedServer) -> None:
    scripted.answer(200, json.dumps({**TASK, "status": "SLEEPING", "startedAt": "yesterday"}))
    response = requests.get(f"{scripted.url}/api/v1/tasks/GSF000123", timeout=10)

    violations = validate_exchange(odm_dyn.TASKS_SPEC, response)

    assert [(v.where, v.path, v.rule) for v in violations] == [
        ("response", "$.startedAt", "type"),
        ("response", "$.status", "enum"),
    ]
    assert str(violations[1]).startswith("response $.status: breaks 'enum'")


def test_an_undeclared_status_and_a_non_json_body(scripted: ScriptedServer) -> None:
    scripted.answer(418, b"{}")
    scripted.answer(200, b"<html>oops</html>", content_type="text/html")
    teapot = requests.get(f"{scripted.url}/api/v1/tasks/T1", timeout=10)
    html = requests.get(f"{scripted.url}/api/v1/tasks/T1", timeout=10)

    [status] = validate_exchange(odm_dyn.TASKS_SPEC, teapot)
    [media] = validate_exchange(odm_dyn.TASKS_SPEC, html)

    assert status.rule == "status" and "418 is not declared for getTaskInfo" in status.message
    assert media.rule == "content-type" and "text/html" in media.message


def test_requests_off_the_spec(scripted: ScriptedServer) -> None:
    scripted.default.body = json.dumps(TASK).encode()
    wrong_method = requests.delete(f"{scripted.url}/api/v1/tasks/T1", timeout=10)
    unknown_path = requests.get(f"{scripted.url}/api/v2/nothing", timeout=10)
    with_base_path = requests.get(f"{scripted.url}/odm/api/v1/tasks/T1", timeout=10)

    assert [v.rule for v in validate_exchange(odm_dyn.TASKS_SPEC, wrong_method)] == ["method"]
    [unknown] = validate_exchange(odm_dyn.TASKS_SPEC, unknown_path)
    assert (unknown.where, unknown.rule) == ("request", "operation")
    assert "GET /api/v2/nothing" in unknown.message
    assert validate_exchange(odm_dyn.TASKS_SPEC, with_base_path)[0].rule == "operation"  # no server has /odm


def test_request_parameters_are_checked_after_conversion(tmp_path, scripted: ScriptedServer) -> None:
    spec = tmp_path / "paged.yaml"
    spec.write_text(
        """
openapi: 3.1.0
info: {title: paged, version: "1"}
servers: [{url: "http://localhost/odm"}]
paths:
  /things:
    post:
      operationId: addThing
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, maximum: 10}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses:
        "204": {description: added}
""",
        encoding="utf-8",
    )
    scripted.answer(204, b"", content_type=None)
    scripted.answer(204, b"", content_type=None)
    good = requests.post(f"{scripted.url}/odm/things?limit=5", json={"name": "x"}, timeout=10)
    bad = requests.post(f"{scripted.url}/odm/things?limit=50", json={"label": "x"}, timeout=10)

    assert validate_exchange(str(spec), good) == []  # the server URL's base path /odm is understood
    assert [(v.where, v.path, v.rule) for v in validate_exchange(str(spec), bad)] == [
        ("request", "query.limit", "maximum"),
        ("request", "$", "required"),
    ]


# --------------------------------------------------------------------------- the client's hook


def test_on_exchange_sees_every_answer_redacted_with_its_verdict(scripted: ScriptedServer) -> None:
    seen: list[Exchange] = []
    client = odm_dyn.Client(
        scripted.url, token="tok-123456", access_token="acc-654321", on_exchange=seen.append, unknown_enums="strict"
    )
    scripted.answer(200, json.dumps(TASK))
    scripted.answer(200, json.dumps({**TASK, "status": "SLEEPING"}))  # a new enum value: refused when strict

    assert client.get_task_info("GSF000123").status == "DONE"
    with pytest.raises(odm_dyn.ResponseValidationError):  # strict validation still raises
        client.get_task_info("GSF000123")

    ok, bad = seen
    assert (ok.operation_id, ok.method, ok.status, ok.verdict) == ("getTaskInfo", "GET", 200, "ok")
    assert ok.request_headers["Genestack-API-Token"] == "[redacted]"
    assert ok.request_headers["Authorization"] == "[redacted]"
    assert "tok-123456" not in repr(ok.__dict__) and "acc-654321" not in repr(ok.__dict__)
    assert bad.verdict == "violation" and bad.violations[0].path == "$.status"
    assert scripted.received[0].headers["Genestack-API-Token"] == "tok-123456"  # redacted for observers only


def test_redaction_rules() -> None:
    headers = {"Cookie": "a=b", "X-Api-Key": "k", "X-Refresh-Token": "t", "Accept": "application/json"}
    assert redact_headers(headers) == {
        "Cookie": "[redacted]",
        "X-Api-Key": "[redacted]",
        "X-Refresh-Token": "[redacted]",
        "Accept": "application/json",
    }
    assert redact_target("/x?api_key=s3cr3t&page=2") == "/x?api_key=[redacted]&page=2"
    assert redact_target("/x?page=2") == "/x?page=2"
