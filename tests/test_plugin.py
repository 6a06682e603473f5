"""The pytest plugin, run on small suites through pytester: report, guards, real-server mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

import odm_dyn
from odm_dyn.server import EmbeddedServer
from odm_dyn.testing.plugin import OdmServer, Settings
from tests.scripted import Answer, Received, ScriptedServer

pytest_plugins = ["pytester"]

EXAMPLE_SUITE = Path(__file__).resolve().parents[1] / "examples" / "contract_tests" / "test_tasks_contract.py"
SECRET = "secret-token-7d1e"
ENVIRONMENT = ("ODM_URL", "ODM_HOST", "ODM_TOKEN", "ODM_API_TOKEN", "ODM_ACCESS_TOKEN")
ENVIRONMENT += ("PRED_SPOT_HOST", "PRED_SPOT_SCHEME", "PRED_SPOT_TOKEN", "PRED_SPOT_ACCESS_TOKEN")


@pytest.fixture(scope="module", autouse=True)
def warm_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pytester's in-process runs drop the modules first imported inside them, and a module
    imported again mixes its classes with the old ones (yaml loaders, for one). So everything
    the plugin uses is imported here first, the spec checker included; and the spec cache is
    shared, since pytester gives each run its own HOME."""
    import odm_dyn.testing
    import odm_dyn.testing.report
    from odm_dyn.spec import TASKS_SPEC, load_documents

    load_documents(TASKS_SPEC, use_cache=False)
    assert odm_dyn.testing.report and odm_dyn.testing
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ODM_DYN_CACHE_DIR", str(tmp_path_factory.mktemp("spec-cache")))
        yield


@pytest.fixture(autouse=True)
def no_odm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs must target what each test says, not a server named in the developer's shell."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def real_server() -> Iterator[EmbeddedServer]:
    """An embedded server standing in for a user's real one (reached through --odm-url)."""
    with EmbeddedServer(task_seconds=0.3, tokens=[SECRET]) as server:
        yield server


def off_spec_answers(request: Received) -> Answer:
    """A server that breaks the Tasks spec: a status outside the enum, and an undeclared 418."""
    if request.target.endswith("/TEAPOT"):
        return Answer(418, b'{"error": "teapot"}')
    return Answer(200, json.dumps({"id": "T1", "status": "SLEEPING", "echo": SECRET}).encode())


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def statuses(report: dict, operation: str) -> dict:
    return next(op for op in report["operations"] if op["operation_id"] == operation)["statuses"]


# --------------------------------------------------------------------------- the embedded server


def test_embedded_run_reports_exercised_and_never_exercised_statuses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
        import pytest
        import odm_dyn

        def test_publish_then_done(odm_client):
            task = odm_client.publish_all_studies(version_message="v1")
            assert odm_client.wait_for_task(task.id, timeout=30).status == "DONE"

        def test_unknown_task(odm_client):
            with pytest.raises(odm_dyn.NotFoundException):
                odm_client.get_task_info("GSF404")
        """
    )
    result = pytester.runpytest("--odm-report", "report")

    result.assert_outcomes(passed=2)
    report = report_of(pytester.path / "report.json")
    get_task = statuses(report, "getTaskInfo")
    assert get_task["200"]["exchanges"] >= 1 and get_task["404"]["exchanges"] == 1
    assert get_task["500"] == {"declared": True, "exchanges": 0, "violations": 0}
    assert statuses(report, "publishAllStudies")["200"]["exchanges"] == 1
    assert "getTaskInfo 500" in report["never_exercised"]
    assert "publishAllStudies 403" in report["never_exercised"]
    assert report["summary"]["violations"] == 0 and report["violations"] == []
    assert {e["verdict"] for e in report["exchanges"]} == {"ok"}
    result.stdout.fnmatch_lines(
        [
            "*= odm_dyn contract report =*",
            "operations exercised: 2 of 2 | statuses exercised: 3 of 8 | tests: 2 passed, 0 failed, 0 skipped*",
            "*getTaskInfo*GET*/api/v1/tasks/{id}*200 x*404 x1*500 never*",
            "never exercised: getTaskInfo 401, getTaskInfo 500, publishAllStudies 401*",
            "full report: report.html (JSON: report.json)",
        ]
    )
    html = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert "publishAllStudies" in html and "never" in html


def test_the_example_suite_passes_on_the_embedded_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_tasks_contract=EXAMPLE_SUITE.read_text(encoding="utf-8"))
    result = pytester.runpytest("--odm-report", "report.json")

    result.assert_outcomes(passed=12)
    report = report_of(pytester.path / "report.json")
    assert report["never_exercised"] == []  # every declared status of the Tasks API, exercised
    assert not (pytester.path / "report.html").exists()  # the suffix chose JSON only


def test_plugin_is_silent_when_its_fixtures_are_unused(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def server():  # the project's own fixture names stay free
            return "mine"
        """
    )
    pytester.makepyfile(test_plain="def test_plain(server):\n    assert server == 'mine'\n")
    # In-process runs see odm_dyn already imported by this outer session, which pytest warns
    # about when it registers the plugin; a user's own run imports it through the plugin.
    result = pytester.runpytest("-W", "ignore::pytest.PytestAssertRewriteWarning")

    result.assert_outcomes(passed=1)
    assert "odm_dyn" not in result.stdout.str()
    assert sorted(p.name for p in pytester.path.iterdir() if p.name.startswith("report")) == []


