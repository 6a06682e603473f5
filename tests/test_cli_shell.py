"""The command line at the scale of a large API: help that documents, errors in the shell's
words, finding an operation, output formats and completion, all through the real ``odm-dyn``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import odm_dyn
from odm_dyn.server import EmbeddedServer
from tests.scripted import ScriptedServer
from tests.test_cli import COMMAND, CURATOR, odm

DOCS = str(Path(__file__).parent / "data" / "cli_docs.yaml")


@pytest.fixture(scope="module")
def docs_server():
    """A server that serves the bundled spec and the docs spec, with a curator token."""
    with EmbeddedServer(spec=[odm_dyn.TASKS_SPEC, DOCS], tokens=[CURATOR]) as running:
        yield running


@pytest.fixture(scope="module")
def tasks_server():
    """A server of the bundled spec only: the docs spec's operations are not served there."""
    with EmbeddedServer(tokens=[CURATOR]) as running:
        yield running


def docs(*args: str) -> subprocess.CompletedProcess:
    return odm("--spec", f"+{DOCS}", *args)


# --------------------------------------------------------------------------- help that documents


def test_help_lists_the_body_schema_and_its_fields_one_level_deep():
    out = docs("samples-api", "search-samples", "--help").stdout
    assert "request body: SampleQuery (application/json, required)" in out
    assert "filter                   string, required  Metadata filter, as the search page writes it." in out
    assert "kinds                    array of string, allowed: tissue, blood, cell_line" in out
    assert "    limit                    integer  Samples per page." in out  # Page's field, nested


def test_body_example_is_a_body_the_request_check_accepts(docs_server):
    example = docs("samples-api", "search-samples", "--body-example")
    assert example.returncode == 0
    body = json.loads(example.stdout)
    assert isinstance(body["filter"], str) and body["kinds"][0] in ("tissue", "blood", "cell_line")
    sent = docs(
        "--host", docs_server.url, "--token", CURATOR, "samples-api", "search-samples", "--body", example.stdout
    )
    assert sent.returncode == 0, sent.stderr


def test_enum_values_read_as_allowed_values_not_as_a_location():
    out = docs("samples-api", "search-samples", "--help").stdout
    assert "allowed:" in out and "term_id | label" in out
    assert "one of" not in out


def test_boolean_flags_take_no_prefix_or_true_false(docs_server):
    base = ("--host", docs_server.url, "--token", CURATOR, "samples-api", "search-samples", "--body", '{"filter":"a"}')
    out = docs("samples-api", "search-samples", "--help").stdout
    assert "--search-specific-terms, --no-search-specific-terms" in out and "true|false" in out
    for form in (
        ["--search-specific-terms", "true"],
        ["--search-specific-terms=false"],
        ["--no-search-specific-terms"],
    ):
        result = docs(*base, *form)
        assert result.returncode == 0, (form, result.stderr)
    wrong = docs(*base, "--search-specific-terms", "maybe")
    assert wrong.returncode == 2 and "unrecognized arguments: maybe" in wrong.stderr


def test_a_required_body_left_out_is_a_usage_error_pointing_at_the_example():
    result = docs("--host", "http://127.0.0.1:9", "samples-api", "search-samples")
    assert result.returncode == 2
    assert "needs --body" in result.stderr and "--body-example" in result.stderr


# --------------------------------------------------------------------------- errors in the shell's words


def test_a_mistyped_flag_gets_a_did_you_mean():
    result = odm("tasks-api", "publish-all-studies", "--version-mesage", "x")
    assert result.returncode == 2
    assert "unrecognized arguments: --version-mesage x; did you mean --version-message?" in result.stderr


