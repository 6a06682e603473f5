"""Hostile specs (issue 12, items 2, 3 and 10): each is a clear ``SpecError``, quickly.

A spec is input like any other: its ``$ref``s must not read files outside its folder (nor, for
a URL spec, another origin), its YAML must not expand without bound, its references must not
loop, its keys must not silently shadow one another, and a stub written from it must be Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from odm_dyn.errors import SpecError
from odm_dyn.spec import load_document, parse_text
from tests.test_cli import odm

SECRET = "TOPSECRET-41c7"

_DOC = """openapi: 3.0.3
info: {title: hostile, version: "1"}
paths:
  /x:
    get:
      operationId: getX
      description: reads one x
      responses:
        "200":
          description: the x
          content:
            application/json:
              schema: {$ref: '%s'}
"""


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ODM_DYN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A spec folder ``spec/`` with a secret file beside it (outside it)."""
    (tmp_path / "secret.yaml").write_text(f"type: string\nexample: {SECRET}\ndescription: {SECRET}\n")
    (tmp_path / "spec").mkdir()
    return tmp_path / "spec"


def _spec(folder: Path, ref: str, name: str = "api.yaml") -> Path:
    path = folder / name
    path.write_text(_DOC % ref)
    return path


# --------------------------------------------------------------------------- item 2: $ref stays inside


@pytest.mark.parametrize("ref", ["../secret.yaml", "../../secret.yaml", "/etc/passwd", "SECRET_ABS"])
def test_a_ref_out_of_the_spec_folder_is_refused_naming_file_and_pointer(outside, ref):
    ref = str(outside.parent / "secret.yaml") if ref == "SECRET_ABS" else ref
    spec = _spec(outside, ref)
    with pytest.raises(SpecError, match="leads out of the spec's folder") as caught:
        load_document(spec)
    assert caught.value.file == str(spec)
    assert caught.value.pointer == "/paths/~1x/get/responses/200/content/application~1json/schema/$ref"
    assert SECRET not in str(caught.value)


def test_a_symlink_leading_out_is_refused(outside):
    (outside / "link.yaml").symlink_to(outside.parent / "secret.yaml")
    with pytest.raises(SpecError, match="leads out of the spec's folder"):
        load_document(_spec(outside, "link.yaml"))


def test_a_ref_inside_the_folder_and_its_subfolders_still_loads(outside):
    (outside / "schemas").mkdir()
    (outside / "schemas" / "x.yaml").write_text("type: object\nproperties: {id: {$ref: '../id.yaml'}}\n")
    (outside / "id.yaml").write_text("type: string\n")
    document = load_document(_spec(outside, "schemas/x.yaml"))
    schema = document.data["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["id"] == {"type": "string"}


def test_a_component_ref_out_of_the_folder_is_refused(outside):
    spec = outside / "api.yaml"
    spec.write_text((_DOC % "#/components/schemas/X") + "components:\n  schemas:\n    X: {$ref: '../secret.yaml'}\n")
    with pytest.raises(SpecError, match="leads out") as caught:
        load_document(spec)
    assert caught.value.pointer == "/components/schemas/X/$ref"


def test_serve_and_describe_refuse_a_spec_whose_ref_leads_out(outside):
    """End to end: neither the embedded server nor ``describe`` shows the file (exit 2, no secret)."""
    spec = _spec(outside, "../secret.yaml")
    described = odm("--spec", str(spec), "describe", "getX")
    assert described.returncode == 2 and "leads out of the spec's folder" in described.stderr
    served = odm("serve", "--port", "0", "--spec", str(spec))
    assert served.returncode == 2 and "leads out of the spec's folder" in served.stderr
    for result in (described, served):
        assert SECRET not in result.stdout + result.stderr


def test_the_embedded_server_refuses_it_in_process(outside):
    from odm_dyn.server import EmbeddedServer

    with pytest.raises(SpecError, match="leads out"):
        EmbeddedServer(spec=_spec(outside, "../secret.yaml")).start()


# The URL half (a $ref or a redirect to another origin is refused, and nothing is fetched
# there) is tests/test_live_spec.py::test_a_ref_to_another_origin_is_refused_and_nothing_is_fetched_there;
# a file spec's $ref naming a URL is refused here:


def test_a_file_specs_ref_to_a_url_is_refused(outside):
    with pytest.raises(SpecError, match="names a URL"):
        load_document(_spec(outside, "http://127.0.0.1:9/secret.yaml"))


# --------------------------------------------------------------------------- item 3: specs that exhaust the loader

_BOMB = (
    'openapi: 3.0.3\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]\n" for previous, name in zip("abcdefgh", "bcdefghi"))
).encode()


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    assert len(_BOMB) < 500
    spec = tmp_path / "bomb.yaml"
    spec.write_bytes(_BOMB)
    with pytest.raises(SpecError, match="alias bomb"):
        load_document(spec)
    assert not list(tmp_path.glob("cache/spec-*.json"))  # nothing expanded was cached


def test_aliases_within_the_budget_still_load():
    text = b"base: &b {type: string, maxLength: 9}\nuse: [*b, *b, *b]\nmerged: {<<: *b, maxLength: 3}\n"
    data = parse_text(text, "ok.yaml")
    assert data["use"] == [{"type": "string", "maxLength": 9}] * 3
    assert data["merged"] == {"type": "string", "maxLength": 3}


@pytest.mark.parametrize("section", ["schemas", "parameters", "responses"])
def test_a_bare_ref_cycle_is_a_spec_error_not_recursion(tmp_path, section):
    use = {
        "schemas": "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n              schema: {$ref: '#/components/schemas/A'}\n",
        "parameters": "      parameters: [{$ref: '#/components/parameters/A'}]\n"
        "      responses: {'200': {description: ok}}\n",
        "responses": "      responses: {'200': {$ref: '#/components/responses/A'}}\n",
    }[section]
    spec = tmp_path / "cycle.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n"
        + use
        + f"components:\n  {section}:\n    A: {{$ref: '#/components/{section}/B'}}\n"
        f"    B: {{$ref: '#/components/{section}/A'}}\n"
    )
    with pytest.raises(SpecError, match=f"cycle with no content: /components/{section}/A → "):
        load_document(spec)