# --------------------------------------------------------------------------- a server that breaks the spec


def test_off_spec_server_fails_with_the_violation_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
        import pytest
        import odm_dyn

        def test_reads_a_task(odm_client):
            odm_client.get_task_info("T1")

        def test_swallows_the_error(odm_client):
            try:
                odm_client.get_task_info("T1")
            except odm_dyn.OdmError:
                pass  # a false pass: the guard must still fail it

        def test_undeclared_status(odm_client):
            with pytest.raises(odm_dyn.ApiException):
                odm_client.get_task_info("TEAPOT")
        """
    )
    with ScriptedServer() as scripted:
        scripted.handler = off_spec_answers
        result = pytester.runpytest("--odm-url", scripted.url, "--odm-token", SECRET, "--odm-report", "report")

    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*getTaskInfo (GET /api/v1/tasks/T1) answered HTTP 200 off-spec: $.status: breaks 'enum'*",
            "*getTaskInfo (GET /api/v1/tasks/TEAPOT) answered HTTP 418, a status the spec does not declare*",
            "*418 UNDECLARED x1*",
        ]
    )
    assert all(r.headers.get("Genestack-API-Token") == SECRET for r in scripted.received)
    text = (pytester.path / "report.json").read_text(encoding="utf-8")
    assert SECRET not in text  # neither the header nor the body that echoed it
    report = json.loads(text)
    enum = next(v for v in report["violations"] if v["rule"] == "enum")
    assert enum["path"] == "$.status" and enum["operation"] == "getTaskInfo"
    assert enum["exchange"]["request"]["headers"]["Genestack-API-Token"] == "[redacted]"
    assert '"SLEEPING"' in enum["exchange"]["response"]["body"]
    assert statuses(report, "getTaskInfo")["418"] == {"declared": False, "exchanges": 1, "violations": 1}


# --------------------------------------------------------------------------- the 401 guard


def test_unexpected_401_fails_unless_declared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
        import pytest
        import odm_dyn

        def test_silently_unauthenticated(odm_client_factory):
            client = odm_client_factory(token="expired-token")
            with pytest.raises(odm_dyn.ApiException):
                client.get_task_info("GSF1")

        @pytest.mark.odm_expect(401)
        def test_declared_by_marker(odm_client_factory):
            with pytest.raises(odm_dyn.UnauthorizedException):
                odm_client_factory(token="expired-token").get_task_info("GSF1")

        def test_declared_by_context(odm_client_factory):
            client = odm_client_factory(token=None)
            with client.expect_status(401), pytest.raises(odm_dyn.UnauthorizedException):
                client.get_task_info("GSF1")
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_silently_unauthenticated*",
            "*getTaskInfo (GET /api/v1/tasks/GSF1) answered 401 Unauthorized, which this test did not expect*",
        ]
    )
    assert "test_declared_by_marker FAILED" not in result.stdout.str()


def test_prefer_with_broken_credentials_is_caught_by_the_401_guard(pytester: pytest.Pytester) -> None:
    """The embedded server authenticates before it honours Prefer, so an error-path test whose
    token silently fails sees a 401 (and the guard fails it) instead of the status it asked for."""
    pytester.makepyfile(
        test_suite="""
        import pytest
        import odm_dyn

        def test_error_path(odm_client_factory):
            client = odm_client_factory(token="expired-token")
            with pytest.raises(odm_dyn.ApiException):
                client.get_task_info("GSF1", _headers={"Prefer": "code=500"})
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*answered 401 Unauthorized, which this test did not expect*"])


def test_real_server_without_token_says_so(pytester: pytest.Pytester, real_server: EmbeddedServer) -> None:
    pytester.makepyfile(test_suite="def test_task(odm_client):\n    odm_client.get_task_info('GSF1')\n")
    result = pytester.runpytest("--odm-url", real_server.url)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*answered 401 Unauthorized*No token was given: pass --odm-token or set ODM_TOKEN*"])


# --------------------------------------------------------------------------- a real server


