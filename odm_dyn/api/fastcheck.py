"""Schemas compiled to plain Python closures: the fast ``is_valid`` of the common subset.

jsonschema's ``is_valid`` walks the schema on every call (a validator object per level,
``evolve``, ``descend``, keyword dispatch): about 0.2 ms for a TaskInfo. The schemas an API
declares mostly use a small subset of keywords, and a closure per schema node answers "is this
valid?" for that subset in microseconds.

:func:`compile_schema` returns ``None`` for any schema that uses something outside the subset
(``$ref`` left for recursion, ``oneOf``, ``anyOf``, ``not``, ``patternProperties``, ``if``,
``discriminator``, ``uniqueItems``, ``multipleOf``, ...): the caller keeps jsonschema's
validator for those. Every rule below mirrors what the dialect's own validator
(openapi-schema-validator's ``OAS30Validator`` / ``OAS31Validator``) does, including its quirks:
booleans are not numbers, ``1.0`` is an integer in 3.1 but not in 3.0, 3.0's ``nullable``, and
3.0 skipping missing ``readOnly``/``writeOnly`` required properties. Only the yes/no answer
comes from here; error messages always come from jsonschema's ``iter_errors``.
"""

from __future__ import annotations

import importlib.util
import numbers
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Mapping

Check = Callable[[Any], bool]

# The keyword implementations this module mirrors, by ``module.qualname``. A dialect whose
# keyword is implemented by anything else (a newer library, a project override) is not
# compiled: jsonschema keeps the answer. The value names the variant mirrored.
_MIRRORED: dict[str, dict[str, str]] = {
    "type": {"openapi_schema_validator._keywords.type": "oas30", "jsonschema._keywords.type": "plain"},
    "enum": {"jsonschema._keywords.enum": "plain"},
    "const": {"jsonschema._keywords.const": "plain"},
    "format": {"openapi_schema_validator._keywords.format": "skip-none", "jsonschema._keywords.format": "plain"},
    "properties": {"jsonschema._keywords.properties": "plain"},
    "required": {
        "openapi_schema_validator._keywords.required": "excuse-read-write",
        "jsonschema._keywords.required": "plain",
    },
    "additionalProperties": {
        "openapi_schema_validator._keywords.additionalProperties": "plain",
        "jsonschema._keywords.additionalProperties": "plain",
    },
    "items": {"openapi_schema_validator._keywords.items": "schema", "jsonschema._keywords.items": "2020"},
    "allOf": {"openapi_schema_validator._keywords.allOf": "plain"},
    "minimum": {"jsonschema._legacy_keywords.minimum_draft3_draft4": "draft4", "jsonschema._keywords.minimum": "plain"},
    "maximum": {"jsonschema._legacy_keywords.maximum_draft3_draft4": "draft4", "jsonschema._keywords.maximum": "plain"},
    "exclusiveMinimum": {"jsonschema._keywords.exclusiveMinimum": "plain"},
    "exclusiveMaximum": {"jsonschema._keywords.exclusiveMaximum": "plain"},
    "minLength": {"jsonschema._keywords.minLength": "plain"},
    "maxLength": {"jsonschema._keywords.maxLength": "plain"},
    "minItems": {"jsonschema._keywords.minItems": "plain"},
    "maxItems": {"jsonschema._keywords.maxItems": "plain"},
    "minProperties": {"jsonschema._keywords.minProperties": "plain"},
    "maxProperties": {"jsonschema._keywords.maxProperties": "plain"},
    "pattern": {"openapi_schema_validator._keywords.pattern": "plain"},
}
_INERT_FUNCTION = "openapi_schema_validator._keywords.not_implemented"  # never fails a value


class NotCompilable(Exception):
    """The schema uses something this module does not compile; use jsonschema for it."""


