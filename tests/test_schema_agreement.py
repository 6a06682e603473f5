"""The compiled checks (jsonschema-rs on the 2020-12 rewrite) agree with openapi-schema-validator.

Every schema of the test specs and of the vendor's odmApi.yaml (skipped when absent), in both
directions, is judged by our compiled check and by openapi-schema-validator's OAS 3.0 / 3.1
validator on values shaped like the schema, valid ones and broken ones; the yes/no answers must
be the same. The reference runs on the schema as inlined for its direction (readOnly/writeOnly
already applied to ``required``), with JSON Schema's own ``required``.

Where we deliberately read the spec otherwise, the reference is told the same, or such values
are not generated (each case says why):

- 3.0 ``nullable: true`` beside a ``type`` also admits ``null`` in an ``enum`` (OAS 3.0.3);
- integral floats (``1.0``) are not generated: 2020-12 counts them as integers, 3.0's checker
  does not, and the JSON on the wire does not tell ``1.0`` from ``1`` for most servers;
- ``format: byte`` is checked in 3.1 too (openapi-schema-validator's 3.1 checker has no byte),
  and a non-ASCII string is not base64 (openapi-schema-validator's 3.0 check raises on one);
- formats whose check needs a package this environment lacks (``uri`` needs rfc3987, ...) are
  skipped by openapi-schema-validator; we check them: the reference borrows jsonschema-rs's
  check for those formats alone.
"""

from __future__ import annotations

import binascii
import copy
import functools
import json
from base64 import b64decode
from pathlib import Path
from typing import Any, Iterator

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import odm_dyn
from odm_dyn.api.load import load_api
from odm_dyn.api.normalise import DOC_URI
from odm_dyn.api.schemas import REQUEST, RESPONSE, SchemaCompiler
from odm_dyn.spec.pointers import resolve_pointer

DATA = Path(__file__).parent / "data"
VENDOR = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "genestack-openapi-v1" / "odmApi.yaml"

STRINGS = ["", "a", "GSF000123", "DONE", "2024-01-31", "2024-01-31T10:00:00Z", "not a date", "x" * 40]
STRINGS += ["a@b.org", "127.0.0.1", "4f1c9a5e-3b1e-4e5b-9a4a-5d1e4c3b2a10", "ZXhhbXBsZQ==", "[", "é"]
SCALARS = st.sampled_from([None, True, False, 0, 1, -1, 2**31, 2**63, -(2**63) - 1, 0.5, -2.25, *STRINGS])


def _specs() -> list[Any]:
    specs: list[Any] = [odm_dyn.TASKS_SPEC]
    specs += [str(p) for p in sorted(DATA.glob("*.yaml")) if b"openapi" in p.read_bytes()[:4096]]
    return [*specs, pytest.param(str(VENDOR), marks=pytest.mark.skipif(not VENDOR.exists(), reason="no vendor spec"))]


def _schemas(spec: Any) -> Iterator[tuple[SchemaCompiler, dict[str, Any], str]]:
    """Every component, parameter, body and response schema, with the direction it is read in."""
    try:
        api = load_api(spec)
    except odm_dyn.SpecError:
        return  # a deliberately broken spec of another test
    seen: set[tuple[int, str]] = set()
    for document in api.documents:
        compiler = SchemaCompiler(document)
        components = (document.data.get("components") or {}).get("schemas") or {}
        found = [(s, d) for s in components.values() for d in (REQUEST, RESPONSE)]
        for op in api.operations.values():
            if op.document is document:
                found += [(p.schema, REQUEST) for p in op.parameters]
                found += [(s, REQUEST) for s in (op.body.content.values() if op.body else ())]
                found += [(s, RESPONSE) for r in op.responses.values() for s in r.content.values()]
        for schema, direction in found:
            if isinstance(schema, dict) and (id(schema), direction) not in seen:
                seen.add((id(schema), direction))
                yield compiler, schema, direction


