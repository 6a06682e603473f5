"""The client over real HTTP to a scripted server: call styles, wire format, errors, validation."""

from __future__ import annotations

import inspect
import json
import logging
import weakref

import pytest

import odm_dyn
from odm_dyn.client.response import ApiResponse
from odm_dyn.client.transport import RetryPolicy
from tests.conftest import CURATOR_TOKEN, USER_TOKEN
from tests.scripted import ScriptedServer

TASK = {
    "id": "GSF000123",
    "name": "release 7",
    "status": "RUNNING",
    "application": "publish",
    "startedAt": 1700000000000,
    "createdBy": "curator",
}
DONE = {**TASK, "status": "DONE", "endedAt": 1700000005000}
TOKEN = "tok-SECRET-4242"


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def real_client(embedded_server, make_client):
    """A client of the embedded server: ordinary answers come from the real thing. This and the
    other fixtures of clients run each test twice: for Client and for AsyncClient."""
    with make_client(embedded_server.url, token=CURATOR_TOKEN) as client:
        yield client


@pytest.fixture
def client(scripted, make_client):
    with make_client(scripted.url, token=TOKEN, retries=0) as client:
        yield client


def answer_json(server: ScriptedServer, data, status: int = 200) -> None:
    server.answer(status, json.dumps(data))


# --------------------------------------------------------------------------- call styles


def test_flat_call_sends_the_path(client, scripted):
    answer_json(scripted, TASK)
    client.get_task_info("GSF000123")
    assert scripted.received[0].method == "GET"
    assert scripted.received[0].target == "/api/v1/tasks/GSF000123"


def test_every_call_style_reaches_the_same_task(real_client):
    task = real_client.publish_all_studies(version_message="release 7")
    assert type(task).__name__ == "TaskInfo" and task.name == "release 7" and task.created_by == "curator"
    same = [
        real_client.get_task_info(task.id),
        real_client.get_task_info(id=task.id),
        real_client.tasks_api.get_task_info(id=task.id),
        real_client.tasks_api.get_task_info(task.id),
        real_client.call("getTaskInfo", task.id),
        real_client.call("get_task_info", id=task.id),
    ]
    assert {t.id for t in same} == {task.id}


def test_snake_case_parameter_is_sent_by_its_wire_name(client, scripted):
    answer_json(scripted, TASK)
    client.publish_all_studies(version_message="release 7 & more")
    request = scripted.received[0]
    assert request.method == "POST"
    assert request.target == "/api/v1/tasks/publish-versions?versionMessage=release%207%20%26%20more"


def test_optional_parameter_left_out_is_not_sent(client, scripted):
    answer_json(scripted, TASK)
    client.publish_all_studies()
    assert scripted.received[0].target == "/api/v1/tasks/publish-versions"


def test_with_http_info_returns_status_headers_and_raw_body(real_client):
    task = real_client.publish_all_studies(version_message="info")
    response = real_client.get_task_info_with_http_info(task.id)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.raw_data)["id"] == task.id
    assert response.data.name == "info"


def test_an_api_response_shows_and_compares_its_fields():
    answer = ApiResponse(200, {"ETag": "x"}, {"id": 1}, b"{}")
    assert repr(answer) == "ApiResponse(status_code=200, headers={'ETag': 'x'}, data={'id': 1}, raw_data=b'{}')"
    assert answer == ApiResponse(200, {"ETag": "x"}, {"id": 1}, b"{}") != ApiResponse(200, {}, {"id": 1}, b"{}")
    assert answer != (200, {"ETag": "x"}, {"id": 1}, b"{}")
    match answer:
        case ApiResponse(status, _, data, _):
            assert (status, data) == (200, {"id": 1})
    answer.data = None  # a plain value the caller may change, as before
    assert answer.data is None and weakref.ref(answer)() is answer
    with pytest.raises(TypeError):
        hash(answer)  # mutable and compared by value: unhashable, as the dataclass was


def test_per_call_headers_are_sent(client, scripted):
    answer_json(scripted, TASK)
    client.get_task_info("X", _headers={"X-Request-Id": "abc"}, _request_timeout=5)
    assert scripted.received[0].headers["X-Request-Id"] == "abc"


