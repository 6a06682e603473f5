"""odm_dyn.fastcheck gives exactly jsonschema's yes/no answer, on every schema we can find."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Iterator

import pytest

import odm_dyn
from odm_dyn.api.fastcheck import STATIC_DIALECTS, compile_schema, dialect_of
from odm_dyn.api.load import load_api
from odm_dyn.api.schemas import REQUEST, RESPONSE, SchemaCompiler, _dialect

DATA = Path(__file__).parent / "data"
VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml"

SCALARS: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, 2**63, -(2**63) - 1, 3.5e38, 1e309]
SCALARS += ["", "a", "GSF000123", "DONE", "2024-01-31", "2024-01-31T10:00:00Z", "not a date", "x" * 300]
SCALARS += ["a@b.org", "127.0.0.1", "::1", "4f1c9a5e-3b1e-4e5b-9a4a-5d1e4c3b2a10", "[", b"bytes"]


def _specs() -> list[Any]:
    specs: list[Any] = [odm_dyn.TASKS_SPEC]
    specs += [str(p) for p in sorted(DATA.glob("*.yaml")) if b"openapi" in p.read_bytes()[:4096]]
    if VENDOR.exists():
        specs.append(str(VENDOR))
    return specs


def _schemas(spec: Any) -> Iterator[tuple[Any, dict[str, Any], str]]:
    try:
        api = load_api(spec)
    except odm_dyn.SpecError:
        return  # a deliberately broken spec of another test
    for document in api.documents:
        compiler = SchemaCompiler(document)
        schemas = (document.data.get("components") or {}).get("schemas") or {}
        for schema in schemas.values():
            if isinstance(schema, dict):
                for direction in (REQUEST, RESPONSE):
                    yield document, compiler.inline(schema, direction), document.version


def _values(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value near the schema: usually shaped like it, often a little wrong."""
    if not isinstance(schema, dict) or depth > 4 or rng.random() < 0.15:
        return rng.choice(SCALARS)
    if "enum" in schema and rng.random() < 0.7:
        return rng.choice(schema["enum"] or [None])
    for part in schema.get("allOf") or []:
        if rng.random() < 0.5:
            return _values(part, rng, depth + 1)
    kind = schema.get("type")
    kind = rng.choice(kind) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        out = {}
        for name, sub in (schema.get("properties") or {}).items():
            if rng.random() < 0.8:
                out[name] = _values(sub, rng, depth + 1)
        if rng.random() < 0.2:
            out["extra"] = rng.choice(SCALARS)
        return out
    if kind == "array":
        return [_values(schema.get("items"), rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice(SCALARS)


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: Path(s).name)
def test_fast_answers_equal_jsonschema(spec: Any) -> None:
    rng = random.Random(6)
    compiled = total = 0
    for _document, schema, version in _schemas(spec):
        validator_class, format_checker = _dialect(version)
        total += 1
        fast = compile_schema(schema, validator_class, format_checker)
        if fast is None:
            continue
        compiled += 1
        validator = validator_class(schema, format_checker=format_checker)
        for _ in range(40):
            value = _values(schema, rng)
            assert fast(value) == validator.is_valid(value), (schema, value)
    assert total == 0 or compiled > 0


def test_the_tasks_schemas_take_the_fast_path() -> None:
    api = load_api(odm_dyn.TASKS_SPEC)
    check = api.plans["getTaskInfo"].responses["200"].checks["application/json"]
    assert check._is_valid != check._validator.is_valid
    assert check.violations({"id": "x", "status": "LOST"})[0].rule == "enum"  # messages: jsonschema's


@pytest.mark.parametrize(
    "schema",
    [
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        {"$ref": "urn:odm-dyn:document#/components/schemas/Node"},
        {"type": "array", "uniqueItems": True},
        {"type": "number", "multipleOf": 3},
    ],
)
def test_other_keywords_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    for version in ("3.0", "3.1"):
        validator_class, format_checker = _dialect(version)
        assert compile_schema(schema, validator_class, format_checker) is None
    validator_class, format_checker = _dialect("3.1")  # 3.0 has no patternProperties: ignored there
    assert compile_schema({"patternProperties": {"^x": {}}}, validator_class, format_checker) is None


@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_dialect_quirks(version: str) -> None:
    validator_class, format_checker = _dialect(version)
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"type": "integer"}, [1, 1.0, True, None, "1"]),
        ({"type": "string", "nullable": True}, [None, "a", 1]),
        ({"type": "string", "format": "binary"}, [b"x", "x"]),
        ({"type": "integer", "format": "int32"}, [2**31, 2**31 - 1]),
        ({"minimum": 1, "exclusiveMinimum": True}, [1, 2, "x"]),
        ({"maximum": 1, "exclusiveMaximum": 1}, [1, 0.5]),
        ({"enum": [1, "a"]}, [True, 1, 1.0, "a"]),
        ({"const": 0}, [False, 0]),
        ({"items": False}, [[], [1]]),
        ({"required": ["a"], "properties": {"a": {"readOnly": True}}}, [{}, {"a": 1}]),
        ({"type": "string", "pattern": "^G"}, ["GSF", "x"]),
        ({"additionalProperties": {"type": "integer"}, "properties": {"a": {}}}, [{"a": "x", "b": 1}, {"b": "x"}]),
    ]
    for schema, values in cases:
        fast = compile_schema(schema, validator_class, format_checker)
        validator = validator_class(schema, format_checker=format_checker)
        for value in values:
            if fast is not None:
                assert fast(value) == validator.is_valid(value), (version, schema, value)


@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_static_dialects_describe_the_real_ones(version: str) -> None:
    """The description used without importing the validator stack is the stack's own."""
    validator_class, format_checker = _dialect(version)
    real, static = dialect_of(validator_class, format_checker), STATIC_DIALECTS[version]
    assert (static.known, dict(static.variants), static.inert, static.oas30) == (
        real.known,
        dict(real.variants),
        real.inert,
        real.oas30,
    )
    for name, native in static.formats.items():
        function = format_checker.checkers[name][0]
        assert function.__module__ == "openapi_schema_validator._format"
        for value in SCALARS:
            assert native(value) == real.formats[name](value), (name, value)
