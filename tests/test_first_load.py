"""The screen (issue 19): a valid spec is checked without openapi-spec-validator, a doubtful one by it.

The screen may doubt a valid document, never pass a faulty one: each fault openapi-spec-validator
finds is doubted, and the error is still openapi-spec-validator's own words at the fault's place.
These count work (modules imported, meta-schemas compiled), never time.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import odm_dyn
from odm_dyn.errors import SpecError
from odm_dyn.spec import check, read, screen
from odm_dyn.spec.load import _bundle_or_cached
from odm_dyn.spec.source import DocumentSource

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
VENDOR = ROOT.parent / "shared" / "vendor" / "genestack-openapi-v1"
STACK = ("openapi_spec_validator", "openapi_schema_validator", "jsonschema", "jsonschema_path", "pydantic")

_VALID = [
    odm_dyn.TASKS_SPEC,
    ROOT / "spec" / "workflow.yaml",
    DATA / "split" / "api.yaml",
    DATA / "sibling" / "api.yaml",
]
VALID = [Path(p) for p in _VALID] + sorted(DATA.glob("*.yaml")) + sorted(VENDOR.glob("*.yaml"))


def _bundled(path: Path) -> dict[str, Any]:
    """A spec file bundled but not checked (what ``check_document`` is given)."""
    return _bundle_or_cached(str(path.resolve()), DocumentSource(None), False).document.data


def _version(data: dict[str, Any]) -> str:
    return str(data["openapi"])[:3]


def _first_fault(data: dict[str, Any]) -> str | None:
    """openapi-spec-validator's first fault in a document, as a line (``None``: valid)."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator = OpenAPIV30SpecValidator if _version(data) == "3.0" else OpenAPIV31SpecValidator
    error = next(iter(validator(data).iter_errors()), None)
    return None if error is None else str(error.message).strip().splitlines()[0]


@pytest.fixture
def fresh_meta_schemas() -> Iterator[None]:
    """Meta-schemas compiled anew in the test, and again after it (from the real files)."""
    screen.openapi_meta_validator.cache_clear()
    screen.dialect_validator.cache_clear()
    yield
    screen.openapi_meta_validator.cache_clear()
    screen.dialect_validator.cache_clear()


# --------------------------------------------------------------------------- valid specs


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_the_screen_vouches_for_every_valid_spec_the_tests_use(path: Path) -> None:
    data = _bundled(path)
    assert screen.certainly_valid(data, _version(data)), "a valid spec went to openapi-spec-validator"
    assert _first_fault(data) is None