def test_a_schema_that_refers_to_itself_is_a_spec_error(tmp_path):
    spec = tmp_path / "self.yaml"
    spec.write_text(
        (_DOC % "#/components/schemas/A") + "components:\n  schemas:\n    A: {$ref: '#/components/schemas/A'}\n"
    )
    with pytest.raises(SpecError, match="cycle"):
        load_document(spec)


def _nested(depth: int) -> dict:
    schema: dict = {"type": "string"}
    for level in range(depth):  # properties, items and allOf in turn: every way a schema nests
        schema = [
            {"type": "object", "properties": {"n": schema}},
            {"type": "array", "items": schema},
            {"allOf": [schema]},
        ][level % 3]
    return schema


def test_a_valid_schema_nested_65_deep_loads_and_calls(tmp_path):
    from odm_dyn.api.plans import Api

    spec = tmp_path / "deep.json"
    document = json.loads(json.dumps(parse_text((_DOC % "#/components/schemas/Deep").encode(), "d.yaml")))
    document["components"] = {"schemas": {"Deep": _nested(65)}}
    spec.write_text(json.dumps(document))
    api = Api([load_document(spec)])
    assert "getX" in api.plans


def test_a_schema_nested_past_any_limit_is_a_spec_error(tmp_path):
    spec = tmp_path / "deeper.json"
    spec.write_text('{"openapi": "3.0.3", "x": ' + "[" * 3000 + "]" * 3000 + "}")
    with pytest.raises(SpecError, match="nested more than"):
        load_document(spec)


@pytest.mark.parametrize(
    "name, text, line",
    [
        ("dup.yaml", "openapi: 3.0.3\npaths:\n  /a: {}\n  /b: {}\n  /a: {get: {}}\n", 5),
        ("dup.json", '{"openapi": "3.0.3",\n "paths": {\n  "/a": {},\n  "/a": {"get": {}}}}', 4),
        ("num.yaml", "responses:\n  200: {description: a}\n  '200': {description: b}\n", 3),
    ],
)
def test_a_duplicate_key_is_a_spec_error_naming_key_and_line(name, text, line):
    with pytest.raises(SpecError, match=rf"duplicate key '(/a|200)' \(line {line}\)") as caught:
        parse_text(text.encode(), name)
    assert caught.value.file == name


def test_the_same_key_in_different_mappings_is_fine():
    assert parse_text(b'{"a": {"id": 1}, "b": {"id": 2}}', "ok.json") == {"a": {"id": 1}, "b": {"id": 2}}


# --------------------------------------------------------------------------- item 10: stubs are Python