def _near(document: Any, schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like the schema, often a little wrong."""
    if not isinstance(schema, dict) or depth > 4:
        return SCALARS
    ref = schema.get("$ref")
    if isinstance(ref, str) and "#" in ref:
        return _near(document, resolve_pointer(document.data, ref.split("#", 1)[1]), depth + 1)
    options = [SCALARS]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        options.append(st.sampled_from(schema["enum"]))
    for keyword in ("allOf", "oneOf", "anyOf"):
        options += [_near(document, part, depth + 1) for part in schema.get(keyword) or []]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        shaped = {name: _near(document, sub, depth + 1) for name, sub in properties.items()}
        options.append(st.fixed_dictionaries({}, optional={**shaped, "extra": SCALARS}))
    if "items" in schema or schema.get("type") == "array":
        options.append(st.lists(_near(document, schema.get("items"), depth + 1), max_size=3))
    if schema.get("type") in ("integer", "number"):
        options.append(st.integers(min_value=-(2**64), max_value=2**64))
    return st.one_of(options)


def _reference(compiler: SchemaCompiler, schema: dict[str, Any], direction: str) -> Any:
    """openapi-schema-validator's validator for the inlined schema, told our deliberate readings."""
    import openapi_schema_validator as oas
    from jsonschema import Draft4Validator, validators
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = compiler.document
    inlined = _nullable_enums(copy.deepcopy(compiler.inline(schema, direction)), document.version)
    if id(document) not in _REGISTRIES:
        resource = Resource.from_contents(document.data, default_specification=DRAFT202012)
        _REGISTRIES[id(document)] = (document, Registry().with_resource(DOC_URI, resource))
    registry = _REGISTRIES[id(document)][1]
    if document.version == "3.0":
        # The direction is applied already: JSON Schema's own required, not 3.0's read/write excuse.
        oas30 = validators.extend(oas.OAS30Validator, {"required": Draft4Validator.VALIDATORS["required"]})
        return oas30(inlined, format_checker=_formats("3.0"), registry=registry)
    return oas.OAS31Validator(inlined, format_checker=_formats("3.1"), registry=registry)


_REGISTRIES: dict[int, tuple[Any, Any]] = {}  # id of a document → (the document, kept alive; its registry)


_NEED_A_PACKAGE = ("uri", "uri-reference", "iri", "iri-reference", "hostname", "idn-hostname", "uri-template")
_NEED_A_PACKAGE += ("json-pointer", "relative-json-pointer", "duration", "time", "idn-email")


@functools.cache
def _formats(version: str) -> Any:
    """The version's checker with our byte reading, plus jsonschema-rs's check of the formats it skips."""
    import openapi_schema_validator as oas

    checker = copy.deepcopy(oas.oas30_format_checker if version == "3.0" else oas.oas31_format_checker)
    checker.checks("byte", raises=(binascii.Error, ValueError))(_is_byte)
    for name in _NEED_A_PACKAGE:
        if name not in checker.checkers:
            one = jsonschema_rs.validator_for({"format": name}, validate_formats=True)
            checker.checks(name)(one.is_valid)
    return checker


def _is_byte(value: object) -> bool:
    if isinstance(value, str):
        b64decode(value.encode("ascii"), validate=True)  # raises what the checker was told to catch
    return True


def _nullable_enums(node: Any, version: str) -> Any:
    if version == "3.0" and isinstance(node, dict):
        if node.get("nullable") is True and "type" in node and isinstance(node.get("enum"), list):
            node["enum"] = [*node["enum"], None]
        for value in node.values():
            _nullable_enums(value, version)
    elif isinstance(node, list):
        for item in node:
            _nullable_enums(item, version)
    return node


def _agree(ours: Any, reference: Any, values: st.SearchStrategy[Any], verdicts: dict[bool, int]) -> None:
    """Both say yes, or both say no, on every drawn value (``violations`` as well as ``is_valid``)."""

    @settings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(values)
    def agree(value: Any) -> None:
        expected = reference.is_valid(value)
        verdicts[expected] += 1
        assert ours.is_valid(value) == expected, (ours.json_schema, value)
        assert bool(ours.violations(value)) != expected, (ours.json_schema, value)

    agree()


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: Path(str(s)).name)
def test_compiled_checks_agree_with_openapi_schema_validator(spec: Any) -> None:
    judged: set[str] = set()
    verdicts = {True: 0, False: 0}
    for compiler, schema, direction in _schemas(spec):
        ours = compiler.check(schema, direction)
        text = json.dumps(ours.json_schema, sort_keys=True, default=repr)
        if text in judged:
            continue  # the same rules already judged (many parameters are {type: string})
        judged.add(text)
        reference = _reference(compiler, schema, direction)
        _agree(ours, reference, _near(compiler.document, schema), verdicts)
    if judged:
        assert verdicts[True] and verdicts[False], f"values should be both valid and broken: {verdicts}"


