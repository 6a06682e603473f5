"""Shared fixtures. Sections belong to the issue that added them; keep them apart."""

from __future__ import annotations

from typing import Iterator

import pytest

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
