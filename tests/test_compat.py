"""The generated client's surface: the vendor's two examples run against the embedded server."""

from __future__ import annotations

import importlib
import json
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


def run_example(name: str, server_url: str, env: dict[str, str] | None = None, **replace: str) -> str:
    """Run an example as a user would, with only its host (and sample id) filled in."""
    source = (EXAMPLES / name).read_text().replace('host = "http://localhost"', f'host = "{server_url}"')
    for old, new in replace.items():
        source = source.replace(old, new)
    env = {**os.environ, "API_KEY": CURATOR_TOKEN, **(env or {})}
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


# --------------------------------------------------------------------------- the whole surface (issue 16)

VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1"
ODM_API = VENDOR / "odmApi.yaml"
needs_vendor = pytest.mark.skipif(not ODM_API.is_file(), reason="the vendor's specs are not present")
EDITORS = Path(__file__).parent / "data" / "editors.yaml"


@pytest.fixture
def surface():
    """The surface's spec, put back to the bundled one after the test."""
    yield odm_dyn.use_spec
    odm_dyn.use_spec(None)


@pytest.fixture
def vendor_server(request):
    """The stateful double holding the object the vendor's example asks for ('id_example')."""
    from odm_dyn.server import EmbeddedServer

    kind = "study" if "study" in request.node.name else "sample"
    seed = {"objects": [{"kind": kind, "accession": "id_example", "metadata": {"Source": "the vendor's example"}}]}
    with EmbeddedServer(spec=ODM_API, tokens=[CURATOR_TOKEN], task_seconds=0.2, data=seed) as server:
        yield server


@needs_vendor
@pytest.mark.parametrize(
    ("example", "banner"),
    [
        ("get_study_as_curator.py", "StudySPoTAsCuratorApi->get_study_as_curator"),
        ("get_sample_versions_as_user.py", "SampleSPoTAsUserApi->get_sample_versions_as_user"),
    ],
)
def test_vendor_examples_of_other_tags_run_against_the_embedded_server(vendor_server, example, banner):
    out = run_example(example, vendor_server.url, env={"ODM_DYN_SPEC": str(ODM_API)})
    assert f"The response of {banner}" in out, out
    assert "Exception when calling" not in out


@needs_vendor
def test_every_tag_class_and_model_module_of_the_vendor_spec(surface):
    from odm_dyn.api.load import load_api
    from odm_dyn.names import generator_module

    with pytest.raises(AttributeError):
        odm_dyn.StudySPoTAsCuratorApi  # noqa: B018  # not in the bundled spec
    surface(ODM_API)
    api = load_api(ODM_API)
    for tag, _ in api.tags.values():
        name = api.tag_class_name(tag)
        cls = getattr(odm_dyn, name)
        module = importlib.import_module(f"odm_dyn.api.{generator_module(name)}")
        assert getattr(module, name) is cls
    for model in api.models.values():
        module = importlib.import_module(f"odm_dyn.models.{generator_module(model.__name__)}")
        assert getattr(module, model.__name__) is model
    from odm_dyn.api.study_spo_tas_curator_api import StudySPoTAsCuratorApi
    from odm_dyn.models.study import Study

    assert StudySPoTAsCuratorApi is odm_dyn.StudySPoTAsCuratorApi and Study is api.models["Study"]
    # the compiled-spec package's own modules are untouched
    assert hasattr(importlib.import_module("odm_dyn.api.plans"), "Api")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("odm_dyn.api.no_such_tag_api")


def test_generator_module_names_follow_the_generators_rule():
    from odm_dyn.names import generator_module

    assert generator_module("TasksAPIApi") == "tasks_api_api"
    assert generator_module("StudySPoTAsCuratorApi") == "study_spo_tas_curator_api"
    facs = "FlowCytometryFACSIntegrationAsCuratorApi"
    assert generator_module(facs) == "flow_cytometry_facs_integration_as_curator_api"
    assert generator_module("TaskInfo") == "task_info"


def test_configuration_spec_makes_the_surface_and_the_client(surface):
    with ScriptedServer() as server:
        server.answer(200, '{"name": "x"}')
        configuration = odm_dyn.Configuration(host=server.url, spec=str(EDITORS))
        with odm_dyn.ApiClient(configuration) as api_client:
            api = odm_dyn.OtherThingsApi(api_client)
            free = api.get_free()
        assert type(free).__name__ == "Free" and free.to_dict() == {"name": "x"}
        from odm_dyn.models.free import Free

        assert type(free) is Free


def test_vendor_module_paths():
    from odm_dyn.api_client import ApiClient
    from odm_dyn.configuration import Configuration
    from odm_dyn.exceptions import ApiException, NotFoundException, OpenApiException

    assert ApiClient is odm_dyn.ApiClient and Configuration is odm_dyn.Configuration
    assert ApiException is odm_dyn.ApiException and NotFoundException is odm_dyn.NotFoundException
    assert issubclass(NotFoundException, OpenApiException)