def test_stubs_of_a_spec_whose_texts_end_in_quotes_and_backslashes_compile(tmp_path):
    spec = tmp_path / "quotes.yaml"
    spec.write_text(
        (_DOC % "#/components/schemas/Q").replace("reads one x", "'ends in a quote\"'")
        + 'components:\n  schemas:\n    Q:\n      type: object\n      description: \'three """\'\n'
        "      properties:\n        a: {type: string, description: 'back\\'}\n"
    )
    out = tmp_path / "client.pyi"
    result = odm("--spec", str(spec), "stubs", str(out))
    assert result.returncode == 0, result.stderr
    compile(out.read_text(), str(out), "exec")


def test_a_stub_that_would_not_compile_is_not_written_and_exits_non_zero(tmp_path):
    """The renderer is made to emit a broken stub; the command refuses to write it."""
    out = tmp_path / "client.pyi"
    script = (
        "import sys, odm_dyn.cli.stubs as stubs\n"
        "real = stubs.render_stub\n"
        "stubs.render_stub = lambda *a, **k: real(*a, **k) + '\\ndef broken(:\\n'\n"
        "from odm_dyn.cli.main import main\n"
        f"sys.exit(main(['stubs', {str(out)!r}]))\n"
    )
    env = {**os.environ, "ODM_DYN_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2, done.stderr
    assert "not valid Python" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


# --------------------------------------------------------------------------- item 3: a large spec loads in linear work

# The 20,000-operation figure (time and peak memory) is bench/large_spec.py's; these count work.


def _generated(tmp_path: Path, count: int) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from bench import specgen
    finally:
        sys.path.pop(0)
    return specgen.generate(count, tmp_path / f"generated-{count}.json")


def _check_work(monkeypatch, spec: Path) -> tuple[int, int]:
    """(Python dialect checks, node reads through openapi-spec-validator's paths) of one load."""
    from openapi_schema_validator import OAS31Validator
    from pathable.paths import AccessorPath

    counts = {"meta": 0, "reads": 0}
    check_schema, read_value = OAS31Validator.check_schema.__func__, AccessorPath.read_value

    def counted_check(cls, *args, **kwargs):
        counts["meta"] += 1
        return check_schema(cls, *args, **kwargs)

    def counted_read(self):
        counts["reads"] += 1
        return read_value(self)

    with monkeypatch.context() as patch:
        patch.setattr(OAS31Validator, "check_schema", classmethod(counted_check))
        patch.setattr(AccessorPath, "read_value", counted_read)
        load_document(spec, use_cache=False)
    return counts["meta"], counts["reads"]


def test_checking_a_spec_ten_times_larger_costs_at_most_ten_times_the_work(tmp_path, monkeypatch):
    """When the screen doubts a spec (issue 19), openapi-spec-validator checks it: still linear."""
    from odm_dyn.spec import check

    monkeypatch.setattr(check, "certainly_valid", lambda data, version: False)
    small_meta, small_reads = _check_work(monkeypatch, _generated(tmp_path, 200))
    large_meta, large_reads = _check_work(monkeypatch, _generated(tmp_path, 2000))
    # every schema's dialect check is jsonschema-rs's (the slow Python one only for a fault)
    assert small_meta == large_meta == 0
    assert 0 < large_reads <= 10.5 * small_reads
    assert large_reads <= 20 * 2000  # a few reads an operation: its parameters are read as plain values


def test_screening_a_spec_ten_times_larger_costs_at_most_ten_times_the_work(tmp_path, monkeypatch):
    from odm_dyn.spec import screen

    def work(spec: Path) -> dict[str, int]:
        counts = {"resolve": 0, "meta_check": 0}
        with monkeypatch.context() as patch:
            for name in counts:
                real = getattr(screen._Screen, name)
                patch.setattr(screen._Screen, name, _counting(real, counts, name))
            load_document(spec, use_cache=False)
        return counts

    small, large = work(_generated(tmp_path, 200)), work(_generated(tmp_path, 2000))
    assert all(0 < large[name] <= 10.5 * small[name] for name in small), (small, large)


def _counting(real, counts, name):
    def counted(*args, **kwargs):
        counts[name] += 1
        return real(*args, **kwargs)

    return counted


def test_a_large_load_runs_no_full_garbage_collection(tmp_path):
    import gc

    spec = _generated(tmp_path, 2000)
    full = []

    def note(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    gc.callbacks.append(note)
    try:
        from odm_dyn.api.load import load_api

        load_api(spec)
    finally:
        gc.callbacks.remove(note)
    assert full == []
    assert gc.isenabled()