def test_model_keeps_read_only_and_unknown_fields(client, scripted):
    answer_json(scripted, {**TASK, "futureField": [1, 2]})
    task = client.get_task_info("GSF000123")
    assert task.to_dict() == {**TASK, "futureField": [1, 2]}
    assert task.futureField == [1, 2]
    again = type(task).from_dict(task.to_dict())
    assert again == task and again is not task
    assert "status='RUNNING'" in repr(task) and "started_at=1700000000000" in repr(task)


# --------------------------------------------------------------------------- signatures, docs


def test_methods_have_real_signatures_names_and_docstrings(client):
    signature = inspect.signature(client.get_task_info)
    assert list(signature.parameters)[:1] == ["id"]
    assert signature.parameters["id"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    publish = inspect.signature(client.publish_all_studies).parameters["version_message"]
    assert publish.kind is inspect.Parameter.KEYWORD_ONLY and publish.default is None
    assert client.get_task_info.__name__ == "get_task_info"
    doc = client.get_task_info.__doc__
    assert "GET /api/v1/tasks/{id}" in doc and "404" in doc and "id (string, path, required)" in doc
    assert "sent as 'versionMessage'" in client.publish_all_studies.__doc__


def test_tools_that_unwrap_a_method_to_its_code_still_reach_code(client):
    """A method's signature is made on first use (``__wrapped__``); what unwraps to code gets code."""
    import typing

    assert "_call(plan, args, kwargs, mode)" in inspect.getsource(client.get_task_info)
    assert typing.get_type_hints(client.get_task_info)["kwargs"] is typing.Any


ORDERED_SPEC = """
openapi: 3.0.3
info: {title: argument order, version: "1"}
paths:
  /things/{kind}/{id}:
    post:
      operationId: putThing
      parameters:
        - {name: dryRun, in: query, schema: {type: boolean}}
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: reason, in: query, required: true, schema: {type: string}}
        - {name: kind, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content: {application/json: {schema: {type: object}}}
      responses: {"204": {description: done}}
    patch:
      operationId: patchThing
      parameters:
        - {name: kind, in: path, required: true, schema: {type: string}}
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: note, in: query, schema: {type: string}}
        - {name: version, in: query, required: true, schema: {type: integer}}
      requestBody:
        content: {application/json: {schema: {type: object}}}
      responses: {"204": {description: done}}
"""


def test_required_arguments_the_body_among_them_come_before_optional_ones(tmp_path):
    spec = tmp_path / "ordered.yaml"
    spec.write_text(ORDERED_SPEC)
    client = odm_dyn.Client("http://127.0.0.1:1", spec=spec)
    options = [option.name for option in client.api.operations["putThing"].call_options()]
    put = inspect.signature(client.put_thing).parameters
    assert list(put) == ["kind", "id", "reason", "body", "dry_run", "x_trace", *options]
    assert [put[n].default for n in ("reason", "body", "dry_run")] == [inspect.Parameter.empty] * 2 + [None]
    patch = inspect.signature(client.patch_thing).parameters
    assert list(patch)[:4] == ["kind", "id", "version", "note"] and list(patch)[4] == "body"
    assert patch["body"].default is None
    from odm_dyn.cli.stubs import signature_text

    shown = signature_text(client.api, "putThing")  # odm-dyn ops and the IDE stubs: the same order
    assert shown.startswith("put_thing(kind: str, id: int, *, reason: str, body: dict[str, Any], dry_run: bool | None")


def test_dir_lists_operations_tags_and_variants(client):
    names = set(dir(client))
    assert {
        "get_task_info",
        "publish_all_studies",
        "tasks_api",
        "get_task_info_with_http_info",
        "wait_for_task",
    } <= names
    assert {"get_task_info", "publish_all_studies"} <= set(dir(client.tasks_api))


def test_unknown_operation_attribute_says_what_exists(client):
    with pytest.raises(AttributeError, match="get_task_inf"):
        client.get_task_inf  # noqa: B018
    with pytest.raises(AttributeError, match="did you mean getTaskInfo"):
        client.call("getTaskInf")


# --------------------------------------------------------------------------- auth


def test_token_goes_in_genestack_header(make_client, scripted):
    answer_json(scripted, TASK)
    with make_client(scripted.url, token=TOKEN) as client:
        client.get_task_info("A")
    headers = scripted.received[0].headers
    assert headers["Genestack-API-Token"] == TOKEN and "Authorization" not in headers


def test_access_token_goes_in_authorization_as_bearer(make_client, scripted):
    answer_json(scripted, TASK)
    with make_client(scripted.url, access_token=TOKEN) as client:
        client.get_task_info("A")
    headers = scripted.received[0].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}" and "Genestack-API-Token" not in headers