def test_a_first_load_of_a_valid_spec_imports_no_validator_stack(tmp_path: Path) -> None:
    """A fresh process, an empty cache: the spec is read, bundled, checked, compiled and cached
    with jsonschema-rs alone (openapi-spec-validator's stack is most of a first load's time)."""
    specs = [str(VENDOR / "odmApi.yaml")] if (VENDOR / "odmApi.yaml").is_file() else [str(DATA / "features30.yaml")]
    code = (
        "import json, sys\nfrom odm_dyn.api import load_api\n"
        f"api = load_api({specs!r}); load_api({str(DATA / 'features31.yaml')!r})\n"
        "print(json.dumps([len(api.plans), sorted(sys.modules)]))"
    )
    env = {**os.environ, "ODM_DYN_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    operations, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert operations > 0 and list((tmp_path / "cache").glob("spec-*.json")), "loaded, compiled and cached"
    assert not {name for name in modules if name.split(".")[0] in STACK}


def test_the_meta_schemas_are_compiled_once_per_process(fresh_meta_schemas: None, monkeypatch) -> None:
    compiled: list[Any] = []
    real = screen._compiled
    monkeypatch.setattr(
        screen, "_compiled", lambda *a, **k: compiled.append(a[0].get("$id", a[0].get("id"))) or real(*a, **k)
    )
    for _ in range(3):
        for name in ("features30.yaml", "features31.yaml", "params.yaml"):
            data = _bundled(DATA / name)
            check.check_document(data, name, {})
    assert len(compiled) == len(set(compiled)) == 4, compiled  # the OpenAPI 3.0 and 3.1 meta-schemas, two dialects


def test_the_meta_schemas_are_the_ones_the_validators_use(fresh_meta_schemas: None) -> None:
    from openapi_schema_validator import OAS30Validator, OAS31Validator
    from openapi_spec_validator.schemas import schema_v30, schema_v31

    assert screen._package_json("openapi_spec_validator", "resources/schemas/v3.0/schema.json") == dict(schema_v30)
    assert screen._package_json("openapi_spec_validator", "resources/schemas/v3.1/schema.json") == dict(schema_v31)
    assert screen._package_json("jsonschema_specifications", "schemas/draft4/metaschema.json") == dict(
        OAS30Validator.META_SCHEMA
    )
    assert screen._package_json("openapi_schema_validator", "schemas/oas3.1/metaschema.json") == dict(
        OAS31Validator.META_SCHEMA
    )
    assert screen.dialect_validator("3.0") is not None and screen.dialect_validator("3.1") is not None


def test_without_the_meta_schema_files_openapi_spec_validator_decides_alone(
    fresh_meta_schemas: None, monkeypatch
) -> None:
    monkeypatch.setattr(screen, "_package_json", lambda package, relative: None)
    data = _bundled(DATA / "features31.yaml")
    assert not screen.certainly_valid(data, "3.1")
    check.check_document(data, "features31.yaml", {})  # valid: openapi-spec-validator says so
    faulty = _document("3.1", _DUPLICATE_TAG)
    with pytest.raises(SpecError, match="Duplicate tag name 'a'"):
        check.check_document(faulty, "api.yaml", {})


# --------------------------------------------------------------------------- faults and doubts

_BASE: dict[str, Any] = {
    "info": {"title": "screened", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": {
                "operationId": "getThing",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "the thing",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    }
                },
            }
        }
    },
    "components": {"schemas": {"Thing": {"type": "object", "properties": {"name": {"type": "string"}}}}},
}
Change = Callable[[dict[str, Any]], None]


def _document(version: str, change: Change) -> dict[str, Any]:
    data = {"openapi": f"{version}.3" if version == "3.0" else f"{version}.0", **copy.deepcopy(_BASE)}
    change(data)
    return data


def _get(data: dict[str, Any]) -> dict[str, Any]:
    return data["paths"]["/things/{id}"]["get"]


def _thing(data: dict[str, Any]) -> dict[str, Any]:
    return data["components"]["schemas"]["Thing"]


def _param_schema(data: dict[str, Any]) -> dict[str, Any]:
    return _get(data)["parameters"][0]["schema"]


def _DUPLICATE_TAG(d: dict[str, Any]) -> None:
    d["tags"] = [{"name": "a"}, {"name": "a"}]


def _second_operation(d: dict[str, Any]) -> None:
    d["paths"]["/other"] = {"get": {"operationId": "getThing", "responses": {"204": {"description": "none"}}}}


