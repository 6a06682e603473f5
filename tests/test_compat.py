"""The generated client's surface: the vendor's two examples run against the embedded server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import odm_dyn
from tests.conftest import CURATOR_TOKEN
from tests.scripted import ScriptedServer

EXAMPLES = Path(__file__).parent / "vendor_examples"


def run_example(name: str, server_url: str, **replace: str) -> str:
    """Run an example as a user would, with only its host (and sample id) filled in."""
    source = (EXAMPLES / name).read_text().replace('host = "http://localhost"', f'host = "{server_url}"')
    for old, new in replace.items():
        source = source.replace(old, new)
    env = {**os.environ, "API_KEY": CURATOR_TOKEN}
    done = subprocess.run([sys.executable, "-c", source], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_vendor_examples_publish_then_get(embedded_server):
    published = run_example("publish_all_studies.py", embedded_server.url)
    assert "The response of TasksAPIApi->publish_all_studies" in published
    assert "name='version_message_example'" in published
    task_id = re.search(r"id='([^']+)'", published).group(1)
    got = run_example("get_task_info.py", embedded_server.url, id_example=task_id)
    assert "The response of TasksAPIApi->get_task_info" in got and f"id='{task_id}'" in got


def test_vendor_example_with_unknown_id_prints_the_api_exception(embedded_server):
    out = run_example("get_task_info.py", embedded_server.url)
    assert "Exception when calling TasksAPIApi->get_task_info" in out and "404" in out


def test_api_key_is_sent_as_is_and_after_its_prefix():
    with ScriptedServer() as server:
        server.answer(200, '{"id": "A", "status": "DONE"}')
        configuration = odm_dyn.Configuration(host=server.url)
        configuration.api_key["Access-token"] = "k1"
        configuration.api_key_prefix["Access-token"] = "Bearer"
        configuration.api_key["Genestack-API-Token"] = "k2"
        with odm_dyn.ApiClient(configuration) as api_client:
            task = odm_dyn.TasksAPIApi(api_client).get_task_info("A")
        assert task.status == "DONE"
        headers = server.received[0].headers
        assert headers["Authorization"] == "Bearer k1" and headers["Genestack-API-Token"] == "k2"
        assert "k1" not in repr(configuration)


def test_access_token_is_sent_as_a_bearer_token():
    with ScriptedServer() as server:
        server.answer(200, '{"id": "A", "status": "DONE"}')
        configuration = odm_dyn.Configuration(host=server.url, access_token="t0ken")
        with odm_dyn.ApiClient(configuration) as api_client:
            odm_dyn.TasksAPIApi(api_client).get_task_info("A")
        assert server.received[0].headers["Authorization"] == "Bearer t0ken"


def test_a_new_default_header_closes_the_client_it_replaces():
    with ScriptedServer() as server:
        server.answer(200, '{"id": "A", "status": "DONE"}')
        server.answer(200, '{"id": "A", "status": "DONE"}')
        with odm_dyn.ApiClient(odm_dyn.Configuration(host=server.url)) as api_client:
            tasks = odm_dyn.TasksAPIApi(api_client)
            tasks.get_task_info("A")
            first = api_client.client
            closed = []
            first.close = lambda: closed.append(True)
            api_client.set_default_header("X-Trace", "7")
            assert closed == [True]
            tasks.get_task_info("A")
            assert api_client.client is not first
        assert server.received[1].headers["X-Trace"] == "7"


def test_generated_surface_names():
    from odm_dyn.models.task_info import TaskInfo

    from odm_dyn.rest import ApiException

    assert ApiException is odm_dyn.ApiException
    assert TaskInfo is odm_dyn.models.TaskInfo
    assert odm_dyn.TasksAPIApi.__name__ == "TasksAPIApi"
    task = TaskInfo(id="GSF1", status="DONE", started_at=5)
    assert task.to_dict() == {"id": "GSF1", "status": "DONE", "startedAt": 5}
    with pytest.raises(AttributeError):
        odm_dyn.NoSuchApi  # noqa: B018


def test_to_dict_keeps_read_only_fields_unlike_the_generated_client(embedded_server):
    client = odm_dyn.Client(embedded_server.url, token=CURATOR_TOKEN)
    task = client.publish_all_studies(version_message="keep")
    data = task.to_dict()
    assert data["id"] == task.id and data["name"] == "keep" and data["status"] in ("CREATED", "QUEUED", "RUNNING")
