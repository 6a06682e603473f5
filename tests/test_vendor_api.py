"""The vendor's whole ODM API, end to end: every operation through the client, a sample through the CLI.

The embedded server serves ``odmApi.yaml`` (244 operations); each operation is called with
arguments generated from its own parameter and body schemas, and every answer must pass the
client's strict validation. Skips where the vendor's files are absent.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import odm_dyn

VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1"
ODM_API = VENDOR / "odmApi.yaml"
TOKEN = "vendor-curator-token"
pytestmark = pytest.mark.skipif(not ODM_API.is_file(), reason="the vendor's specs are not present")


def _api() -> Any:
    from odm_dyn.api.load import load_api

    return load_api(ODM_API)


OPERATION_IDS = sorted(_api().plans) if ODM_API.is_file() else []


# Every operation's generated example answer, the Tasks API's real behaviour: a user's overlay
# over the shipped one (the stateful behaviours have their own tests, test_double*.py).
GENERATED_OVERLAY = {
    "overlay": "1.0.0",
    "info": {"title": "generated answers", "version": "1"},
    "actions": [
        {"target": "$.paths[*][?@.operationId]", "update": {"x-odm-dyn-behaviour": "generated"}},
        {"target": "$.paths['/api/v1/tasks/{id}'].get", "update": {"x-odm-dyn-behaviour": "task_info"}},
        {"target": "$.paths['/api/v1/tasks/publish-versions'].post", "update": {"x-odm-dyn-behaviour": "publish"}},
    ],
}


@pytest.fixture(scope="module")
def server():
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(spec=ODM_API, tokens=[TOKEN], task_seconds=0.2, overlay=GENERATED_OVERLAY) as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    with odm_dyn.Client(server.url, token=TOKEN, spec=ODM_API, retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def task_id(client) -> str:
    """A real task of the server, for getTaskInfo (the Tasks API keeps its real behaviour)."""
    return client.publish_all_studies(version_message="vendor test").id


# --------------------------------------------------------------------------- arguments from schemas


def valid_value(document: Any, check: Any) -> Any:
    """A value the compiled check accepts, made by the embedded server's generator.

    Spec examples come first when they fit; the vendor's do not always (duplicates under
    ``uniqueItems``, a required ``$ref`` missing), so every alternative choice is tried.
    """
    from odm_dyn.server.examples import Generator, fits_with

    if check is None:
        return {}
    for choice in range(4):
        value = Generator(document, choice, fits_with(check)).value(check.schema)
        if not check.violations(value):
            return value
    raise AssertionError(f"no valid value for {json.dumps(check.schema)[:200]}")


def arguments(plan: Any) -> dict[str, Any]:
    """Every parameter (required or not) and the body, by Python name."""
    document = plan.op.document
    values = {name: valid_value(document, plan.checks[name]) for name in plan.params}
    if plan.op.body is not None:
        values["body"] = valid_value(document, plan.body_checks.get(plan.body_media))
    return values


# --------------------------------------------------------------------------- the client


def test_the_whole_api_loads_with_a_method_for_every_operation(client):
    api = client.api
    assert len(api.operations) == 244 and len(api.tags) == 42
    for op in api.operations.values():
        method = getattr(client, op.python_name)
        signature = inspect.signature(method)
        assert [p.python_name for p in op.positional()] == list(signature.parameters)[: len(op.positional())]
        assert op.path in method.__doc__ and method.__name__ == op.python_name
        for tag in op.tags:
            attr = next(a for a, (t, _) in api.tags.items() if t == tag)
            assert getattr(getattr(client, attr), op.python_name).__name__ == op.python_name
    assert {"spot", "as", "curator"} <= set("_".join(api.tags).split("_"))  # "SPoT" is one word


def test_per_area_files_load_with_the_same_operations():
    whole = _api()
    seen: set[str] = set()
    for path in sorted(VENDOR.glob("*.yaml")):
        if path != ODM_API:
            area = odm_dyn.Client("http://127.0.0.1:9", spec=path)
            for op_id, op in area.operations.items():
                assert (op.method, op.path) == (whole.operations[op_id].method, whole.operations[op_id].path)
                assert callable(getattr(area, op.python_name))
            seen |= set(area.operations)
    assert seen == set(whole.operations)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_every_operation_answers_valid_data(client, task_id, operation_id):
    plan = client.api.plans[operation_id]
    values = arguments(plan)
    if operation_id == "getTaskInfo":
        values["id"] = task_id
    successes = [s for s in plan.responses if s.startswith("2")]
    if not successes:  # a retired operation: the spec declares only its error (410)
        with pytest.raises(odm_dyn.ApiException) as caught:
            client.call(operation_id, **values)
        assert str(caught.value.status) in plan.responses
        return
    answer = client.call_with_http_info(operation_id, **values)
    assert str(answer.status_code) in successes
    media = answer.headers.get("Content-Type", "").split(";")[0]
    model = next((plan.responses[r].models.get(media) for r in successes if plan.responses[r].models.get(media)), None)
    if model is not None and answer.data is not None:  # a JSON answer of a component schema is its model
        kind, name = model
        first = answer.data[0] if kind == "many" and answer.data else answer.data
        assert first is None or isinstance(first, client.api.models[name])


def test_a_table_answer_is_str_when_asked_for(client):
    """Content negotiation on the vendor's API: JSON by default, TSV when asked (the server
    decides what it sends; whichever declared type comes back is decoded by its own rule)."""
    plan = next(p for p in client.api.plans.values() if "text/tab-separated-values" in p.op.success_media_types())
    values = arguments(plan)
    assert plan.accept == "application/json"
    answer = client.call_with_http_info(plan.op.operation_id, **values, _accept="text/tab-separated-values")
    media = answer.headers.get("Content-Type", "")
    assert isinstance(answer.data, str) if media.startswith("text/") else answer.status_code == 200


def test_scim_error_body_is_the_exceptions_model(client):
    with pytest.raises(odm_dyn.BadRequestException) as caught:
        client.find_groups(_headers={"Prefer": "code=400"})
    error = caught.value
    assert type(error.data).__name__ in client.api.models
    assert error.data.to_dict() == json.loads(error.body)


# --------------------------------------------------------------------------- the command line

CLI_SAMPLE = ["getTaskInfo", "publishAllStudies", "createGroup", "searchStudiesAsCurator", "getStudyAsUser"]


def cli_arguments(plan: Any) -> list[str]:
    """The same generated values as command-line words: path values positional, the rest flags."""
    values = arguments(plan)
    words = [str(values.pop(p.python_name)) for p in plan.op.positional()]
    for param in plan.op.parameters:
        if param.python_name not in values or not param.required:
            continue
        value = values[param.python_name]
        flag = "--" + param.python_name.rstrip("_").replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            words += [flag, ",".join(map(str, value))]
        else:
            words += [flag, str(value)]
    if "body" in values:
        words += ["--body", json.dumps(values["body"])]
    return words


@pytest.mark.parametrize("operation_id", CLI_SAMPLE)
def test_a_sample_through_the_command_line(server, client, task_id, operation_id):
    plan = client.api.plans[operation_id]
    words = cli_arguments(plan)
    if operation_id == "getTaskInfo":
        words[0] = task_id
    command = [sys.executable, "-m", "odm_dyn", "--spec", str(ODM_API), "--host", server.url, "--token", TOKEN]
    result = subprocess.run(
        [*command, "call", operation_id, *words], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    success = next(s for s in sorted(plan.responses) if s.startswith("2"))
    check = next(iter(plan.responses[success].checks.values()))
    assert check is None or not check.violations(data)