@dataclass(frozen=True)
class Dialect:
    """What a validator class does, as far as compiling goes.

    ``known``: every keyword it defines; ``variants``: the compiled ones, by the variant of
    ``_MIRRORED`` its implementation is; ``inert``: keywords that never fail; ``oas30``: OAS
    3.0's type checker (else draft 2020-12's); ``formats``: format name → check, where ``None``
    means "not known here" (compiling then stops unless the checker is the real one).
    """

    known: frozenset[str]
    variants: Mapping[str, str]
    inert: frozenset[str]
    oas30: bool
    formats: Mapping[str, Check]
    all_formats_known: bool  # the real checker: a format missing from ``formats`` is ignored


def compile_schema(schema: Any, validator_class: Any, format_checker: Any) -> Check | None:
    """A function ``value -> bool`` giving ``validator_class(schema).is_valid``'s answer, or ``None``.

    ``validator_class``: the dialect (openapi-schema-validator's ``OAS30Validator`` or
    ``OAS31Validator``, or a class extending one); ``format_checker``: the one it runs with.
    """
    try:
        return compile_for(schema, dialect_of(validator_class, format_checker))
    except NotCompilable:
        return None


def compile_for(schema: Any, dialect: Dialect) -> Check | None:
    """The closure for a schema under a dialect description, or ``None``."""
    try:
        return _Compiler(dialect).compile(schema)
    except (NotCompilable, re.error, TypeError, ValueError, KeyError):
        return None


def dialect_of(validator_class: Any, format_checker: Any) -> Dialect:
    """The description of a real validator class (imports what it uses)."""
    variants, inert, oas30 = _dialect_variants(validator_class)
    formats = {name: _format_check(function, raises) for name, (function, raises) in format_checker.checkers.items()}
    return Dialect(frozenset(validator_class.VALIDATORS), variants, inert, oas30, formats, True)


def _format_check(function: Callable[[Any], Any], raises: Any) -> Check:
    def conforms(value: Any) -> bool:  # as FormatChecker.conforms
        try:
            return bool(function(value))
        except raises:
            return False

    return conforms


def _dialect_variants(validator_class: Any) -> tuple[dict[str, str], frozenset[str], bool]:
    """Keyword → mirrored variant; the inert keywords; whether the types are OAS 3.0's."""
    from jsonschema._types import draft202012_type_checker
    from openapi_schema_validator._types import oas30_type_checker

    variants: dict[str, str] = {}
    inert = set()
    for keyword, function in validator_class.VALIDATORS.items():
        name = f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', '')}"
        if name == _INERT_FUNCTION:
            inert.add(keyword)
        elif name in _MIRRORED.get(keyword, {}):
            variants[keyword] = _MIRRORED[keyword][name]
    if validator_class.TYPE_CHECKER is oas30_type_checker:
        return variants, frozenset(inert), True
    if validator_class.TYPE_CHECKER is draft202012_type_checker:
        return variants, frozenset(inert), False
    raise NotCompilable("an unknown type checker")


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