def test_example_suite_on_a_real_server_skips_prefer_tests(
    pytester: pytest.Pytester, real_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_tasks_contract=EXAMPLE_SUITE.read_text(encoding="utf-8"))
    monkeypatch.setenv("ODM_URL", real_server.url)  # the environment works as well as --odm-url
    monkeypatch.setenv("ODM_TOKEN", SECRET)
    result = pytester.runpytest("-rs")

    # publish→DONE, 404 and both 401 flows run; the seven Prefer tests and the 403 one are skipped
    result.assert_outcomes(passed=4, skipped=8)
    result.stdout.fnmatch_lines(["*server: http://127.0.0.1:*", "SKIPPED ?6? test_tasks_contract.py:*a real server*"])
    assert SECRET not in result.stdout.str()


def test_report_path_without_suffix_writes_json_and_html(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_none="def test_nothing():\n    pass\n")
    result = pytester.runpytest("--odm-report", str(pytester.path / "out" / "contract"))

    result.assert_outcomes(passed=1)
    assert report_of(pytester.path / "out" / "contract.json")["summary"]["exchanges"] == 0
    assert "<table>" in (pytester.path / "out" / "contract.html").read_text(encoding="utf-8")
    result.stdout.fnmatch_lines(["*statuses exercised: 0 of 8*"])


def test_marker_asks_for_the_shared_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
        import pytest

        urls = []

        @pytest.mark.odm_server(shared=True)
        def test_one(odm_server, odm_server_session):
            urls.append(odm_server.url)
            assert odm_server is odm_server_session and odm_server.is_embedded

        @pytest.mark.odm_server(shared=True)
        def test_two(odm_server):
            assert odm_server.url == urls[0]

        def test_fresh(odm_server):
            assert odm_server.url != urls[0]
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


# --------------------------------------------------------------------------- settings


class Options:
    """A stand-in for pytest.Config: the plugin's options, unset unless given."""

    def __init__(self, **given: object):
        self.given = {"odm_spec": [], "odm_report": None, "odm_task_seconds": 0.5, **given}

    def getoption(self, name: str) -> object:
        return self.given.get(name)


@pytest.mark.parametrize(
    "environment",
    [
        {"ODM_HOST": "https://odm.example.com", "ODM_API_TOKEN": SECRET},  # as the README's CLI section says
        {"PRED_SPOT_HOST": "odm.example.com", "PRED_SPOT_SCHEME": "http", "PRED_SPOT_TOKEN": SECRET},
    ],
)
def test_the_command_lines_environment_never_points_the_fixtures_at_a_real_server(
    monkeypatch: pytest.MonkeyPatch, environment: dict
) -> None:
    """SAFETY: a contract suite publishes all studies; exporting ODM_HOST for odm-dyn must not
    quietly run it against that server. Only --odm-url or ODM_URL name a real server."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings._read(Options())  # type: ignore[arg-type]
    assert settings.url is None and not settings.remote


def test_odm_host_alone_leaves_the_fixtures_on_the_embedded_server(
    pytester: pytest.Pytester, real_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODM_HOST", real_server.url)
    monkeypatch.setenv("ODM_API_TOKEN", SECRET)
    pytester.makepyfile(
        test_suite=f"""
        def test_where(odm_server, odm_client):
            assert odm_server.is_embedded and odm_server.url != {real_server.url!r}
            odm_client.publish_all_studies(version_message="stays local")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    with odm_dyn.Client(real_server.url, token=SECRET) as client, pytest.raises(odm_dyn.NotFoundException):
        client.get_task_info("GSF000001")  # nothing was published on the "real" server


def test_settings_from_the_plugins_own_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODM_HOST", "http://host.example.com")
    monkeypatch.setenv("ODM_URL", "url.example.com/")  # a bare host name: https, as for ODM_HOST
    monkeypatch.setenv("ODM_API_TOKEN", "api-token")
    monkeypatch.setenv("ODM_TOKEN", SECRET)
    settings = Settings._read(Options())  # type: ignore[arg-type]
    assert (settings.url, settings.token) == ("https://url.example.com", SECRET)
    given = Settings._read(Options(odm_url="http://cli.example.com", odm_access_token="a"))  # type: ignore[arg-type]
    assert (given.url, given.token, given.access_token) == ("http://cli.example.com", SECRET, "a")
    monkeypatch.delenv("ODM_TOKEN")
    monkeypatch.setenv("ODM_ACCESS_TOKEN", "access")
    settings = Settings._read(Options())  # type: ignore[arg-type]
    assert (settings.token, settings.access_token) == ("api-token", "access")  # the client's token names work


def test_reprs_hold_no_token() -> None:
    settings = Settings("http://odm", SECRET, SECRET + "-a", None, None, 0.5)
    server = OdmServer("http://odm", SECRET, SECRET + "-a", SECRET + "-u")
    for shown in (repr(settings), repr(server)):
        assert "http://odm" in shown and SECRET not in shown