# Each: the rule openapi-spec-validator applies beyond the meta-schema, broken once.
FAULTS: list[tuple[str, str, Change, str]] = [
    ("duplicate tag", "3.1", _DUPLICATE_TAG, "Duplicate tag name 'a'"),
    (
        "duplicate parameter",
        "3.0",
        lambda d: _get(d)["parameters"].append({**_get(d)["parameters"][0], "description": "again"}),
        "Duplicate parameter 'id'",
    ),
    ("duplicate operationId", "3.1", _second_operation, "Operation ID 'getThing'"),
    ("template without its parameter", "3.1", lambda d: _get(d).pop("parameters"), "Path parameter 'id'"),
    (
        "a path parameter not in the template",
        "3.0",
        lambda d: _get(d)["parameters"].append({"name": "x", "in": "path", "required": True, "schema": {}}),
        "Path parameter 'x'",
    ),
    (
        "allOf requires what it does not define",
        "3.1",
        lambda d: _thing(d).update(allOf=[{"properties": {"a": {}}}], required=["b"]),
        "Required list has not defined properties",
    ),
    ("default not in the enum", "3.1", lambda d: _param_schema(d).update(enum=["a"], default="c"), "is not one of"),
    (
        "default beyond int32",
        "3.0",
        lambda d: _param_schema(d).update(type="integer", format="int32", default=2**31),
        "int32",
    ),
    *[
        (
            f"default not a {fmt} ({version})",
            version,
            lambda d, fmt=fmt, value=value: _param_schema(d).update(type="string", format=fmt, default=value),
            f"is not a '{fmt}'",
        )
        for version in ("3.0", "3.1")
        for fmt, value in (("date", "not-a-date"), ("date-time", "noon"), ("uuid", "x"), ("email", "nobody"))
    ],
    *[
        (
            f"default not an {fmt} ({version})",
            version,
            lambda d, fmt=fmt: _param_schema(d).update(type="string", format=fmt, default="999.1"),
            f"is not a '{fmt}'",
        )
        for version in ("3.0", "3.1")
        for fmt in ("ipv4", "ipv6")
    ],
    (
        "default null, not nullable (3.0)",
        "3.0",
        lambda d: _param_schema(d).update(default=None),
        "None for not nullable",
    ),
    (
        "default of a nested schema",
        "3.1",
        lambda d: _thing(d)["properties"].update(
            tags={"type": "array", "items": {"type": "integer"}, "default": ["x"]}
        ),
        "is not of type 'integer'",
    ),
    (
        "default under a $ref'd schema",
        "3.1",
        lambda d: d["components"]["schemas"].update(
            Name={"type": "string"}, Named={"allOf": [{"$ref": "#/components/schemas/Name"}], "default": 3}
        ),
        "is not of type 'string'",
    ),
    (
        "a schema of another dialect",
        "3.1",
        lambda d: _thing(d).update({"$schema": "https://example.invalid/dialect"}),
        "Unknown JSON Schema dialect",
    ),
    ("a pattern in 3.0", "3.0", lambda d: _thing(d).update(pattern="(["), "oneOf"),
    ("a pattern in 3.1", "3.1", lambda d: _param_schema(d).update(pattern="(["), "is not a 'regex'"),
    ("a schema that is not one (3.0)", "3.0", lambda d: _thing(d).update(minLength=-1), ""),
    ("a dialect fault (3.1)", "3.1", lambda d: _thing(d).update(type="strin"), "'strin'"),
]


