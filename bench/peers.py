"""One ``getTaskInfo`` call per client under test: a factory per peer, all measured alike.

Every factory takes the server's URL, a token and a task id, sets its client up once (what a
long-running program does) and returns a function making one call that returns the decoded
task. ``SNIPPETS`` hold the same, as whole programs, for the cold-start measurements.
"""

from __future__ import annotations

import json
from typing import Any, Callable

Call = Callable[[], Any]
TASK_PATH = "/api/v1/tasks/{id}"


def bare_requests(url: str, token: str, task_id: str) -> Call:
    import requests

    session = requests.Session()
    target, headers = url + TASK_PATH.format(id=task_id), {"Genestack-API-Token": token}
    return lambda: session.get(target, headers=headers, timeout=10).json()


def bare_urllib3(url: str, token: str, task_id: str) -> Call:
    import urllib3

    pool = urllib3.PoolManager()
    target, headers = url + TASK_PATH.format(id=task_id), {"Genestack-API-Token": token}
    return lambda: json.loads(pool.request("GET", target, headers=headers, timeout=10).data)


def odm_dyn_client(url: str, token: str, task_id: str, spec: Any = None) -> Call:
    import odm_dyn

    client = odm_dyn.Client(url, token=token, spec=spec)
    return lambda: client.get_task_info(task_id)


def odm_api_client(url: str, token: str, task_id: str) -> Call:
    """The vendor's generated client (``odm-api`` 1.64.1: pydantic models on urllib3)."""
    import odm_api

    configuration = odm_api.Configuration(host=url)
    configuration.api_key["Genestack-API-Token"] = token
    api = odm_api.TasksAPIApi(odm_api.ApiClient(configuration))
    return lambda: api.get_task_info(task_id)


def aiopenapi3_client(url: str, token: str, task_id: str) -> Call:
    """aiopenapi3 with one shared synchronous httpx client, on our Tasks spec."""
    import httpx2
    import yaml
    from aiopenapi3 import OpenAPI

    import odm_dyn

    with open(odm_dyn.TASKS_SPEC, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    document["servers"] = [{"url": url}]  # the spec names http://localhost; the server is ours
    api = OpenAPI(url + "/openapi.yaml", document, session_factory=_shared_session(httpx2), use_operation_tags=False)
    api.authenticate(**{"Genestack-API-Token": token})
    operation = api._.getTaskInfo
    return lambda: operation(parameters={"id": task_id})


def _shared_session(httpx2: Any) -> Callable[..., Any]:
    """aiopenapi3 makes (and closes) a session per request by default; share one instead."""

    class SharedClient(httpx2.Client):
        def close(self) -> None:
            pass  # kept open for the next request: connection reuse, as every peer has

    shared: list[Any] = []

    def factory(**options: Any) -> Any:
        if not shared:
            shared.append(SharedClient(**options))
        return shared[0]

    # aiopenapi3 tells sync from async factories by the return annotation: a class, not a string.
    factory.__annotations__ = {"return": SharedClient}
    return factory


PEERS: dict[str, Callable[..., Call]] = {
    "bare requests": bare_requests,
    "bare urllib3": bare_urllib3,
    "odm_dyn": odm_dyn_client,
    "odm-api (generated)": odm_api_client,
    "aiopenapi3": aiopenapi3_client,
}

# Whole programs for cold start: import, load, build, one call. URL, TOKEN, TASK are set first.
SNIPPETS: dict[str, str] = {
    "bare requests": "import requests\nrequests.Session().get(URL + '/api/v1/tasks/' + TASK, "
    "headers={'Genestack-API-Token': TOKEN}, timeout=10).json()",
    "bare urllib3": "import json, urllib3\njson.loads(urllib3.PoolManager().request('GET', "
    "URL + '/api/v1/tasks/' + TASK, headers={'Genestack-API-Token': TOKEN}, timeout=10).data)",
    "odm_dyn": "import odm_dyn\nodm_dyn.Client(URL, token=TOKEN).get_task_info(TASK)",
    "odm-api (generated)": "from bench.peers import odm_api_client\nodm_api_client(URL, TOKEN, TASK)()",
    "aiopenapi3": "from bench.peers import aiopenapi3_client\naiopenapi3_client(URL, TOKEN, TASK)()",
}
