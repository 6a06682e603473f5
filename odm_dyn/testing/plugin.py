"""pytest plugin: check an ODM server (the embedded one, or yours) against the spec.

Loaded by every pytest run where odm_dyn is installed (entry point ``pytest11``), so it does
nothing, and imports nothing heavy, until a test asks for one of its fixtures:

- ``odm_server``: an embedded ODM server with a fresh in-memory database for each test
  (``@pytest.mark.odm_server(shared=True)`` for the session's one, ``task_seconds=...``);
  ``odm_server_session``: one for the whole session. With ``--odm-url`` (or ``ODM_URL``) both
  stand for that server instead, with ``--odm-token`` (``ODM_TOKEN`` / ``ODM_API_TOKEN``) or
  ``--odm-access-token`` (``ODM_ACCESS_TOKEN``), and ``--odm-user-token`` (``ODM_USER_TOKEN``), a
  token without ACCESS_ALL_DATA for the permission (403) tests. One request at the start checks
  that server: down, or refusing the token given, the session stops with one message. Only
  ``--odm-url`` and ``ODM_URL`` name a real server: a contract suite publishes all studies, so
  ``ODM_HOST`` (or ``PRED_SPOT_HOST``), exported for the command line or a script, never sends
  one to a real server by accident.
- ``odm_client``: a strict client on it whose every exchange is recorded with its verdict;
  ``odm_client_factory(**options)`` makes more (another token, ``token=None``, other options).

Guards: a test fails when one of its exchanges answered 401 without the test declaring it
(``@pytest.mark.odm_expect(401)`` or ``with odm_client.expect_status(401):``), or when an answer
breaks the spec (an undeclared status, a body off its schema), even if the test caught the error.
Tests marked ``odm_embedded`` (they drive the server with ``Prefer: code=...``) are skipped
against a real server. At the end: a contract report in the terminal, and with
``--odm-report PATH`` as JSON and HTML.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import pytest

if TYPE_CHECKING:
    from .recorder import ContractClient, Recorder, TestLog

DEFAULT_TASK_SECONDS = 0.5  # published tasks reach DONE quickly on the embedded server
_UNSET: Any = object()

MARKERS = (
    "odm_expect(*statuses): the test expects these HTTP statuses (a 401 is then not a credentials failure)",
    "odm_server(shared=False, task_seconds=None, db=None): how the odm_server fixture starts the embedded server",
    "odm_embedded: needs the embedded server (Prefer: code=...); skipped when --odm-url points to a real server",
)


@dataclass(frozen=True)
class Settings:
    """Where the fixtures point, from the command line first, then the environment."""

    url: str | None
    token: str | None = field(repr=False)  # secrets stay out of reprs (--showlocals, fixture errors)
    access_token: str | None = field(repr=False)
    spec: list[str] | None
    report: str | None
    task_seconds: float
    user_token: str | None = field(default=None, repr=False)  # without ACCESS_ALL_DATA, for the 403 tests

    @classmethod
    def of(cls, config: pytest.Config) -> Settings:
        found = config.stash.get(_SETTINGS, None)
        if found is None:
            found = config.stash[_SETTINGS] = cls._read(config)
        return found

    @classmethod
    def _read(cls, config: pytest.Config) -> Settings:
        from ..client.credentials import settings_from_env

        found = settings_from_env(_plugin_environment(config, os.environ))
        return cls(
            url=(found.get("host") or "").rstrip("/") or None,
            token=found.get("token"),
            access_token=found.get("access_token"),
            user_token=(config.getoption("odm_user_token") or os.environ.get("ODM_USER_TOKEN"))
            if found.get("host")
            else None,
            spec=list(config.getoption("odm_spec")) or None,
            report=config.getoption("odm_report"),
            task_seconds=config.getoption("odm_task_seconds"),
        )

    @property
    def remote(self) -> bool:
        return self.url is not None


def _plugin_environment(config: pytest.Config, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings as ``Client.from_env`` names them, from the plugin's own sources only.

    The server: ``--odm-url``, else ``ODM_URL``; never ``ODM_HOST`` or ``PRED_SPOT_HOST``, which
    users export for the command line, so pointing a suite that publishes at a real server is
    always asked for by name. The tokens: the options, else ``ODM_TOKEN`` / ``ODM_API_TOKEN`` and
    ``ODM_ACCESS_TOKEN``. ``Client.from_env``'s rules then complete the URL (a bare host: https).
    """
    option = config.getoption
    chosen = {
        "ODM_HOST": option("odm_url") or environ.get("ODM_URL"),
        "ODM_API_TOKEN": option("odm_token") or environ.get("ODM_TOKEN") or environ.get("ODM_API_TOKEN"),
        "ODM_ACCESS_TOKEN": option("odm_access_token") or environ.get("ODM_ACCESS_TOKEN"),
    }
    return {name: value for name, value in chosen.items() if value}