def test_the_wire_name_is_an_alias_of_the_flag(tasks_server):
    result = odm(
        "--host",
        tasks_server.url,
        "--token",
        CURATOR,
        "tasks-api",
        "publish-all-studies",
        "--versionMessage",
        "from the wire name",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "from the wire name"


def test_negative_retries_is_a_usage_error_not_the_spec():
    for where in (
        ["--retries", "-1", "tasks-api", "get-task-info", "X"],
        ["tasks-api", "get-task-info", "X", "--retries=-1"],
    ):
        result = odm(*where)
        assert result.returncode == 2
        assert "--retries: must be 0 or more: '-1'" in result.stderr and "refused by the spec" not in result.stderr


def test_a_host_without_scheme_that_fails_tls_suggests_http(tasks_server):
    bare = tasks_server.url.removeprefix("http://")
    result = odm("--host", bare, "--retries", "0", "--token", CURATOR, "tasks-api", "get-task-info", "X")
    assert result.returncode == 3
    assert f"did you mean http://{bare}?" in result.stderr


def test_an_off_spec_answer_advises_no_validate_not_python():
    with ScriptedServer() as scripted:
        scripted.answer(200, b'{"id": 5, "status": "DONE"}')
        result = odm("--host", scripted.url, "tasks-api", "get-task-info", "OFFSPEC")
    assert result.returncode == 6
    assert "--no-validate" in result.stderr and "validate_responses" not in result.stderr


def test_a_401_says_whether_a_token_was_sent_and_where(tasks_server):
    none = odm("--host", tasks_server.url, "tasks-api", "get-task-info", "X")
    wrong = odm("--host", tasks_server.url, "--token", "not-a-token", "tasks-api", "get-task-info", "X")
    bearer = odm("--host", tasks_server.url, "--access-token", "not-a-token", "tasks-api", "get-task-info", "X")
    assert none.returncode == wrong.returncode == bearer.returncode == 1
    assert "no token was sent" in none.stderr and "--token T" in none.stderr
    assert "the token sent in the Genestack-API-Token header" in wrong.stderr
    assert "the token sent in the Authorization header" in bearer.stderr
    for result in (none, wrong, bearer):
        assert len(result.stderr) < 300 and result.stderr.count("\n") == 1, result.stderr
        assert "Client(" not in result.stderr


def test_a_404_from_a_path_the_server_does_not_serve_says_so(tasks_server):
    result = docs("--host", tasks_server.url, "--token", CURATOR, "samples-api", "count-samples")
    assert result.returncode == 1
    assert "the server does not serve GET /api/v1/samples/count" in result.stderr
    missing = odm("--host", tasks_server.url, "--token", CURATOR, "tasks-api", "get-task-info", "GSF999999")
    assert missing.returncode == 1 and "no task with accession" in missing.stderr
    assert "the server does not serve GET" not in missing.stderr  # a lookup by id: no such object


# --------------------------------------------------------------------------- finding your way


def test_ops_lines_fit_100_columns_grouped_by_tag():
    out = docs("ops").stdout.splitlines()
    assert "Samples API (2): odm-dyn samples-api OPERATION" in out
    assert "  POST   search-samples  Find samples matching a filter." in out
    assert max(len(line) for line in out) <= 100


def test_ops_filters_by_tag_and_by_text():
    by_tag = docs("ops", "--tag", "samples-api").stdout
    assert "search-samples" in by_tag and "get-task-info" not in by_tag
    by_text = docs("ops", "count").stdout
    assert "count-samples" in by_text and "search-samples" not in by_text
    unknown = docs("ops", "--tag", "Sample API")
    assert unknown.returncode == 2 and "did you mean Samples API?" in unknown.stderr


def test_ops_json_carries_the_tags():
    records = json.loads(docs("ops", "--json", "--tag", "Samples API").stdout)
    assert {r["operationId"] for r in records} == {"searchSamples", "countSamples"}
    assert all(r["tags"] == ["Samples API"] for r in records)


def test_bash_completion_completes_commands_operations_and_flags(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = tmp_path / "odm-dyn.bash"
    script.write_text(odm("completion", "bash").stdout)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "odm-dyn").write_text(f'#!/bin/sh\nexec {" ".join(COMMAND)} "$@"\n')
    (shim / "odm-dyn").chmod(0o755)

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in ("odm-dyn", *words))
        show = "printf '%s\\n' \"${COMPREPLY[@]}\""
        run = f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words)}; _odm_dyn; {show}"
        env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}
        done = subprocess.run(["bash", "-c", run], capture_output=True, text=True, env=env, timeout=60)
        return done.stdout.split()

    assert complete("tas") == ["tasks-api"]
    assert complete("tasks-api", "pub") == ["publish-all-studies"]
    assert complete("tasks-api", "publish-all-studies", "--vers") == ["--version-message"]


def test_zsh_completion_script_is_valid_zsh():
    script = odm("completion", "zsh").stdout
    assert script.startswith("#compdef odm-dyn") and "odm-dyn __complete" in script
    if shutil.which("zsh"):
        assert subprocess.run(["zsh", "-n"], input=script, text=True, timeout=30).returncode == 0


# --------------------------------------------------------------------------- output


def test_output_formats(docs_server):
    base = ("--host", docs_server.url, "--token", CURATOR, "samples-api", "search-samples", "--body", '{"filter":"a"}')
    as_json = json.loads(docs(*base).stdout)
    assert as_json and as_json[0]["accession"] == "GSF000101"
    table = docs(*base, "--output", "table").stdout.splitlines()
    assert table[0].split() == ["accession", "name"] and table[1].startswith("GSF000101")
    tsv = docs(*base, "--output", "tsv").stdout.splitlines()
    assert tsv[0] == "accession\tname" and tsv[1] == "GSF000101\tliver biopsy"
    ndjson = docs(*base, "--output=ndjson").stdout.splitlines()
    assert [json.loads(line) for line in ndjson] == as_json
    yaml_text = docs("--output", "yaml", *base).stdout
    assert yaml_text.startswith("- accession: GSF000101")


def test_a_table_fits_the_terminal(docs_server):
    base = ("--host", docs_server.url, "--token", CURATOR, "samples-api", "search-samples", "--body", '{"filter":"a"}')
    result = subprocess.run(
        [*COMMAND, "--spec", f"+{DOCS}", *base, "--output", "table"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "14"},
    )
    assert all(len(line) <= 14 for line in result.stdout.splitlines()), result.stdout
    assert "…" in result.stdout or "more column" in result.stdout


def test_an_unknown_output_format_is_a_usage_error():
    result = odm("--output", "xml", "ops")
    assert result.returncode == 2 and "invalid choice: 'xml'" in result.stderr


def test_describe_shows_the_body_fields():
    out = docs("describe", "searchSamples").stdout
    assert "request body: SampleQuery (application/json, required)" in out and "    limit " in out


def test_top_level_help_of_a_large_spec_lists_tags_not_every_operation():
    root = Path(__file__).resolve().parents[1]
    found = [up / "shared/vendor/genestack-openapi-v1/odmApi.yaml" for up in (root.parent, root.parent.parent)]
    vendor = next((path for path in found if path.exists()), None)
    if vendor is None:
        pytest.skip("the vendor's spec is not in this checkout")
    out = odm("--spec", str(vendor), "--help").stdout
    assert "tags of the loaded spec (244 operations" in out
    assert "  tasks-api                                  2  Tasks API" in out
    assert len(out.splitlines()) < 120