class _Compiler:
    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self.known, self.variants, self.inert = dialect.known, dialect.variants, dialect.inert
        self.oas30 = dialect.oas30

    def compile(self, schema: Any) -> Check:
        if schema is True or (isinstance(schema, dict) and not schema):
            return _always
        if schema is False and not self.oas30:
            return _never
        if not isinstance(schema, dict):
            raise NotCompilable(schema)
        unsupported = [k for k in schema if k in self.known and k not in self.variants and k not in self.inert]
        if unsupported or "discriminator" in schema:
            raise NotCompilable(unsupported)
        # Only what the dialect defines counts (3.0 has no ``const``; jsonschema ignores the rest).
        active = {k: v for k, v in schema.items() if k in self.known}
        tests = [test for test in self._tests(active, schema) if test is not _always]
        return _all_of(tests)

    def _tests(self, schema: Mapping[str, Any], whole: Mapping[str, Any]) -> list[Check]:
        """The tests of one node: ``schema`` holds its dialect's keywords, ``whole`` every key."""
        tests: list[Check] = []
        if "type" in schema:
            tests.append(self._type(whole))
        if "enum" in schema:
            tests.append(_enum(schema["enum"]))
        if "const" in schema:
            tests.append(_enum([schema["const"]]))
        if "format" in schema:
            tests.append(self._format(schema["format"]))
        tests.extend(self._numbers(schema, whole))
        tests.extend(_sizes(schema))
        if "pattern" in schema:
            tests.append(_pattern(schema["pattern"]))
        if any(k in schema for k in ("properties", "required", "additionalProperties")):
            tests.append(self._object(schema))
        if "items" in schema:
            tests.append(self._items(schema["items"]))
        if "allOf" in schema:
            tests.extend(self.compile(part) for part in schema["allOf"])
        return tests

    # ------------------------------------------------------------------ type

    def _type(self, schema: Mapping[str, Any]) -> Check:
        declared = schema["type"]
        if self.variants["type"] == "oas30":
            if not isinstance(declared, str):
                raise NotCompilable("3.0 type must be a string")
            return _oas30_type(declared, schema.get("nullable") is True, schema.get("format") == "binary")
        names = [declared] if isinstance(declared, str) else list(declared)
        table = _TYPES_30 if self.oas30 else _TYPES_31
        predicates = [table[name] for name in names]  # KeyError: an unknown type name
        if len(predicates) == 1:
            return predicates[0]
        return lambda value: any(p(value) for p in predicates)

    # ------------------------------------------------------------------ format

    def _format(self, name: Any) -> Check:
        check = self.dialect.formats.get(name)
        if check is None:
            if self.dialect.all_formats_known:
                return _always  # jsonschema ignores unknown formats too
            raise NotCompilable(f"format {name!r} needs the real format checker")
        if self.variants["format"] != "skip-none":
            return check
        # openapi-schema-validator's format keyword lets None through.
        return lambda value: value is None or check(value)

    # ------------------------------------------------------------------ numbers

    def _numbers(self, schema: Mapping[str, Any], whole: Mapping[str, Any]) -> list[Check]:
        tests: list[Check] = []
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        if self.variants.get("minimum", self.variants.get("maximum")) == "draft4":
            # Draft 4: exclusiveMinimum / exclusiveMaximum are booleans modifying minimum / maximum.
            if "minimum" in schema:
                tests.append(_bound(minimum, below=True, exclusive=bool(whole.get("exclusiveMinimum", False))))
            if "maximum" in schema:
                tests.append(_bound(maximum, below=False, exclusive=bool(whole.get("exclusiveMaximum", False))))
            return tests
        if "minimum" in schema:
            tests.append(_bound(minimum, below=True, exclusive=False))
        if "maximum" in schema:
            tests.append(_bound(maximum, below=False, exclusive=False))
        if "exclusiveMinimum" in schema:
            tests.append(_bound(schema["exclusiveMinimum"], below=True, exclusive=True))
        if "exclusiveMaximum" in schema:
            tests.append(_bound(schema["exclusiveMaximum"], below=False, exclusive=True))
        return tests

    # ------------------------------------------------------------------ objects and arrays

    def _object(self, schema: Mapping[str, Any]) -> Check:
        properties = schema.get("properties") or {}
        if not isinstance(properties, dict):
            raise NotCompilable("properties")
        checks = [(name, self.compile(sub)) for name, sub in properties.items()]
        checks = [(name, check) for name, check in checks if check is not _always]
        required = self._required(schema, properties)
        extra = self._additional(schema.get("additionalProperties", True), properties)

        def check_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return True  # object keywords say nothing about other types
            for name in required:
                if name not in value:
                    return False
            for name, check in checks:
                if name in value and not check(value[name]):
                    return False
            return extra is None or extra(value)

        return check_object

    def _required(self, schema: Mapping[str, Any], properties: Mapping[str, Any]) -> tuple[str, ...]:
        required = schema.get("required") or []
        if not isinstance(required, list):
            raise NotCompilable("required")
        if self.variants.get("required") != "excuse-read-write":
            return tuple(required)
        # openapi-schema-validator's own ``required`` never reports a missing property that is readOnly or writeOnly.
        return tuple(
            name
            for name in required
            if not (
                isinstance(properties.get(name), dict)
                and (properties[name].get("readOnly", False) or properties[name].get("writeOnly", False))
            )
        )

    def _additional(self, additional: Any, properties: Mapping[str, Any]) -> Check | None:
        if additional is True or additional == {}:
            return None
        declared = frozenset(properties)
        if additional is False:
            return lambda value: all(name in declared for name in value)
        if not isinstance(additional, dict):
            raise NotCompilable("additionalProperties")
        check = self.compile(additional)
        return lambda value: all(check(item) for name, item in value.items() if name not in declared)

    def _items(self, items: Any) -> Check:
        if isinstance(items, bool) and self.variants["items"] == "2020":
            return _always if items else (lambda value: not isinstance(value, list) or not value)
        check = self.compile(items)
        if check is _always:
            return _always
        return lambda value: not isinstance(value, list) or all(check(item) for item in value)


