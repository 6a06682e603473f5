"""The contract report at the scale of the vendor's spec, and the plugin against a real server:
run through pytester, read from the terminal, the JSON and the HTML page."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from odm_dyn.server import EmbeddedServer
from tests.test_plugin import EXAMPLE_SUITE, SECRET, no_odm_environment, report_of, warm_imports

pytest_plugins = ["pytester"]
__all__ = ["no_odm_environment", "warm_imports"]  # the fixtures of test_plugin, used here too

ROOT = Path(__file__).resolve().parents[1]
VENDOR_CANDIDATES = [
    up / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml" for up in (ROOT.parent, ROOT.parent.parent)
]
VENDOR = next((path for path in VENDOR_CANDIDATES if path.exists()), None)
USER_SECRET = "user-token-3a9c"
# `make report-screenshot` sets this to docs/contract-report.png, the picture the README shows
SCREENSHOT = os.environ.get("ODM_DYN_SCREENSHOT")


@pytest.fixture
def real_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(task_seconds=0.3, tokens=[SECRET], user_tokens=[USER_SECRET]) as server:
        yield server


def section(stdout: str) -> list[str]:
    """The lines of the contract report section of a pytest run's terminal output."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "odm_dyn contract report" in line)
    ends = (i for i in range(start + 1, len(lines)) if re.match(r"=|\d+ (passed|failed|skipped)", lines[i]))
    end = next(ends, len(lines))
    return lines[start + 1 : end]


def headline_numbers(page: str) -> dict[str, str]:
    return dict(re.findall(r'id="headline-(\w+)" data-value="([^"]*)"', page))


@pytest.fixture(scope="module")
def vendor_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example suite with the vendor's spec, on the embedded server: one run for the module."""
    if VENDOR is None:
        pytest.skip("the vendor's spec is not in this checkout")
    folder = tmp_path_factory.mktemp("vendor-report")
    (folder / "test_tasks_contract.py").write_text(EXAMPLE_SUITE.read_text(encoding="utf-8"), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ODM_", "PRED_SPOT_"))}
    # Linked, not copied, and named relatively: the report (and its picture) shows no local path.
    (folder / "genestack-openapi-v1").symlink_to(VENDOR.parent, target_is_directory=True)
    spec = "genestack-openapi-v1/odmApi.yaml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--odm-spec", spec]
    done = subprocess.run(
        [*command, "--odm-report", "report"], cwd=folder, capture_output=True, text=True, timeout=300, env=environment
    )
    return {"stdout": done.stdout, "json": report_of(folder / "report.json"), "html": folder / "report.html"}


def test_vendor_report_terminal_summary_stays_short(vendor_run: dict) -> None:
    lines = section(vendor_run["stdout"])
    assert len(lines) <= 40, "\n".join(lines)
    assert max(len(line) for line in lines) <= 200
    summary = vendor_run["json"]["summary"]
    assert summary["declared_operations"] == 244
    assert f"operations exercised: {summary['exercised_operations']} of 244" in lines[1]
    assert lines[-1].startswith("full report: report.html")
    print("\n".join(lines))  # shown with -s: what a user of the vendor's spec reads


def test_vendor_report_html_headline_matches_the_json(vendor_run: dict) -> None:
    report, page = vendor_run["json"], vendor_run["html"].read_text(encoding="utf-8")
    summary, tests = report["summary"], report["tests"]
    numbers = headline_numbers(page)
    assert numbers["operations"] == f"{summary['exercised_operations']} / 244"
    assert numbers["statuses"] == f"{summary['exercised_statuses']} / {summary['declared_statuses']}"
    assert numbers["tests"] == f"{tests['passed']} / {tests['failed']} / {tests['skipped']}"
    assert numbers["violations"] == "0"
    assert report["generated_at"] in page
    # exercised tags first and open; the tags never exercised folded together at the end
    first_tag = page.index("<details class=tag open>")
    assert first_tag < page.index("tags never exercised") and "Tasks API" in page[first_tag : first_tag + 200]


def test_html_violation_bodies_are_formatted_json(pytester: pytest.Pytester) -> None:
    from tests.scripted import ScriptedServer
    from tests.test_plugin import off_spec_answers

    pytester.makepyfile(test_suite="def test_reads(odm_client):\n    odm_client.get_task_info('T1')\n")
    with ScriptedServer() as scripted:
        scripted.handler = off_spec_answers
        result = pytester.runpytest("--odm-url", scripted.url, "--odm-token", SECRET, "--odm-report", "report")
    result.assert_outcomes(failed=1)
    page = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert "&quot;status&quot;: &quot;SLEEPING&quot;" in page  # the body as JSON, indented, not one escaped string
    assert headline_numbers(page)["tests"] == "0 / 1 / 0" and headline_numbers(page)["violations"] == "1"