@pytest.mark.parametrize(
    ("schema", "values"),
    [
        ({"type": "integer"}, [1, True, None, "1", 2**70]),
        ({"type": "string", "nullable": True}, [None, "a", 1]),
        ({"type": "string", "nullable": True, "enum": ["a"]}, [None, "a", "b"]),
        ({"enum": ["a"], "nullable": True}, [None, "a"]),  # nullable without a type: no change in 3.0
        ({"type": "integer", "format": "int32"}, [2**31, 2**31 - 1, -(2**31), -(2**31) - 1]),
        ({"type": "integer", "format": "int64", "minimum": 0}, [-1, 0, 2**63, 2**63 - 1]),
        ({"minimum": 1, "exclusiveMinimum": True}, [1, 2, "x"]),
        ({"maximum": 1, "exclusiveMaximum": True}, [1, 0.5]),
        ({"maximum": 1, "exclusiveMaximum": False}, [1, 1.5]),
        ({"type": "string", "format": "byte"}, ["ZXhh", "!!", "é"]),
        ({"type": "string", "format": "date-time"}, ["2024-01-31T10:00:00Z", "2024-01-31", 5]),
        ({"type": "string", "format": "date"}, ["2024-01-31", "2024-13-01"]),
        ({"enum": [1, "a"]}, [True, 1, "a"]),
        ({"required": ["a"], "properties": {"a": {"readOnly": True}}}, [{}, {"a": 1}]),
        ({"additionalProperties": {"type": "integer"}, "properties": {"a": {}}}, [{"a": "x", "b": 1}, {"b": "x"}]),
    ],
)
def test_the_oas30_readings(schema: dict[str, Any], values: list[Any]) -> None:
    """Each 3.0 rewrite, value by value, against openapi-schema-validator (told our readings)."""
    from odm_dyn.spec.document import Document

    document = Document(path="inline", data={"openapi": "3.0.3", "components": {"schemas": {"S": schema}}})
    compiler = SchemaCompiler(document)
    for direction in (REQUEST, RESPONSE):
        ours, reference = compiler.check(schema, direction), _reference(compiler, schema, direction)
        for value in values:
            assert ours.is_valid(value) == reference.is_valid(value), (direction, schema, value)


@pytest.mark.parametrize("openapi", ["3.0.3", "3.1.0"])
def test_a_discriminator_checks_the_chosen_alternative_only(openapi: str) -> None:
    """As openapi-schema-validator: the property must be there, and only its schema is checked."""
    from odm_dyn.spec.document import Document

    shape = {
        "oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}],
        "discriminator": {"propertyName": "kind", "mapping": {"a": "#/components/schemas/A"}},
    }
    schemas = {"A": {"type": "object", "required": ["a"]}, "B": {"type": "object", "required": ["b"]}, "S": shape}
    document = Document(path="inline", data={"openapi": openapi, "components": {"schemas": schemas}})
    compiler = SchemaCompiler(document)
    schema = {"$ref": "#/components/schemas/S"}
    ours, reference = compiler.check(schema, RESPONSE), _reference(compiler, schema, RESPONSE)
    values = [{"kind": "a", "a": 1, "b": 1}, {"kind": "B", "b": 1}, {"kind": "b", "a": 1}, {"a": 1}, {"kind": ""}, 3]
    verdicts = [ours.is_valid(value) for value in values]
    assert verdicts == [reference.is_valid(value) for value in values]
    assert verdicts == [True, True, False, False, False, False]  # both alternatives fit the first: oneOf alone fails it
    assert ours.violations({"a": 1})[0].rule == "required"


def test_a_violation_carries_the_offending_value_but_never_shows_it() -> None:
    check = load_api(odm_dyn.TASKS_SPEC).plans["getTaskInfo"].responses["200"].checks["application/json"]
    (violation,) = check.violations({"id": "GSF1", "status": "s3cr3t"})
    assert (violation.path, violation.rule, violation.value) == ("$.status", "enum", "s3cr3t")
    assert "s3cr3t" not in str(violation) and "s3cr3t" not in repr(violation)


@pytest.mark.parametrize(
    ("schema", "value", "rule", "text"),
    [
        ({"type": "string", "enum": ["a", "b"]}, "zz-secret", "enum", "breaks 'enum': got a str, allowed: a, b"),
        ({"type": "integer", "nullable": True}, "zz-secret", "type", "expected integer or null, got string"),
        ({"type": "object", "required": ["id"]}, {}, "required", "breaks 'required': 'id' is missing"),
        ({"type": "string", "format": "date-time"}, "zz-secret", "format", "not a valid date-time (str)"),
        ({"type": "integer", "format": "int32"}, 2**40, "format", "not a valid int32 (int)"),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"zz": 1}, "additionalProperties", "'zz'"),
        ({"additionalProperties": False}, {"zz": "zz-secret"}, "additionalProperties", "allows nothing"),
        ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 3, "oneOf", "more than one of the alternatives"),
        ({"type": "string", "maxLength": 2}, "zz-secret", "maxLength", "breaks 'maxLength' (2) with a str"),
    ],
)
def test_messages_name_the_rule_and_the_type_never_the_value(schema: Any, value: Any, rule: str, text: str) -> None:
    from odm_dyn.spec.document import Document

    compiler = SchemaCompiler(Document(path="inline", data={"openapi": "3.0.3"}))
    (violation,) = compiler.check(schema, RESPONSE).violations(value)
    assert violation.rule == rule and text in violation.message and "zz-secret" not in violation.message