def test_from_env_reads_host_and_both_tokens(scripted, kind):
    from tests.both import from_env

    answer_json(scripted, TASK)
    env = {"ODM_HOST": scripted.url, "ODM_API_TOKEN": "t1", "ODM_ACCESS_TOKEN": "t2"}
    with from_env(kind, env) as client:
        client.get_task_info("A")
    headers = scripted.received[0].headers
    assert headers["Genestack-API-Token"] == "t1" and headers["Authorization"] == "Bearer t2"


def test_from_env_accepts_the_generated_clients_names():
    client = odm_dyn.Client.from_env(
        {"PRED_SPOT_HOST": "odm.example", "PRED_SPOT_SCHEME": "http", "PRED_SPOT_TOKEN": "t1"}
    )
    assert client.host == "http://odm.example"
    assert "Genestack-API-Token" in repr(client) and "t1" not in repr(client)


# --------------------------------------------------------------------------- status codes


@pytest.mark.parametrize(
    "status, cls",
    [
        (400, odm_dyn.BadRequestException),
        (401, odm_dyn.UnauthorizedException),
        (403, odm_dyn.ForbiddenException),
        (404, odm_dyn.NotFoundException),
        (409, odm_dyn.ConflictException),
        (418, odm_dyn.ApiException),
        (422, odm_dyn.UnprocessableEntityException),
        (429, odm_dyn.TooManyRequestsException),
        (500, odm_dyn.ServiceException),
        (503, odm_dyn.ServiceException),
    ],
)
def test_each_error_status_raises_its_exception(client, scripted, status, cls):
    scripted.answer(status, '{"message": "nope"}', headers={"X-Trace": "t1"})
    with pytest.raises(cls) as caught:
        client.get_task_info("GSF000123")
    error = caught.value
    assert type(error) is cls
    assert (error.status, error.operation) == (status, "getTaskInfo")
    assert error.headers["X-Trace"] == "t1" and error.body == '{"message": "nope"}'
    assert error.raw_body == b'{"message": "nope"}'
    assert error.data == {"message": "nope"}
    assert TOKEN not in str(error) and TOKEN not in repr(error)


def test_statuses_of_the_real_server_raise_their_exceptions(make_client, embedded_server):
    with make_client(embedded_server.url, token="wrong") as anonymous:
        with pytest.raises(odm_dyn.UnauthorizedException):
            anonymous.get_task_info("GSF000001")
    with make_client(embedded_server.url, token=USER_TOKEN) as user:
        with pytest.raises(odm_dyn.ForbiddenException):
            user.publish_all_studies()
        with pytest.raises(odm_dyn.NotFoundException):
            user.get_task_info("GSF999999")
        with pytest.raises(odm_dyn.ServiceException) as caught:
            user.get_task_info("GSF000001", _headers={"Prefer": "code=500"})
        assert caught.value.status == 500


def test_wait_for_task_follows_a_real_task_to_done(real_client):
    seen = []
    task = real_client.publish_all_studies()
    done = real_client.wait_for_task(task, timeout=30, interval=0.05, on_poll=lambda t, e: seen.append(t.status))
    assert done.status == "DONE" and done.ended_at >= done.started_at
    assert seen[-1] == "DONE" and len(seen) >= 2


def test_401_message_says_how_to_pass_a_token(client, scripted):
    scripted.answer(401, b"", content_type=None)
    with pytest.raises(odm_dyn.UnauthorizedException, match="Client\\(token=...\\)"):
        client.get_task_info("GSF000123")


def test_404_message_carries_the_spec_description(client, scripted):
    scripted.answer(404, b"", content_type=None)
    with pytest.raises(odm_dyn.NotFoundException, match="no task with this accession"):
        client.get_task_info("GSF000123")


# --------------------------------------------------------------------------- bad requests


@pytest.fixture
def items(scripted, make_client):
    with make_client(scripted.url, spec="tests/data/params.yaml") as client:
        yield client


