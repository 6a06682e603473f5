"""Shared fixtures. Sections belong to the issue that added them; keep them apart."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pytest

T = TypeVar("T")

# --------------------------------------------------------------------------- the embedded server

CURATOR_TOKEN = "curator-token-8f3a"  # a curator holding ACCESS_ALL_DATA
USER_TOKEN = "user-token-2c9d"  # a user without it
curator_token = CURATOR_TOKEN
user_token = USER_TOKEN
TEST_TASK_SECONDS = 0.6  # long enough to see every status, short enough for a quick suite


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[object]:
    """One embedded ODM server for the whole session (in-memory database, fast tasks)."""
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(task_seconds=TEST_TASK_SECONDS, tokens=[CURATOR_TOKEN], user_tokens=[USER_TOKEN]) as server:
        yield server


@pytest.fixture
def server() -> Iterator[object]:
    """An embedded ODM server with a fresh database, for tests that count or change state."""
    from odm_dyn.server import EmbeddedServer

    with EmbeddedServer(task_seconds=TEST_TASK_SECONDS, tokens=[CURATOR_TOKEN], user_tokens=[USER_TOKEN]) as server:
        yield server


# --------------------------------------------------------------------------- servers in their own process, restarts


def serve_process(log_file: Path, *args: str, port: int = 0) -> tuple[subprocess.Popen, str]:
    """``python -m odm_dyn serve --port PORT ARGS``, its stderr appended to ``log_file``: the
    process and the URL it announced. Port 0 lets it pick a free port, so no other test can
    take it first; ``OSError(EADDRINUSE)`` when a given port is taken."""
    command = [sys.executable, "-m", "odm_dyn", "serve", "--port", str(port), *args]
    start = log_file.stat().st_size if log_file.exists() else 0
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        said = log_file.read_bytes()[start:].decode("utf-8", "replace")
        announced = re.search(r"ODM server on (\S+)", said)
        if announced:
            return process, announced.group(1)
        if process.poll() is not None:
            if "in use" in said:
                raise OSError(errno.EADDRINUSE, said)
            raise AssertionError(f"odm-dyn serve exited: {said}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("odm-dyn serve did not start in time")


def restart_on_port(start: Callable[[], T], seconds: float = 30) -> T:
    """``start()``, again while its port is taken: a server restarted on the port it had before
    (a client points there) waits out whoever took the port in between, instead of failing."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --------------------------------------------------------------------------- both clients (issue 18)


@pytest.fixture(params=["Client", "AsyncClient"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which client a test of both runs with: ``Client``, or ``AsyncClient`` behind tests.both.Blocking."""
    return request.param


@pytest.fixture
def make_client(kind: str) -> Iterator[Callable[..., object]]:
    """``make_client(url, **options)``: a client of the test's kind, closed after the test."""
    from tests.both import make

    made: list = []

    def factory(*args: object, **kwargs: object) -> object:
        made.append(make(kind, *args, **kwargs))
        return made[-1]

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def poll_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits' pauses between polls recorded, not slept, for either client."""
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr("odm_dyn.client.polling._sleep", pauses.append)
    monkeypatch.setattr("odm_dyn.client.polling._async_sleep", record)
    return pauses


@pytest.fixture
def patient_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wait at its deadline still makes its last poll, with at least ``MIN_POLL_SECONDS`` to
    answer: 0.1 s, which a loaded 2-core machine running the suite twice once missed. Tests of
    what that poll found give it longer (the floor itself: tests/test_waits.py)."""
    monkeypatch.setattr("odm_dyn.client.polling.MIN_POLL_SECONDS", 10.0)


@pytest.fixture
def retry_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The transports' pauses between retries recorded, not slept, for either client."""
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr("odm_dyn.client.retry._sleep", pauses.append)
    monkeypatch.setattr("odm_dyn.client.async_transport._sleep", record)
    return pauses