def _unscreened(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str | None:
    """What ``check_document`` said before the screen: openapi-spec-validator's verdict alone."""
    with monkeypatch.context() as patch:
        patch.setattr(check, "certainly_valid", lambda data, version: False)
        try:
            check.check_document(data, "api.yaml", {})
        except SpecError as error:
            return str(error)
    return None


@pytest.mark.parametrize("name, version, change, words", FAULTS, ids=[f[0] for f in FAULTS])
def test_every_fault_is_doubted_and_reported_in_openapi_spec_validators_words(
    name: str, version: str, change: Change, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _document(version, change)
    expected = _first_fault(data)
    assert expected is not None and words in expected, f"the test's fault is not the one meant: {expected}"
    assert not screen.certainly_valid(data, version)
    with pytest.raises(SpecError) as caught:
        check.check_document(data, "api.yaml", {})
    assert f"invalid OpenAPI document: {expected}" in str(caught.value)
    assert str(caught.value) == _unscreened(data, monkeypatch), "the error is not what it was"


# Beyond what the screen models: openapi-spec-validator is asked, and lets them through as before.
DOUBTS: list[tuple[str, str, Change]] = [
    ("an $id", "3.1", lambda d: _thing(d).update({"$id": "https://example.invalid/thing"})),
    ("a default under a pattern", "3.1", lambda d: _param_schema(d).update(pattern="^a+$", default="aa")),
    ("a byte default", "3.0", lambda d: _param_schema(d).update(format="byte", default="YQ==")),
    # an ECMA pattern Python's re refuses: the dialect check (jsonschema-rs, as before) lets it by
    ("a pattern only ECMA reads", "3.1", lambda d: _param_schema(d).update(pattern="(?<n>x)")),
]


@pytest.mark.parametrize("name, version, change", DOUBTS, ids=[d[0] for d in DOUBTS])
def test_what_the_screen_cannot_vouch_for_is_checked_by_openapi_spec_validator(
    name: str, version: str, change: Change, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _document(version, change)
    assert not screen.certainly_valid(data, version)
    assert _unscreened(data, monkeypatch) is None
    check.check_document(data, "api.yaml", {})


def test_plain_documents_and_their_plain_defaults_are_vouched_for() -> None:
    def defaults(d: dict[str, Any]) -> None:
        _param_schema(d).update(type="integer", format="int32", minimum=0, default=7)
        _thing(d)["properties"]["size"] = {"type": "integer", "format": "int64", "default": 2**40}
        _thing(d)["properties"]["kind"] = {"type": "string", "enum": ["a", "b"], "default": "a"}
        _thing(d)["properties"]["note"] = {"type": "string", "nullable": True, "default": None}
        d["components"]["schemas"]["Alias"] = {"$ref": "#/components/schemas/Thing"}

    for version in ("3.0", "3.1"):
        data = _document(version, defaults)
        assert _first_fault(data) is None
        assert screen.certainly_valid(data, version)


# --------------------------------------------------------------------------- parsing YAML in one pass

YAML_FILES = [p for p in VALID if p.suffix == ".yaml"] + sorted((VENDOR / "schemas").glob("*.yaml"))


def _general(monkeypatch: pytest.MonkeyPatch, text: bytes, name: str) -> Any:
    """What the checked, general path (PyYAML's construction) makes of a text."""

    def never(*args: Any) -> Any:
        raise read._NotPlain

    with monkeypatch.context() as patch:
        patch.setattr(read, "_build_plain", never)
        return read.parse_text(text, name)


def _general_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = read._check_nodes
    monkeypatch.setattr(read, "_check_nodes", lambda node, file: calls.append(file) or real(node, file))
    return calls


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_a_plain_yaml_file_is_built_in_one_pass_as_the_general_path_builds_it(path: Path, monkeypatch) -> None:
    text = path.read_bytes()
    expected = _general(monkeypatch, text, path.name)
    general = _general_checks(monkeypatch)
    assert read.parse_text(text, path.name) == expected
    assert general == [], "a plain file took the general path"


PLAIN_ENOUGH = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
NOT_PLAIN = {
    "an alias": PLAIN_ENOUGH + "x-a: &a {k: [1, 2]}\nx-b: *a\n",
    "a merge key": PLAIN_ENOUGH + "x-a: &a {k: 1}\nx-b: {<<: *a, j: 2}\n",
    "a binary": PLAIN_ENOUGH + "x-b: !!binary aGVsbG8=\n",
    "a set": PLAIN_ENOUGH + "x-s: !!set {a, b}\n",
    "keys one string apart": PLAIN_ENOUGH + "x-k: {1: a, 01: b}\n",
    "a list key": PLAIN_ENOUGH + "x-k: {[1]: a}\n",
}


@pytest.mark.parametrize("name", NOT_PLAIN)
def test_yaml_beyond_plain_is_checked_and_built_as_before(name: str, monkeypatch) -> None:
    text = NOT_PLAIN[name].encode()
    try:
        expected: Any = _general(monkeypatch, text, "api.yaml")
    except SpecError as error:
        expected = str(error)
    general = _general_checks(monkeypatch)
    try:
        got: Any = read.parse_text(text, "api.yaml")
    except SpecError as error:
        got = str(error)
    assert got == expected and general == ["api.yaml"]


@pytest.mark.parametrize(
    "text, words",
    [
        (PLAIN_ENOUGH + "x-a: 1\nx-a: 2\n", "duplicate key 'x-a' (line 5)"),
        (PLAIN_ENOUGH + "x-d: " + "[" * 501 + "]" * 501 + "\n", "nested more than 500 levels deep"),
        (PLAIN_ENOUGH + "x-l: [" + ", ".join(["1"] * 100_050) + "]\n", "more than the 100,"),
    ],
    ids=["duplicate key", "too deep", "over the node budget"],
)
def test_faults_a_plain_yaml_text_may_hold_are_reported_as_before(text: str, words: str, monkeypatch) -> None:
    with pytest.raises(SpecError) as expected:
        _general(monkeypatch, text.encode(), "api.yaml")
    with pytest.raises(SpecError) as got:
        read.parse_text(text.encode(), "api.yaml")
    assert str(got.value) == str(expected.value) and words in str(got.value)