def test_configuration_refuses_unknown_keywords_naming_them():
    with pytest.raises(TypeError, match=r"'hots' \(did you mean 'host'\?\).*'colour'"):
        odm_dyn.Configuration(hots="http://elsewhere", colour="red")


def test_configuration_proxy_is_where_requests_go():
    """The proxy (a scripted server here) receives the request, with the target's full URL."""
    with ScriptedServer() as proxy:
        proxy.answer(200, '{"id": "A", "status": "DONE"}')
        configuration = odm_dyn.Configuration(host="http://odm.invalid:8080", proxy=proxy.url)
        with odm_dyn.ApiClient(configuration) as api_client:
            task = odm_dyn.TasksAPIApi(api_client).get_task_info("A")
        assert task.status == "DONE"
        assert proxy.received[0].target == "http://odm.invalid:8080/api/v1/tasks/A"


def test_configuration_tls_settings_become_the_clients():
    assert odm_dyn.Configuration().client_options()["verify"] is True
    assert odm_dyn.Configuration(verify_ssl=False).client_options()["verify"] is False
    assert odm_dyn.Configuration(ssl_ca_cert="ca.pem").client_options()["verify"] == "ca.pem"


def test_configuration_retries_are_the_clients():
    with ScriptedServer() as server:
        server.answer(503, "{}", headers={"Retry-After": "0"})
        with odm_dyn.ApiClient(odm_dyn.Configuration(host=server.url, retries=0)) as api_client:
            with pytest.raises(odm_dyn.ServiceException):
                odm_dyn.TasksAPIApi(api_client).get_task_info("A")
        assert len(server.received) == 1
        server.answer(503, "{}", headers={"Retry-After": "0"})
        server.answer(200, '{"id": "A", "status": "DONE"}')
        with odm_dyn.ApiClient(odm_dyn.Configuration(host=server.url, retries=1)) as api_client:
            assert odm_dyn.TasksAPIApi(api_client).get_task_info("A").status == "DONE"
        assert len(server.received) == 3


def test_client_side_validation_off_sends_what_the_spec_refuses():
    with ScriptedServer() as server:
        server.answer(200, '{"id": "A", "status": "DONE"}')
        with odm_dyn.ApiClient(odm_dyn.Configuration(host=server.url)) as api_client:
            with pytest.raises(odm_dyn.RequestValidationError):
                odm_dyn.TasksAPIApi(api_client).get_task_info(7)
        assert server.received == []
        configuration = odm_dyn.Configuration(host=server.url, client_side_validation=False)
        with odm_dyn.ApiClient(configuration) as api_client:
            odm_dyn.TasksAPIApi(api_client).get_task_info(7)
        assert server.received[0].target.endswith("/tasks/7")


def test_api_exception_body_is_text_and_raw_body_the_bytes(embedded_server):
    with odm_dyn.ApiClient(odm_dyn.Configuration(host=embedded_server.url)) as api_client:
        with pytest.raises(odm_dyn.ApiException) as caught:
            odm_dyn.TasksAPIApi(api_client).get_task_info("GSF404")
    error = caught.value
    assert isinstance(error.body, str) and isinstance(error.raw_body, bytes)
    assert error.body == error.raw_body.decode() and error.status == 401


def test_without_preload_content_returns_the_raw_answer_even_for_an_error(embedded_server):
    configuration = odm_dyn.Configuration(host=embedded_server.url)
    configuration.api_key["Genestack-API-Token"] = CURATOR_TOKEN
    with odm_dyn.ApiClient(configuration) as api_client:
        api = odm_dyn.TasksAPIApi(api_client)
        task = api.publish_all_studies(version_message="raw")
        raw = api.get_task_info_without_preload_content(task.id)
        missing = api.get_task_info_without_preload_content("GSF999999")
    assert raw.status == 200 and json.loads(raw.read())["id"] == task.id
    assert raw.getheader("content-type").startswith("application/json")
    assert missing.status == 404 and isinstance(missing.data, bytes)
    assert "without_preload_content" not in " ".join(dir(odm_dyn.Client(embedded_server.url)))


def test_api_client_takes_the_generators_arguments_only():
    with pytest.raises(TypeError, match="colour"):
        odm_dyn.ApiClient(colour="red")
    with ScriptedServer() as server:
        server.answer(200, '{"id": "A", "status": "DONE"}')
        configuration = odm_dyn.Configuration(host=server.url)
        with odm_dyn.ApiClient(configuration, header_name="X-Team", header_value="7", cookie="s=1") as api_client:
            odm_dyn.TasksAPIApi(api_client).get_task_info("A")
        assert server.received[0].headers["X-Team"] == "7" and server.received[0].headers["Cookie"] == "s=1"
