"""Issue 18: AsyncClient, the spec-made surface for asyncio.

Its behaviour (calls, errors, validation, retries, timeouts, secrets, downloads, waits and
paging) is tested with Client's own tests, run for both (tests/both.py). Here: what only the
async client has: coroutines with Client's signatures and docstrings, ``async with`` and
``aclose``, one keep-alive connection pool, many waits at once from one event loop, and the
typed stub of its coroutines.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import subprocess
import sys
import threading

import pytest

import odm_dyn
from tests import faults
from tests.conftest import CURATOR_TOKEN
from tests.faults import FaultServer
from tests.scripted import Answer, ScriptedServer

TASK = {"id": "GSF000123", "name": "n", "status": "DONE", "application": "publish", "createdBy": "curator"}


def run(coroutine):
    return asyncio.run(coroutine)


# --------------------------------------------------------------------------- the same surface


def test_every_method_is_a_coroutine_with_clients_signature_and_docstring():
    sync, aio = odm_dyn.Client("http://127.0.0.1:9"), odm_dyn.AsyncClient("http://127.0.0.1:9")
    assert type(aio).api is type(sync).api  # one loaded spec, one compiled plan for both
    names = [n for n in dir(sync) if not n.startswith("_") and n not in ("close", "on_exchange")]
    for name in names:
        mine, theirs = getattr(aio, name, None), getattr(sync, name)
        assert mine is not None, name
        if callable(theirs) and not isinstance(theirs, type):
            # the same parameters; the waits' returns are typed as async iterators and coroutines
            assert inspect.signature(mine).parameters == inspect.signature(theirs).parameters, name
            assert mine.__doc__ == theirs.__doc__ and mine.__name__ == theirs.__name__, name
    for name in [n for n in names if n in aio.api.plans or n.endswith("_with_http_info") or n == "call"]:
        assert inspect.iscoroutinefunction(getattr(aio, name)), name
    for name in ("wait_for_task", "wait_for_job"):
        assert inspect.iscoroutinefunction(getattr(aio, name))
    group = aio.tasks_api
    assert inspect.iscoroutinefunction(group.get_task_info)
    assert inspect.signature(group.get_task_info) == inspect.signature(sync.tasks_api.get_task_info)
    assert repr(aio).startswith("<odm_dyn.AsyncClient http://127.0.0.1:9")
    run(aio.aclose())
    sync.close()


def test_async_with_aclose_and_from_env(scripted_task):
    async def main():
        env = {"ODM_HOST": scripted_task.url, "ODM_API_TOKEN": "t1"}
        async with odm_dyn.AsyncClient.from_env(env) as client:
            task = await client.call("getTaskInfo", "GSF000123")
            pool = client.transport.session
        return task, pool

    task, pool = run(main())
    assert task.status == "DONE" and pool.is_closed
    assert scripted_task.received[0].headers["Genestack-API-Token"] == "t1"


def test_transport_settings_beside_a_transport_are_refused():
    from odm_dyn.client.async_transport import AsyncBaseTransport

    with pytest.raises(odm_dyn.RequestTypeError, match="settings of the transport"):
        odm_dyn.AsyncClient("http://127.0.0.1:9", transport=AsyncBaseTransport(), timeout=3)


def test_a_missing_await_is_a_coroutine_not_a_call(scripted_task):
    async def main():
        async with odm_dyn.AsyncClient(scripted_task.url) as client:
            pending = client.get_task_info("GSF000123")
            assert inspect.iscoroutine(pending) and scripted_task.received == []  # nothing sent yet
            return await pending

    assert run(main()).id == "GSF000123"


def test_bad_arguments_raise_when_awaited_and_nothing_is_sent(scripted_task):
    async def main():
        async with odm_dyn.AsyncClient(scripted_task.url) as client:
            with pytest.raises(odm_dyn.RequestTypeError, match="'id' is missing"):
                await client.get_task_info()
            with pytest.raises(ValueError, match="interval must be a positive"):
                client.wait_for_tasks(["A"], interval=0)  # checked at the call, before any poll

    run(main())
    assert scripted_task.received == []


@pytest.fixture
def scripted_task():
    with ScriptedServer() as server:
        server.default = Answer(200, json.dumps(TASK).encode())
        yield server


# --------------------------------------------------------------------------- the pool


def _keep_alive(server: FaultServer, conn, number: int) -> None:
    """Answer every request that comes on the connection, as a keep-alive server does."""
    while not server.stopped.is_set():
        if not faults.read_request(conn):
            return
        faults.answer(conn)


def test_one_connection_is_kept_alive_across_calls():
    with FaultServer(_keep_alive) as server:

        async def main():
            async with odm_dyn.AsyncClient(server.url, retries=0) as client:
                for _ in range(5):
                    assert (await client.get_task_info("GSF000123")).status == "DONE"

        run(main())
    assert server.connections == 1


def test_an_echoed_token_in_an_answers_header_never_reaches_httpcores_debug_log(caplog):
    secret = "echo-header-7731"
    with ScriptedServer() as server:
        server.handler = lambda request: Answer(
            200, json.dumps(TASK).encode(), {"Content-Type": "application/json", "X-Echo": secret}
        )

        async def main():
            async with odm_dyn.AsyncClient(server.url, token=secret) as client:
                await client.get_task_info("GSF000123")

        with caplog.at_level(logging.DEBUG):
            run(main())
    assert "receive_response_headers" in caplog.text  # httpcore logged the answer's headers
    assert secret not in caplog.text and "[redacted]" in caplog.text


# --------------------------------------------------------------------------- many at once


class CountingTransport:
    """An AsyncTransport whose sends are counted, with how many were in flight at once."""

    def __init__(self, inner):
        self.inner, self.timeout, self.retries = inner, inner.timeout, inner.retries
        self.sent = self.flying = self.most = 0

    async def send(self, request, **options):
        self.sent += 1
        self.flying += 1
        self.most = max(self.most, self.flying)
        try:
            return await self.inner.send(request, **options)
        finally:
            self.flying -= 1

    async def aclose(self):
        await self.inner.aclose()


TASK_SECONDS = 2.0
HANG = 60  # seconds: a bound only a hang exceeds, even on a busy 2-core machine


def test_two_hundred_tasks_waited_for_at_once_from_one_event_loop():
    """200 tasks, each DONE TASK_SECONDS after it was published, waited for together: the polls
    overlap (up to the wait's bound in flight at once), each task is polled only as often as its pace allows in
    its own time plus a margin, and every poll comes from the event loop's thread."""
    from odm_dyn.client.async_transport import AsyncTransport
    from odm_dyn.client.polling import MAX_POLLS_IN_FLIGHT
    from odm_dyn.server import EmbeddedServer

    threads: set[int] = set()
    polls: dict[str, int] = {}

    async def main(url: str):
        transport = CountingTransport(AsyncTransport(url, secrets=[CURATOR_TOKEN]))
        async with odm_dyn.AsyncClient(url, token=CURATOR_TOKEN, transport=transport) as client:
            published = await asyncio.gather(*(client.publish_all_studies() for _ in range(200)))
            transport.sent = transport.most = 0  # from here on: the wait's polls only
            client.on_exchange = lambda exchange: threads.add(threading.get_ident())
            started = asyncio.get_running_loop().time()

            def polled(task, elapsed):
                polls[task.id] = polls.get(task.id, 0) + 1

            ids = [task.id for task in published]
            done = [
                t
                async for t in client.wait_for_tasks(ids, timeout=HANG, interval=0.1, max_interval=0.5, on_poll=polled)
            ]
            return ids, done, asyncio.get_running_loop().time() - started, transport

    with EmbeddedServer(task_seconds=TASK_SECONDS, tokens=[CURATOR_TOKEN]) as server:
        ids, done, elapsed, transport = asyncio.run(main(server.url))
    assert sorted(t.id for t in done) == sorted(ids) and {t.status for t in done} == {"DONE"}
    assert threads == {threading.get_ident()}  # asyncio.run's loop runs in this thread
    assert 1 < transport.most <= MAX_POLLS_IN_FLIGHT  # the polls overlap, as many as the wait lets fly
    # Polls at 0, 0.1, 0.25, 0.475, then every 0.5 s: within its time plus a 3 s margin a task
    # is polled at most 4 + (TASK_SECONDS + 3) / 0.5 times; a wait that lagged would need more.
    assert max(polls.values()) <= 4 + (TASK_SECONDS + 3) / 0.5
    assert transport.sent == sum(polls.values())  # exactly one request per poll: none retried, none lost
    assert elapsed < HANG


def test_one_failing_task_raises_and_stops_every_other_poll(server):
    async def main():
        async with odm_dyn.AsyncClient(server.url, token=CURATOR_TOKEN) as client:
            ids = [(await client.publish_all_studies()).id for _ in range(3)]
            with pytest.raises(odm_dyn.NotFoundException):
                async for _task in client.wait_for_tasks([*ids, "GSF999999"], interval=0.05):
                    pass
            await asyncio.sleep(0.2)
            return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert run(main()) == []  # no poll left running after the wait raised


# --------------------------------------------------------------------------- the stub

GOOD = """\
import asyncio
from odm_client import AsyncClient, TaskInfo

async def main() -> None:
    async with AsyncClient("http://127.0.0.1:1", token="t") as client:
        task: TaskInfo = await client.tasks_api.publish_all_studies(version_message="v")
        done: TaskInfo = await client.wait_for_task(task, timeout=600)
        async for each in client.wait_for_tasks([done.id or ""]):
            status: str | None = each.status
        async for item in client.paginate("getTaskInfo"):
            pass

asyncio.run(main())
"""

BAD = """\
from odm_client import AsyncClient, TaskInfo

async def main() -> None:
    client = AsyncClient("http://127.0.0.1:1")
    task: TaskInfo = client.get_task_info("GSF1")
    await client.get_task_info(123)
"""


def test_stubs_async_type_the_coroutines(tmp_path):
    made = subprocess.run(
        [sys.executable, "-m", "odm_dyn", "stubs", "--async", str(tmp_path / "odm_client.pyi")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), "good.py", "bad.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert not [line for line in errors if line.startswith("good.py")], checked.stdout
    bad = [line for line in errors if line.startswith("bad.py")]
    assert len(bad) == 2, checked.stdout
    assert "Coroutine" in bad[0] and '"get_task_info"' in bad[1]


def test_a_ca_bundle_path_is_taken_without_httpxs_deprecation_warning():
    import certifi

    client = odm_dyn.AsyncClient("https://127.0.0.1:9", verify=certifi.where())  # warnings are errors here
    run(client.aclose())


def test_without_httpx_the_error_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "httpx", None)  # what `import httpx` meets when it is not installed
    with pytest.raises(ImportError, match=r"pip install 'odm-dyn\[async\]'"):
        odm_dyn.AsyncClient("http://127.0.0.1:9")


def test_an_async_paginator_says_to_use_async_for():
    client = odm_dyn.AsyncClient("http://127.0.0.1:9", spec="tests/data/paging.yaml")
    pages = client.paginate(client.search_samples)
    with pytest.raises(TypeError, match="async for"):
        iter(pages)
    run(client.aclose())