def test_user_token_runs_the_permission_test_on_a_real_server(
    pytester: pytest.Pytester, real_server: EmbeddedServer
) -> None:
    pytester.makepyfile(test_tasks_contract=EXAMPLE_SUITE.read_text(encoding="utf-8"))
    result = pytester.runpytest("--odm-url", real_server.url, "--odm-token", SECRET, "--odm-user-token", USER_SECRET)
    result.assert_outcomes(passed=5, skipped=7)  # the 403 test runs now; only the Prefer ones skip
    assert USER_SECRET not in result.stdout.str()


def test_user_token_from_the_environment(
    pytester: pytest.Pytester, real_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_tasks_contract=EXAMPLE_SUITE.read_text(encoding="utf-8"))
    monkeypatch.setenv("ODM_USER_TOKEN", USER_SECRET)
    pytester.runpytest("--odm-url", real_server.url, "--odm-token", SECRET).assert_outcomes(passed=5, skipped=7)


def test_a_server_that_is_down_stops_the_session_with_one_message(pytester: pytest.Pytester) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    pytester.makepyfile(test_tasks_contract=EXAMPLE_SUITE.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess("--odm-url", f"http://127.0.0.1:{port}", "--odm-token", SECRET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert f"odm_dyn: the server http://127.0.0.1:{port} (--odm-url / ODM_URL) cannot be reached" in text
    assert "Traceback" not in text and text.count("cannot be reached") == 1
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()


def test_a_refused_token_stops_the_session_with_one_message(
    pytester: pytest.Pytester, real_server: EmbeddedServer
) -> None:
    pytester.makepyfile(test_tasks_contract=EXAMPLE_SUITE.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess("--odm-url", real_server.url, "--odm-token", "expired-token")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert "refused the token given by --odm-token / ODM_TOKEN" in text and "Traceback" not in text


# --------------------------------------------------------------------------- the screenshot


def chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)


def test_screenshot_of_the_vendor_report(vendor_run: dict, tmp_path: Path) -> None:
    """Headless Chromium renders the HTML page of the vendor's spec (skipped without chromium)."""
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    shot = tmp_path / "report.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ]
    subprocess.run(
        [
            browser,
            *flags,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1100,500",
            vendor_run["html"].as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(shot.read_bytes()[16:20], "big"), int.from_bytes(shot.read_bytes()[20:24], "big")
    assert (width, height) == (1100, 500)
    numbers = headline_numbers(vendor_run["html"].read_text(encoding="utf-8"))
    assert numbers["operations"].endswith("/ 244")  # the page in the picture has the vendor's headline
    if SCREENSHOT:
        shutil.copyfile(shot, SCREENSHOT)


def test_terminal_summary_stays_under_40_lines_however_much_happened() -> None:
    from odm_dyn.testing.report import terminal_lines

    row = {"declared": True, "exchanges": 1, "violations": 1}
    operations = [
        {
            "operation_id": f"op{i}",
            "method": "GET",
            "path": f"/p/{i}",
            "tag": f"T{i % 7}",
            "exercised": i < 100,
            "statuses": {"200": row, "404": {"declared": True, "exchanges": 0, "violations": 0}},
        }
        for i in range(300)
    ]
    violation = {
        "test": "t.py::test",
        "operation": "op1",
        "status": 200,
        "path": "$.x",
        "message": "x" * 500,
        "exchange": {"request": {"method": "GET", "url": "http://h/p/1"}},
    }
    report = {
        "summary": {
            "exchanges": 900,
            "violations": 120,
            "declared_operations": 300,
            "exercised_operations": 100,
            "declared_statuses": 600,
            "exercised_statuses": 100,
        },
        "tests": {"passed": 1, "failed": 99, "skipped": 0},
        "operations": operations,
        "never_exercised": [f"op{i} 404" for i in range(300)],
        "violations": [violation] * 120,
    }
    lines = terminal_lines(report, ["r.html", "r.json"])
    assert len(lines) <= 40 and max(len(line) for line in lines) <= 200
    assert "  ... and 85 more exercised operations" in lines and "  ... and 112 more" in lines
    assert lines[-1] == "full report: r.html (JSON: r.json)"