@pytest.mark.parametrize(
    "call, cls, rule, parameter",
    [
        (lambda c: c.get_task_info(), odm_dyn.RequestTypeError, "required", "id"),
        (lambda c: c.get_task_info("A", colour="red"), odm_dyn.RequestTypeError, "unknown", "colour"),
        (lambda c: c.get_task_info(123), odm_dyn.RequestTypeError, "type", "id"),
        (lambda c: c.get_task_info("A", "B"), odm_dyn.RequestTypeError, "signature", None),
        (lambda c: c.get_task_info(b"GSF1"), odm_dyn.RequestTypeError, "type", "id"),  # not JSON data
        (lambda c: c.get_task_info({"GSF1"}), odm_dyn.RequestTypeError, "type", "id"),
        (lambda c: c.publish_all_studies(version_message=7), odm_dyn.RequestTypeError, "type", "version_message"),
    ],
)
def test_bad_arguments_are_refused_before_sending(client, scripted, call, cls, rule, parameter):
    with pytest.raises(cls) as caught:
        call(client)
    assert caught.value.rule == rule and caught.value.parameter == parameter
    assert caught.value.operation in ("getTaskInfo", "publishAllStudies")
    assert scripted.received == []


def test_a_value_json_has_no_form_for_is_named_by_its_type(client, scripted):
    with pytest.raises(odm_dyn.RequestTypeError, match="got a bytes, which is not JSON data"):
        client.get_task_info(b"GSF1")
    assert scripted.received == []


def test_type_errors_are_also_typeerror_and_rule_breaks_valueerror(items, scripted):
    with pytest.raises(TypeError):
        items.get_item(5)
    with pytest.raises(ValueError) as caught:
        items.get_item("a", colour="blue")
    assert not isinstance(caught.value, TypeError)
    assert "'enum'" in str(caught.value) and "red, green" in str(caught.value) and "colour" in str(caught.value)
    with pytest.raises(odm_dyn.RequestValidationError, match="maximum"):
        items.get_item("a", page_size=1000)
    assert scripted.received == []


def test_missing_required_body_and_body_schema_are_checked(items, scripted):
    with pytest.raises(odm_dyn.RequestTypeError, match="'body' is missing"):
        items.create_item()
    with pytest.raises(odm_dyn.RequestValidationError, match="required"):
        items.create_item(body={"size": 3})
    with pytest.raises(odm_dyn.RequestTypeError, match="body.size"):
        items.create_item(body={"name": "n", "size": "3"})
    assert scripted.received == []


def test_read_only_property_is_not_required_in_a_request(items, scripted):
    scripted.answer(201, json.dumps({"id": "i1", "name": "n"}))
    created = items.create_item(body={"name": "n"})
    assert created.id == "i1"
    assert json.loads(scripted.received[0].body) == {"name": "n"}
    assert scripted.received[0].headers["Content-Type"] == "application/json"


def test_model_instance_as_body(items, scripted):
    scripted.answer(201, json.dumps({"id": "i1", "name": "n"}))
    item = items.models.Item(name="n", size=2)
    items.create_item(body=item)
    assert json.loads(scripted.received[0].body) == {"name": "n", "size": 2}


def test_header_values_with_cr_or_lf_are_refused(items, scripted):
    with pytest.raises(odm_dyn.RequestValidationError, match="CR, LF"):
        items.get_item("a", x_trace="ok\r\nInjected: yes")
    with pytest.raises(odm_dyn.RequestValidationError, match="CR, LF"):
        items.get_item("a", _headers={"X-Other": "a\nb"})
    assert scripted.received == []


def test_request_validation_off_sends_anyway(make_client, scripted):
    scripted.answer(200, json.dumps({"id": "5", "name": "n"}))
    with make_client(scripted.url, spec="tests/data/params.yaml", validate_requests="off") as client:
        client.get_item("a", colour="blue")
    assert scripted.received[0].target == "/items/a?colour=blue"


def test_request_validation_warn_logs_and_sends(make_client, scripted, caplog):
    scripted.answer(200, json.dumps({"id": "5", "name": "n"}))
    with make_client(scripted.url, spec="tests/data/params.yaml", validate_requests="warn") as client:
        with caplog.at_level(logging.WARNING, logger="odm_dyn"):
            client.get_item("a", colour="blue")
    assert "enum" in caplog.text and len(scripted.received) == 1


def test_unknown_validation_mode_is_refused():
    with pytest.raises(ValueError, match="strict, warn, off"):
        odm_dyn.Client("http://127.0.0.1:1", validate_responses="loose")


# --------------------------------------------------------------------------- hostile path values


