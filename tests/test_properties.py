"""Property-based tests (issue 7): hypothesis drives arguments and server answers, schemathesis the server.

- Any argument values either pass request validation and make a well-formed request (path
  values stay one segment, query values round-trip, headers cannot split), or are refused with
  ``RequestValidationError`` before anything is sent.
- Any answer (status, headers, bytes) becomes data or one of odm_dyn's own errors: directly
  through ``read_response`` for speed, and over the wire for a smaller sample.
- Schemathesis generates requests from the bundled spec against the embedded server; every
  check passes.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import odm_dyn
from odm_dyn.api.load import load_api
from odm_dyn.client.response import read_response
from odm_dyn.wire.messages import RawResponse
from tests.scripted import Answer, ScriptedServer

DATA = Path(__file__).parent / "data"
PARAMS_SPEC = str(DATA / "params.yaml")
TOKEN = "properties-token-31c4"
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
WIRE = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
TASK = {"id": "GSF000123", "name": "n", "status": "DONE", "application": "publish-versions", "createdBy": "c"}
EXAMPLES: dict[str, int] = {}


def count(name: str) -> None:
    EXAMPLES[name] = EXAMPLES.get(name, 0) + 1


class Sent(Exception):
    """Raised by the fake transport: the request odm_dyn would have put on the wire."""

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes | None):
        self.method, self.target, self.headers, self.body = method, target, headers, body


def capturing(client: odm_dyn.Client) -> odm_dyn.Client:
    def send(request, **options):
        raise Sent(request.method, request.target, dict(request.headers), request.body)

    client.transport.send = send  # type: ignore[method-assign]
    return client


ITEMS = capturing(odm_dyn.Client("http://127.0.0.1:9", spec=PARAMS_SPEC))
TASKS = capturing(odm_dyn.Client("http://127.0.0.1:9", token=TOKEN))

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def sent_or_refused(call) -> Sent | None:
    """The request made, or ``None`` when odm_dyn refused it; anything else fails the test."""
    try:
        call()
    except Sent as sent:
        return sent
    except odm_dyn.RequestValidationError:
        return None
    raise AssertionError("the fake transport was not reached and nothing was refused")


def assert_well_formed_headers(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        assert not any(c in name + value for c in "\r\n\0"), (name, value)
        value.encode("latin-1")  # what http.client will do; it must not fail


@FAST
@given(value=st.text())
def test_any_path_value_is_one_segment_or_refused(value):
    count("path values")
    sent = sent_or_refused(lambda: TASKS.get_task_info(value))
    if sent is None:
        assert value == ""
        return
    assert sent.target.startswith("/api/v1/tasks/")
    segment = sent.target.removeprefix("/api/v1/tasks/")
    assert segment and all(c not in segment for c in "/?#") and segment not in (".", "..")
    assert segment.isascii() and unquote(segment.replace("%2E", ".")) == value


@FAST
@given(
    item_id=anything,
    colour=anything,
    page_size=anything,
    trace=anything,
    headers=st.dictionaries(st.text(), st.text(), max_size=2),
)
def test_any_arguments_make_a_well_formed_request_or_are_refused(item_id, colour, page_size, trace, headers):
    count("arguments")
    sent = sent_or_refused(
        lambda: ITEMS.get_item(item_id, colour=colour, page_size=page_size, x_trace=trace, _headers=headers)
    )
    if sent is None:
        return
    parts = urlsplit("http://h" + sent.target)
    assert parts.path.count("/") == 2 and parts.path.startswith("/items/") and not parts.fragment
    assert unquote(parts.path.removeprefix("/items/")) == str(item_id)
    query = parse_qs(parts.query, keep_blank_values=True)
    assert set(query) <= {"colour", "pageSize"}
    if colour is not None:
        assert query["colour"] == [colour] and colour in ("red", "green")
    if page_size is not None:
        assert query["pageSize"] == [str(page_size)] and 1 <= page_size <= 100
    assert_well_formed_headers(sent.headers)
    if trace is not None:
        assert sent.headers["X-Trace"] == trace


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@FAST
@given(body=st.one_of(json_values, st.dictionaries(st.sampled_from(["name", "size", "id", "x"]), json_values)))
def test_any_body_is_sent_as_the_same_json_or_refused(body):
    count("bodies")
    sent = sent_or_refused(lambda: ITEMS.create_item(body=body))
    if sent is None:
        return
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body) == body and isinstance(body, dict) and isinstance(body.get("name"), str)


# --------------------------------------------------------------------------- any answer

API = load_api(None)
PLANS = [API.plans["getTaskInfo"], API.plans["publishAllStudies"]]
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=latin-1",
            "application/problem+json",
            "text/plain; charset=nonexistent",
            "text/html; charset=base64",
            "application/octet-stream",
            "",
        ]
    ),
    header_text,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={k: json_values for k in TASK}).map(lambda v: json.dumps(v).encode()),
    st.just(json.dumps(TASK).encode()),
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
)
answers = st.builds(
    lambda status, ctype, extra, body: (status, {"Content-Type": ctype, **extra}, body),
    st.integers(100, 599),
    content_types,
    st.dictionaries(st.sampled_from(["Retry-After", "Content-Encoding", "X-Other"]), header_text, max_size=2),
    bodies,
)


@FAST
@given(answer=answers, plan=st.sampled_from(PLANS), mode=st.sampled_from(["strict", "warn", "off"]))
def test_any_answer_is_data_or_an_odm_dyn_error(answer, plan, mode):
    count("answers (read_response)")
    status, headers, body = answer
    try:
        read_response(API, plan, RawResponse(status, "Reason", headers, body), mode)
    except odm_dyn.OdmError as error:
        assert str(error) and (status >= 400 or mode == "strict")


@pytest.fixture(scope="module")
def scripted():
    with ScriptedServer() as server:
        yield server


@WIRE
@given(answer=answers.filter(lambda a: a[0] >= 200 and a[0] not in (204, 304)))
def test_any_answer_over_the_wire_is_data_or_an_odm_dyn_error(scripted, answer):
    count("answers (over the wire)")
    status, headers, body = answer
    scripted.handler = lambda request: Answer(status, body, headers)
    with odm_dyn.Client(scripted.url, token=TOKEN, retries=0, timeout=5) as client:
        try:
            client.get_task_info("GSF000123")
        except odm_dyn.OdmError as error:
            assert str(error)


# --------------------------------------------------------------------------- schemathesis


schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def odm_server():
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(task_seconds=0.2, tokens=[TOKEN]) as server:
        yield server


def bundled_schema():
    import yaml

    with open(odm_dyn.TASKS_SPEC, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return schemathesis.openapi.from_dict(raw)


SCHEMA = bundled_schema()


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_failed_check(case, odm_server):
    count(f"schemathesis {case.method} {case.path}")
    # Both schemes get a valid token: schemathesis then knows the credentials are ours, and its
    # auth check removes or spoils them and expects a 401.
    auth = {"Genestack-API-Token": TOKEN, "Authorization": f"Bearer {TOKEN}"}
    case.call_and_validate(base_url=odm_server.url, headers=auth, timeout=5)


def test_examples_ran():
    # Runs after the property tests of this file (pytest keeps the file's order).
    print("\nexamples run:", json.dumps(EXAMPLES, indent=1))
    for name in ("path values", "arguments", "bodies", "answers (read_response)"):
        if name in EXAMPLES:  # absent only when a -k selection left that test out
            assert EXAMPLES[name] >= 100, (name, EXAMPLES[name])