def _all_of(tests: list[Check]) -> Check:
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda value: first(value) and second(value)
    chain = tuple(tests)

    def check_all(value: Any) -> bool:
        for test in chain:
            if not test(value):
                return False
        return True

    return check_all


# --------------------------------------------------------------------------- leaf rules


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _is_integer_31(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_integer_30(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES_31: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer_31,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}

_TYPES_30: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer_30,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
}


def _oas30_type(name: str, nullable: bool, binary: bool) -> Check:
    """openapi-schema-validator's 3.0 ``type``: ``nullable`` lets None through; bytes pass as binary."""
    predicate = _TYPES_30.get(name)
    if predicate is None:
        raise NotCompilable(f"3.0 type {name!r}")
    allow_bytes = binary and name == "string"

    def check_type(value: Any) -> bool:
        if value is None:
            return nullable
        return predicate(value) or (allow_bytes and isinstance(value, bytes))

    return check_type


def _enum(values: Any) -> Check:
    if not isinstance(values, list):
        raise NotCompilable("enum")
    if values and all(isinstance(v, str) for v in values):
        allowed = frozenset(values)
        # jsonschema compares a string only with strings: a set look-up gives the same answer.
        return lambda value: isinstance(value, str) and value in allowed
    from jsonschema._utils import equal

    return lambda value: any(equal(choice, value) for choice in values)


def _bound(limit: Any, *, below: bool, exclusive: bool) -> Check:
    if not _is_number(limit):
        raise NotCompilable("a bound that is not a number")
    if below:
        if exclusive:
            return lambda value: not _is_number(value) or value > limit
        return lambda value: not _is_number(value) or value >= limit
    if exclusive:
        return lambda value: not _is_number(value) or value < limit
    return lambda value: not _is_number(value) or value <= limit


def _sizes(schema: Mapping[str, Any]) -> list[Check]:
    tests: list[Check] = []
    for keyword, kind, below in (
        ("minLength", str, True),
        ("maxLength", str, False),
        ("minItems", list, True),
        ("maxItems", list, False),
        ("minProperties", dict, True),
        ("maxProperties", dict, False),
    ):
        if keyword in schema:
            tests.append(_size(schema[keyword], kind, below))
    return tests


def _size(limit: Any, kind: type, below: bool) -> Check:
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise NotCompilable("a size that is not an integer")
    if below:
        return lambda value: not isinstance(value, kind) or len(value) >= limit
    return lambda value: not isinstance(value, kind) or len(value) <= limit


def _has_ecma_regex() -> bool:
    """Whether openapi-schema-validator matches patterns with ``regress`` (it does when installed).

    Asked of the module when it is loaded already, else answered as it would, without loading it
    (and looked up once per process: installed packages do not change under it).
    """
    global _REGRESS_INSTALLED
    loaded = sys.modules.get("openapi_schema_validator._regex")
    if loaded is not None:
        return loaded.has_ecma_regex()
    if _REGRESS_INSTALLED is None:
        _REGRESS_INSTALLED = importlib.util.find_spec("regress") is not None
    return _REGRESS_INSTALLED