_SETTINGS = pytest.StashKey[Settings]()
_RECORDER = pytest.StashKey["Recorder"]()
_TEST_LOG = pytest.StashKey["TestLog"]()


@dataclass
class OdmServer:
    """What ``odm_server`` yields: the same shape for the embedded server and a real one."""

    url: str
    token: str | None = field(repr=False)  # secrets stay out of reprs (--showlocals, fixture errors)
    access_token: str | None = field(default=None, repr=False)
    user_token: str | None = field(default=None, repr=False)  # a user without ACCESS_ALL_DATA (embedded only)
    embedded: Any = None  # the EmbeddedServer, or None for a real server

    @property
    def is_embedded(self) -> bool:
        return self.embedded is not None

    def add_token(self, token: str, **options: Any) -> None:
        """Add a token on the embedded server; skips the test against a real one."""
        if self.embedded is None:
            pytest.skip("adding tokens needs the embedded server; this run targets a real one (--odm-url)")
        self.embedded.add_token(token, **options)


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("odm_dyn", "odm_dyn contract testing")
    group.addoption("--odm-url", default=None, metavar="URL", help="test this ODM server (env ODM_URL; not ODM_HOST)")
    group.addoption("--odm-token", default=None, metavar="T", help="its Genestack API token (env ODM_TOKEN)")
    group.addoption("--odm-access-token", default=None, metavar="T", help="or an access token (env ODM_ACCESS_TOKEN)")
    group.addoption(
        "--odm-user-token",
        default=None,
        metavar="T",
        help="a token without ACCESS_ALL_DATA, for the 403 tests (env ODM_USER_TOKEN)",
    )
    group.addoption("--odm-spec", action="append", default=[], metavar="PATH", help="spec file or folder (repeatable)")
    group.addoption(
        "--odm-report", default=None, metavar="PATH", help="write PATH.json and PATH.html (or the one its suffix names)"
    )
    group.addoption(
        "--odm-task-seconds",
        type=float,
        default=DEFAULT_TASK_SECONDS,
        metavar="S",
        help="how long the embedded server's tasks take (default: %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def odm_server_session(pytestconfig: pytest.Config) -> Iterator[OdmServer]:
    """One ODM server for the whole session: embedded, or the one ``--odm-url`` names."""
    with _server(Settings.of(pytestconfig)) as server:
        yield server


@pytest.fixture
def odm_server(request: pytest.FixtureRequest) -> Iterator[OdmServer]:
    """An embedded ODM server with a fresh in-memory database (or the ``--odm-url`` server)."""
    marker = request.node.get_closest_marker("odm_server")
    options = dict(marker.kwargs) if marker else {}
    if options.pop("shared", False):
        yield request.getfixturevalue("odm_server_session")
        return
    with _server(Settings.of(request.config), **options) as server:
        yield server


@pytest.fixture
def odm_client_factory(request: pytest.FixtureRequest, odm_server: OdmServer) -> Iterator[Callable[..., Any]]:
    """Makes recorded, strict clients on ``odm_server``: ``factory(token="other")``, ``factory(token=None)``."""
    made: list[Any] = []

    def make(*, token: Any = _UNSET, access_token: Any = _UNSET, **options: Any) -> ContractClient:
        client = _contract_client(request, odm_server, token, access_token, options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def odm_client(odm_client_factory: Callable[..., Any]) -> Any:
    """A strict client on ``odm_server``, its exchanges recorded for the contract report."""
    return odm_client_factory()


@contextlib.contextmanager
def _server(settings: Settings, task_seconds: float | None = None, db: str | None = None) -> Iterator[OdmServer]:
    if settings.remote:
        yield OdmServer(settings.url or "", settings.token, settings.access_token, settings.user_token)
        return
    from ..server import EmbeddedServer

    # Fresh random tokens: a test that passes only with these would not pass against yours.
    token, user_token = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    seconds = settings.task_seconds if task_seconds is None else task_seconds
    with EmbeddedServer(
        spec=settings.spec, db=db or ":memory:", task_seconds=seconds, tokens=[token], user_tokens=[user_token]
    ) as server:
        yield OdmServer(server.url, token, None, user_token, server)


def _contract_client(
    request: pytest.FixtureRequest, server: OdmServer, token: Any, access_token: Any, options: dict[str, Any]
) -> ContractClient:
    from .recorder import ContractClient

    settings = Settings.of(request.config)
    token = server.token if token is _UNSET else token
    access_token = server.access_token if access_token is _UNSET else access_token
    # Each answer is recorded as it came: no retry hides an answer from the report.
    options = {
        "validate_requests": "strict",
        "validate_responses": "strict",
        "unknown_enums": "strict",
        "retries": 0,
        **options,
    }
    client = ContractClient(server.url, token=token, access_token=access_token, spec=settings.spec, **options)
    recorder = _recorder(request.config)
    recorder.add_secrets([token, access_token, server.token, server.user_token, server.access_token])
    recorder.observe(client, _test_log(request.node))
    return client


def _recorder(config: pytest.Config) -> Recorder:
    found = config.stash.get(_RECORDER, None)
    if found is None:
        from .recorder import Recorder

        found = config.stash[_RECORDER] = Recorder()
    return found


def _test_log(item: pytest.Item) -> TestLog:
    found = item.stash.get(_TEST_LOG, None)
    if found is None:
        from .recorder import TestLog

        expected = {int(status) for marker in item.iter_markers("odm_expect") for status in marker.args}
        found = item.stash[_TEST_LOG] = TestLog(item.nodeid, frozenset(expected))
    return found


# --------------------------------------------------------------------------- a real server, checked once

FIXTURES = ("odm_server", "odm_server_session", "odm_client", "odm_client_factory")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Against a real server, one request before any test: down, or refusing the token, the
    session stops with one message instead of a failure (and a traceback) per test."""
    settings = Settings.of(session.config)
    if not settings.remote or session.config.getoption("collectonly"):
        return
    if not any(name in FIXTURES for item in session.items for name in getattr(item, "fixturenames", ())):
        return
    problem = reachability_problem(settings)
    if problem:
        pytest.exit(f"odm_dyn: {problem}", returncode=pytest.ExitCode.USAGE_ERROR)


def reachability_problem(settings: Settings) -> str | None:
    """Why the server of ``--odm-url`` cannot be tested, or ``None``; a token not given is left
    to the 401 guard, which names the tests that needed one."""
    from ..client.client import Client
    from ..errors import TransportError, UnauthorizedException

    with Client(
        settings.url,
        token=settings.token,
        access_token=settings.access_token,
        spec=settings.spec,
        validate_requests="off",
        validate_responses="off",
        retries=0,
        timeout=10,
    ) as client:
        probe = _probe_operation(client.api)
        if probe is None:
            return None
        op_id, arguments = probe
        try:
            client.call(op_id, **arguments)
        except TransportError as error:
            return f"the server {settings.url} (--odm-url / ODM_URL) cannot be reached: {error}"
        except UnauthorizedException:
            if settings.token or settings.access_token:
                which = "--odm-token / ODM_TOKEN" if settings.token else "--odm-access-token / ODM_ACCESS_TOKEN"
                return f"the server {settings.url} refused the token given by {which} (HTTP 401 on {op_id})"
        except Exception:  # noqa: BLE001 - any other answer means the server is there and took the token
            return None
    return None


def _probe_operation(api: Any) -> tuple[str, dict[str, Any]] | None:
    """A GET with no required query parameters (path parameters get a dummy id): changes nothing."""
    for op_id, plan in api.plans.items():
        op = plan.op
        if op.method != "get" or any(p.required and p.location != "path" for p in op.parameters):
            continue
        return op_id, {p.python_name: "odm-dyn-reachability-check" for p in op.positional()}
    return None


# --------------------------------------------------------------------------- guards


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against a real server, skip the tests that need the embedded one (reported at the test's line)."""
    if not Settings.of(config).remote:
        return
    skip = pytest.mark.skip(reason="drives the embedded server with Prefer: code=...; a real server ignores it")
    for item in items:
        if item.get_closest_marker("odm_embedded") is not None:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose exchanges hit an unexpected 401 or broke the spec, even if it passed."""
    try:
        result = yield
    except Exception as exc:
        _fail_on_guards(item, f"\n(the test itself raised {type(exc).__name__}: {exc})")
        raise
    _fail_on_guards(item, "")
    return result


def _fail_on_guards(item: pytest.Item, tail: str) -> None:
    test_log = item.stash.get(_TEST_LOG, None)
    if test_log is None or not test_log.records:
        return  # no odm_dyn client ran: nothing to guard, no cost
    from .recorder import guard_problems

    problems = guard_problems(test_log, credentials_hint=_credentials_hint(Settings.of(item.config)))
    if problems:
        pytest.fail("odm_dyn contract guard:\n" + "\n".join(f"- {p}" for p in problems) + tail, pytrace=False)


def _credentials_hint(settings: Settings) -> str:
    if not settings.remote:
        return ""
    if settings.token or settings.access_token:
        return " Check the token given by --odm-token / ODM_TOKEN (or --odm-access-token)."
    return " No token was given: pass --odm-token or set ODM_TOKEN."


# --------------------------------------------------------------------------- the report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    recorder = config.stash.get(_RECORDER, None)
    wanted = config.getoption("odm_report", None)
    if (recorder is None or not recorder.records) and not wanted:
        return  # silent unless something was recorded or a report was asked for
    report = _build_report(recorder, Settings.of(config))
    from .report import terminal_lines, write_report

    report["tests"] = {kind: _count(terminalreporter, kind) for kind in ("passed", "failed", "skipped", "error")}
    written = write_report(report, wanted) if wanted else []
    terminalreporter.write_sep("=", "odm_dyn contract report")
    for line in terminal_lines(report, [str(p) for p in written]):
        terminalreporter.write_line(line)


def _count(terminalreporter: Any, kind: str) -> int:
    """Tests of one outcome (a test counts once: its call, or the phase that skipped or failed it)."""
    reports = terminalreporter.stats.get(kind, [])
    return len({getattr(r, "nodeid", id(r)) for r in reports})


def _build_report(recorder: Recorder | None, settings: Settings) -> dict[str, Any]:
    from ..api.load import load_api
    from .recorder import Recorder
    from .report import build_report

    recorder = recorder or Recorder()
    apis = [load_api(settings.spec), *recorder.apis.values()]
    server = settings.url if settings.remote else "embedded (fresh per test unless shared)"
    spec = settings.spec or ["odm_dyn bundled tasks.yaml"]
    return build_report(recorder, apis, {"spec": spec, "server": server})