@pytest.mark.parametrize(
    "value, target",
    [
        ("../x", "/api/v1/tasks/..%2Fx"),
        ("..", "/api/v1/tasks/%2E%2E"),
        (".", "/api/v1/tasks/%2E"),
        ("a/b", "/api/v1/tasks/a%2Fb"),
        ("a?b=1#c", "/api/v1/tasks/a%3Fb%3D1%23c"),
        ("%2F", "/api/v1/tasks/%252F"),
        ("a\x00b", "/api/v1/tasks/a%00b"),
        ("résumé", "/api/v1/tasks/r%C3%A9sum%C3%A9"),
        ("a b", "/api/v1/tasks/a%20b"),
    ],
)
def test_path_parameters_never_change_the_target(client, scripted, value, target):
    answer_json(scripted, TASK)
    client.get_task_info(value)
    assert scripted.received[0].target == target


# --------------------------------------------------------------------------- off-spec answers

OFF_SPEC = [
    ("wrong enum value", 200, json.dumps({**TASK, "status": "SLEEPING"}), "application/json", "enum"),
    ("wrong type", 200, json.dumps({**TASK, "startedAt": "yesterday"}), "application/json", "type"),
    ("int64 overflow", 200, json.dumps({**TASK, "endedAt": 2**70}), "application/json", "format"),
    ("non-JSON body", 200, "<html>oops</html>", "application/json", "not valid JSON"),
    ("wrong content type", 200, "<html>oops</html>", "text/html", "text/html"),
    ("undeclared success status", 201, json.dumps(TASK), "application/json", "201 is not declared"),
    ("empty body", 200, "", None, "no body"),
]


@pytest.mark.parametrize("label, status, body, ctype, needle", OFF_SPEC, ids=[o[0] for o in OFF_SPEC])
def test_off_spec_answer_strict_raises(make_client, scripted, label, status, body, ctype, needle):
    scripted.answer(status, body, content_type=ctype)
    # unknown_enums="strict": by default a new enum value is accepted (tests/test_waits_paging.py)
    with make_client(scripted.url, token=TOKEN, retries=0, unknown_enums="strict") as client:
        with pytest.raises(odm_dyn.ResponseValidationError) as caught:
            client.get_task_info("GSF000123")
    error = caught.value
    assert needle in str(error)
    assert (error.operation, error.status) == ("getTaskInfo", status)
    assert error.body == body.encode() and error.errors


def _assert_task_of(data, body: str, status: int) -> None:
    """A JSON object answer of a declared status comes back as a TaskInfo, off-spec fields
    readable as they came (an undeclared status has no schema: its data stays plain)."""
    if not body.startswith("{"):
        return
    if status != 200:
        assert data == json.loads(body)
        return
    assert type(data).__name__ == "TaskInfo" and data.to_dict() == json.loads(body)
    assert data.status == json.loads(body)["status"] and data.started_at == json.loads(body)["startedAt"]


@pytest.mark.parametrize("label, status, body, ctype, needle", OFF_SPEC, ids=[o[0] for o in OFF_SPEC])
def test_off_spec_answer_warn_logs_and_returns_a_model(
    make_client, scripted, caplog, monkeypatch, label, status, body, ctype, needle
):
    monkeypatch.setattr("odm_dyn.client.response._warned_enums", set())  # a value is warned about once a process
    scripted.answer(status, body, content_type=ctype)
    with make_client(scripted.url, validate_responses="warn") as client:
        with caplog.at_level(logging.WARNING, logger="odm_dyn"):
            data = client.get_task_info("GSF000123")
    assert needle in caplog.text
    _assert_task_of(data, body, status)


@pytest.mark.parametrize("label, status, body, ctype, needle", OFF_SPEC, ids=[o[0] for o in OFF_SPEC])
def test_off_spec_answer_off_returns_a_model_without_any_check(
    make_client, scripted, caplog, monkeypatch, label, status, body, ctype, needle
):
    from odm_dyn.api.schemas import SchemaCheck

    checks = []
    real = SchemaCheck.violations
    monkeypatch.setattr(SchemaCheck, "violations", lambda self, *a, **k: checks.append(a) or real(self, *a, **k))
    scripted.answer(status, body, content_type=ctype)
    with make_client(scripted.url, validate_responses="off") as client:
        with caplog.at_level(logging.DEBUG, logger="odm_dyn"):
            data = client.get_task_info("GSF000123")
    assert needle not in caplog.text
    assert [c for c in checks if c[-1] == "$"] == []  # no response check ran (request checks name "id")
    _assert_task_of(data, body, status)


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_wait_for_task_ends_on_an_off_spec_done_task(make_client, scripted, mode):
    scripted.default.body = json.dumps({**DONE, "application": 7}).encode()  # off-spec: a number
    with make_client(scripted.url, validate_responses=mode) as client:
        task = client.wait_for_task("GSF000123", timeout=5, interval=0.01)
    assert task.status == "DONE" and task.application == 7 and len(scripted.received) == 1


