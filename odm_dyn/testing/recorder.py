"""Contract testing: clients whose every exchange is recorded with its verdict.

The pytest plugin (``odm_dyn.pytest_plugin``) is the glue; this module holds what it glues:
:class:`ContractClient` (a strict :class:`~odm_dyn.client.Client` that reports to a recorder and
can declare the statuses a test expects), :class:`Recorder` (every exchange of the session, by
test) and the guards that turn a silent failure into a failed test.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ..api.plans import Api
from ..client.client import Client
from ..wire.exchange import Exchange

UNAUTHORIZED = 401


class ContractClient(Client):
    """A :class:`Client` for contract tests; ``expect_status`` declares an awaited status.

    ``with client.expect_status(401): ...`` tells the plugin that a 401 inside the block is the
    point of the test, not credentials that silently failed.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._expected: list[frozenset[int]] = []

    @contextlib.contextmanager
    def expect_status(self, *statuses: int) -> Iterator[ContractClient]:
        """Within the block, answers with these statuses are what the test is after."""
        self._expected.append(frozenset(statuses))
        try:
            yield self
        finally:
            self._expected.pop()

    def expects(self, status: int) -> bool:
        return any(status in statuses for statuses in self._expected)


@dataclass
class Record:
    """One exchange as the report and the guards see it."""

    test: str  # the pytest node id
    exchange: Exchange
    expected: bool  # the test declared this status
    strict: bool  # the client validates answers strictly: violations fail the test


@dataclass
class TestLog:
    """What one test's clients exchanged, and the statuses the test declared it expects."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    nodeid: str
    expected: frozenset[int] = frozenset()
    records: list[Record] = field(default_factory=list)


class Recorder:
    """Every recorded exchange of a session; safe to feed from several threads."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.apis: dict[int, Api] = {}
        self.secrets: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, client: ContractClient, test: TestLog) -> None:
        """Route ``client``'s exchanges to this recorder, under ``test``."""
        self.apis.setdefault(id(client.api), client.api)
        strict = client._validate_responses == "strict"

        def on_exchange(exchange: Exchange) -> None:
            expected = exchange.status in test.expected or client.expects(exchange.status)
            record = Record(test.nodeid, exchange, expected, strict)
            with self._lock:
                self.records.append(record)
                test.records.append(record)

        client.on_exchange = on_exchange

    def add_secrets(self, values: Iterable[str | None]) -> None:
        """Values to scrub from bodies and URLs in the report (headers are redacted anyway)."""
        self.secrets.update(v for v in values if v and len(v) >= 4)


# --------------------------------------------------------------------------- guards


def guard_problems(test: TestLog, *, credentials_hint: str = "") -> list[str]:
    """Why a test must fail although its own code may have passed: each as one message."""
    problems: list[str] = []
    for record in test.records:
        exchange = record.exchange
        if exchange.status == UNAUTHORIZED and not record.expected:
            problems.append(unexpected_401(exchange, credentials_hint))
        if record.strict:
            problems += [violation_message(exchange, v) for v in exchange.violations]
    return problems


def unexpected_401(exchange: Exchange, credentials_hint: str = "") -> str:
    return (
        f"{_what(exchange)} answered 401 Unauthorized, which this test did not expect: the server refused "
        f"the credentials, so the test may pass without checking anything.{credentials_hint} If the 401 is "
        "the point of the test, declare it with @pytest.mark.odm_expect(401) or `with odm_client.expect_status(401):`."
    )


def violation_message(exchange: Exchange, violation: Any) -> str:
    if violation.rule == "status":
        declared = ", ".join(exchange.plan.responses) or "none"
        return (
            f"{_what(exchange)} answered HTTP {exchange.status}, a status the spec does not declare for "
            f"{exchange.operation_id} (declared: {declared})"
        )
    return f"{_what(exchange)} answered HTTP {exchange.status} off-spec: {violation.path}: {violation.message}"


def _what(exchange: Exchange) -> str:
    return f"{exchange.operation_id} ({exchange.method} {exchange.path})"