_REGRESS_INSTALLED: bool | None = None


def _pattern(pattern: Any) -> Check:
    if _has_ecma_regex() or not isinstance(pattern, str):
        raise NotCompilable("pattern")  # ECMA regular expressions: jsonschema's engine decides
    search = re.compile(pattern).search
    return lambda value: not isinstance(value, str) or search(value) is not None


# --------------------------------------------------------------------------- the static dialects
#
# The dialects odm_dyn uses (validation._dialect), described without importing them: importing
# openapi-schema-validator costs 0.35 s and pydantic, which a process whose spec comes from the
# cache must not pay. tests/test_fastcheck.py asserts these equal ``dialect_of`` of the real
# classes, so a library upgrade that changes a keyword fails a test instead of a call.


def _is_int32(value: Any) -> bool:  # openapi_schema_validator._format.is_int32
    if isinstance(value, bool) or not isinstance(value, int):
        return True
    return ~(1 << 31) < value < 1 << 31


def _is_int64(value: Any) -> bool:  # openapi_schema_validator._format.is_int64
    if isinstance(value, bool) or not isinstance(value, int):
        return True
    return ~(1 << 63) < value < 1 << 63


def _is_float(value: Any) -> bool:  # openapi_schema_validator._format.is_float and is_double
    if isinstance(value, int) or not isinstance(value, numbers.Number):
        return True
    return isinstance(value, float)


NATIVE_FORMATS: dict[str, dict[str, Check]] = {
    "3.0": {
        "int32": _is_int32,
        "int64": _is_int64,
        "float": _is_float,
        "double": _is_float,
        "password": _always,
        "binary": _always,
    },
    "3.1": {"int32": _is_int32, "int64": _is_int64, "float": _is_float, "double": _is_float, "password": _always},
}

_COMMON = ("additionalProperties", "allOf", "enum", "format", "items", "maxItems", "maxLength", "maxProperties")
_COMMON += ("maximum", "minItems", "minLength", "minProperties", "minimum", "pattern", "properties", "required", "type")
_UNCOMPILED_30 = ("$ref", "anyOf", "multipleOf", "not", "oneOf", "uniqueItems")
_UNCOMPILED_31 = _UNCOMPILED_30 + ("$dynamicRef", "contains", "dependentRequired", "dependentSchemas", "if")
_UNCOMPILED_31 += ("patternProperties", "prefixItems", "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_INERT_30 = frozenset({"deprecated", "discriminator", "example", "externalDocs", "readOnly", "writeOnly", "xml"})
_INERT_31 = frozenset({"description", "discriminator", "example", "externalDocs", "xml"})
_VARIANTS_30 = {**dict.fromkeys(_COMMON, "plain"), "maximum": "draft4", "minimum": "draft4", "type": "oas30"}
_VARIANTS_30.update({"items": "schema", "format": "skip-none"})
_VARIANTS_31 = {**dict.fromkeys(_COMMON, "plain"), "items": "2020", "const": "plain"}
_VARIANTS_31.update({"exclusiveMaximum": "plain", "exclusiveMinimum": "plain"})

STATIC_DIALECTS: dict[str, Dialect] = {
    "3.0": Dialect(
        frozenset(_VARIANTS_30) | _INERT_30 | frozenset(_UNCOMPILED_30),
        _VARIANTS_30,
        _INERT_30,
        True,
        NATIVE_FORMATS["3.0"],
        False,
    ),
    "3.1": Dialect(
        frozenset(_VARIANTS_31) | _INERT_31 | frozenset(_UNCOMPILED_31),
        _VARIANTS_31,
        _INERT_31,
        False,
        NATIVE_FORMATS["3.1"],
        False,
    ),
}