# --------------------------------------------------------------------------- waiting


def test_wait_for_task_polls_until_terminal_and_backs_off(client, scripted, poll_pauses):
    sleeps = poll_pauses
    for status in ("QUEUED", "RUNNING", "RUNNING", "DONE"):
        answer_json(scripted, {**TASK, "status": status})
    seen = []
    task = client.wait_for_task("GSF000123", timeout=60, interval=1.0, on_poll=lambda t, e: seen.append(t.status))
    assert task.status == "DONE" and seen == ["QUEUED", "RUNNING", "RUNNING", "DONE"]
    assert sleeps == [1.0, 1.5, 2.25]


def test_wait_for_task_returns_failed_tasks_too(client, scripted):
    answer_json(scripted, {**TASK, "status": "FAILED"})
    assert client.wait_for_task("GSF000123").status == "FAILED"


def test_wait_for_task_times_out_with_the_last_task(client, scripted, patient_polls):
    scripted.default.body = json.dumps({**TASK, "status": "RUNNING"}).encode()
    with pytest.raises(odm_dyn.TaskTimeoutError) as caught:
        client.wait_for_task("GSF000123", timeout=0.05, interval=0.01)
    assert isinstance(caught.value, odm_dyn.OdmError)
    assert caught.value.task.status == "RUNNING" and "still RUNNING" in str(caught.value)


# --------------------------------------------------------------------------- transport


def test_connection_refused_is_an_api_connection_error(make_client):
    with make_client("http://127.0.0.1:1", retries=0) as client:
        with pytest.raises(odm_dyn.ApiConnectionError, match="cannot reach"):
            client.get_task_info("A")


def test_idempotent_get_is_retried_on_503_and_post_is_not(make_client, scripted):
    policy = RetryPolicy(total=2, backoff=0.001)
    scripted.answer(503, b"", content_type=None, headers={"Retry-After": "0"})
    answer_json(scripted, TASK)
    with make_client(scripted.url, retries=policy) as client:
        assert client.get_task_info("A").id == "GSF000123"
        assert len(scripted.received) == 2
        scripted.answer(503, b"", content_type=None)
        with pytest.raises(odm_dyn.ServiceException):
            client.publish_all_studies()
    assert len(scripted.received) == 3


def test_tokens_never_appear_in_debug_logs(make_client, scripted, caplog):
    answer_json(scripted, TASK)
    with caplog.at_level(logging.DEBUG):
        with make_client(scripted.url, token=TOKEN, access_token=TOKEN) as client:
            client.get_task_info("A")
            repr(client)
    assert TOKEN not in caplog.text and caplog.text


# --------------------------------------------------------------------------- host, signature, options


@pytest.mark.parametrize(
    "host, url",
    [
        ("localhost:8080", "https://localhost:8080"),  # as Client.from_env treats a bare ODM_HOST
        ("odm.example.com/base/", "https://odm.example.com/base"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTPS://[::1]:8443", "HTTPS://[::1]:8443"),
    ],
)
def test_a_host_is_normalised_like_odm_host(host, url):
    with odm_dyn.Client(host) as client:
        assert client.host == url
    assert odm_dyn.Client.from_env({"ODM_HOST": host}).host == url


@pytest.mark.parametrize(
    "host, needle",
    [
        ("ftp://x", "'ftp' is not http or https"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://", "names no host"),
        ("http://h:port", "Port could not be cast"),
        ("http://h/?a=1", "no query or fragment"),
        ("http://user:pw@h", "holds credentials"),
        ("http://h x", "spaces"),
    ],
)
def test_a_bad_host_is_refused_with_a_clear_value_error(host, needle):
    with pytest.raises(ValueError, match="is not a server URL") as caught:
        odm_dyn.Client(host)
    assert needle in str(caught.value) and isinstance(caught.value, odm_dyn.RequestValidationError)
    assert "pw" not in str(caught.value)


def test_client_signature_is_its_init():
    for cls in (odm_dyn.Client, type(odm_dyn.Client()), odm_dyn.AsyncClient, type(odm_dyn.AsyncClient())):
        parameters = inspect.signature(cls).parameters
        assert list(parameters)[:2] == ["host", "token"] and "self" not in parameters
        assert {"access_token", "validate_requests", "validate_responses", "timeout", "retries"} <= set(parameters)
        assert parameters["token"].kind is inspect.Parameter.KEYWORD_ONLY


def test_a_class_made_for_an_api_does_not_load_the_spec_again(monkeypatch):
    from odm_dyn.api.load import load_api
    from odm_dyn.client.classes import client_class

    cls = client_class(load_api())
    monkeypatch.setattr("odm_dyn.client.core.load_api", lambda *a: pytest.fail("load_api called"))
    with cls("http://localhost:1") as client:
        assert type(client) is cls


@pytest.mark.parametrize(
    "options, error, needle",
    [
        ({"_retries": "x"}, odm_dyn.RequestTypeError, "_retries must be"),
        ({"_retries": -1}, odm_dyn.RequestValidationError, "_retries must be 0 or more"),
        ({"_headers": ["a"]}, odm_dyn.RequestTypeError, "_headers must be a mapping"),
        ({"_request_timeout": -1}, odm_dyn.RequestValidationError, "positive"),
        ({"_request_timeout": float("nan")}, odm_dyn.RequestValidationError, "positive"),
        ({"_request_timeout": "x"}, odm_dyn.RequestTypeError, "_request_timeout must be seconds"),
        ({"_request_timeout": (1, 2, 3)}, odm_dyn.RequestTypeError, "_request_timeout must be seconds"),
        ({"_request_timeout": (1, 0)}, odm_dyn.RequestValidationError, "positive"),
        ({"_retry_unsafe": "yes"}, odm_dyn.RequestTypeError, "_retry_unsafe must be True or False"),
    ],
)
def test_bad_call_options_are_refused_before_sending(client, scripted, options, error, needle):
    with pytest.raises(error, match=needle) as caught:
        client.get_task_info("A", **options)
    assert caught.value.parameter == next(iter(options)) and caught.value.operation == "getTaskInfo"
    assert scripted.received == []


def test_good_call_options_are_taken(client, scripted):
    answer_json(scripted, TASK)
    answer_json(scripted, TASK)
    client.get_task_info("A", _request_timeout=(None, 5), _retries=RetryPolicy(total=0), _headers={"X-A": "1"})
    client.get_task_info("A", _request_timeout=2.5, _retries=1, _retry_unsafe=False)
    assert len(scripted.received) == 2


@pytest.mark.parametrize(
    "options, error",
    [
        ({"timeout": "x"}, odm_dyn.RequestTypeError),
        ({"timeout": 0}, odm_dyn.RequestValidationError),
        ({"timeout": (5, -1)}, odm_dyn.RequestValidationError),
        ({"retries": "3"}, odm_dyn.RequestTypeError),
        ({"retries": -2}, odm_dyn.RequestValidationError),
    ],
)
def test_bad_client_options_are_refused(options, error):
    with pytest.raises(error, match=next(iter(options))):
        odm_dyn.Client("http://localhost:1", **options)


# --------------------------------------------------------------------------- waiting, bounded


def _stalled(seconds: float, answers: list | None = None):
    """A handler answering from ``answers`` first, then stalling ``seconds`` before each answer."""
    import time as time_module

    from tests.scripted import Answer

    queue = list(answers or [])

    def handle(request):
        if queue:
            return Answer(200, json.dumps(queue.pop(0)).encode())
        time_module.sleep(seconds)
        return Answer(200, json.dumps(TASK).encode())

    return handle


def test_wait_for_task_on_a_stalled_server_ends_at_its_timeout(make_client, scripted):
    import time as time_module

    scripted.handler = _stalled(5)
    with make_client(scripted.url, retries=3) as client:  # the read timeout is 60 s
        started = time_module.monotonic()
        with pytest.raises(odm_dyn.TaskTimeoutError) as caught:
            client.wait_for_task("GSF000123", timeout=0.5, interval=0.05)
    assert time_module.monotonic() - started < 2.5
    assert caught.value.task is None and "no answer" in str(caught.value)


def test_wait_for_task_stalled_after_a_poll_keeps_the_last_task(make_client, scripted):
    import time as time_module

    scripted.handler = _stalled(5, [TASK])
    with make_client(scripted.url) as client:
        started = time_module.monotonic()
        with pytest.raises(odm_dyn.TaskTimeoutError) as caught:
            client.wait_for_task("GSF000123", timeout=0.6, interval=0.05)
    assert time_module.monotonic() - started < 2.5
    assert caught.value.task.status == "RUNNING" and "RUNNING" in str(caught.value)


def test_wait_for_task_polls_with_its_timeout_and_retries_cut(scripted, monkeypatch):
    client = odm_dyn.Client(scripted.url, token=TOKEN, retries=0)  # Client only: its _call is replaced
    calls = []
    real = client._call
    monkeypatch.setattr(
        client, "_call", lambda plan, args, kwargs, info: calls.append(kwargs) or real(plan, args, kwargs, info)
    )
    answer_json(scripted, DONE)
    client.wait_for_task("GSF000123", timeout=3)
    (options,) = calls
    assert max(options["_request_timeout"]) <= 3 and options["_retries"].total_time <= 3


@pytest.mark.parametrize("interval", [0, -1, float("nan"), "1"])
def test_wait_for_task_needs_a_positive_interval(client, scripted, interval):
    with pytest.raises(ValueError, match="interval must be a positive"):
        client.wait_for_task("GSF000123", interval=interval)
    assert scripted.received == []


# --------------------------------------------------------------------------- finding operations


@pytest.mark.parametrize("name", ["getTaskInfo", "get_task_info", "get-task-info"])
def test_api_find_plan_takes_every_spelling(client, name):
    assert client.api.find_plan(name).op.operation_id == "getTaskInfo"


def test_api_find_plan_says_what_is_close():
    from odm_dyn.api.load import load_api

    with pytest.raises(LookupError, match="did you mean get-task-info"):
        load_api().find_plan("get-task-inf")
    with pytest.raises(LookupError, match=r"did you mean publishAllStudies\?"):
        load_api().find_plan("publishAllStudy")


# --------------------------------------------------------------------------- connect timeouts


def test_a_connect_timeout_is_retried_and_a_read_timeout_is_not(scripted, monkeypatch):
    import requests

    monkeypatch.setattr("odm_dyn.client.retry._sleep", lambda seconds: None)
    answer_json(scripted, TASK)
    with odm_dyn.Client(scripted.url, retries=2) as client:
        real = client.transport._open
        attempts = []

        def flaky(*args):
            attempts.append(args[0])
            if len(attempts) == 1:
                raise requests.exceptions.ConnectTimeout("connect timed out")
            return real(*args)

        monkeypatch.setattr(client.transport, "_open", flaky)
        assert client.get_task_info("A").id == "GSF000123" and len(attempts) == 2
        attempts.clear()
        monkeypatch.setattr(
            client.transport, "_open", lambda *a: attempts.append(a) or _raise(requests.exceptions.ReadTimeout())
        )
        with pytest.raises(odm_dyn.ApiTimeoutError) as caught:
            client.get_task_info("A")
        assert len(attempts) == 1 and caught.value.connect is False
        monkeypatch.setattr(
            client.transport, "_open", lambda *a: attempts.append(a) or _raise(requests.exceptions.ConnectTimeout())
        )
        attempts.clear()
        with pytest.raises(odm_dyn.ApiTimeoutError, match="could not connect") as caught:
            client.publish_all_studies()  # a POST: not retried, as for connection errors
        assert len(attempts) == 1 and caught.value.connect is True


def _raise(error: BaseException):
    raise error


def test_transport_reasons_are_short_and_balanced():
    import urllib3

    from odm_dyn.client.transport import _reason

    refused = ConnectionRefusedError(111, "Connection refused")
    inner = urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    inner.__cause__ = refused
    outer = urllib3.exceptions.MaxRetryError(None, "/api/v1/tasks/A?key=abc", inner)
    import requests

    assert (
        _reason(requests.exceptions.ConnectionError(outer)) == "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    long = _reason(ValueError("the answer broke off (" + "word " * 200 + ")"))
    assert long == "ValueError: the answer broke off …"
    quoted = _reason(ValueError("bad header 'X-" + "a" * 300 + "'"))
    assert quoted == "ValueError: bad header …"
