"""Schema-valid example data, for operations that have no handler and for ``Prefer: code=``.

The spec's own examples come first (the media type's ``example``/``examples``, then the
schema's); otherwise a value is generated from the schema. Every candidate is checked with the
response's compiled check, and the first valid one wins, so a wrong example in a spec costs a
logged warning at start-up, never an off-spec answer.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any, Callable

from ..api.operations import Operation, deref
from ..api.schemas import SchemaCheck
from ..spec.document import Document
from ..spec.pointers import resolve_pointer

log = logging.getLogger("odm_dyn.server")

MAX_DEPTH = 6  # deeper than this only required properties and minimum items are made
_ALTERNATIVES_TRIED = 4  # oneOf/anyOf choices tried before giving up on a valid value

_STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00Z",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "http://localhost/example",
    "uri-reference": "/example",
    "iri": "http://localhost/example",
    "iri-reference": "/example",
    "url": "http://localhost/example",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "byte": "ZXhhbXBsZQ==",
    "binary": "example",
    "password": "example",
    "regex": "^example$",
    "json-pointer": "/example",
    "relative-json-pointer": "0",
}


class NoValidExample(Exception):
    """No candidate value passed the response's check."""


def response_example(op: Operation, status: str, media: str, check: SchemaCheck | None) -> Any:
    """A value for one declared response body that the response's check accepts."""
    candidates = list(_spec_examples(op, status, media))
    schema = check.schema if check is not None else {}
    fits = fits_with(check)
    for choice in range(_ALTERNATIVES_TRIED):
        candidates.append(Generator(op.document, choice, fits).value(schema))
    for value in candidates:
        if check is None or not check.violations(value):
            return value
    raise NoValidExample(f"{op.operation_id} {status} {media}: no example or generated value fits the schema")


def _spec_examples(op: Operation, status: str, media: str) -> list[Any]:
    """The media type's ``example`` and ``examples`` values, as the spec writes them."""
    try:
        raw_op = resolve_pointer(op.document.data, op.pointer)
        response = deref(op.document, raw_op["responses"][status])
        media_object = response["content"][media] or {}
    except (KeyError, TypeError):
        return []
    found = [media_object["example"]] if "example" in media_object else []
    for example in (media_object.get("examples") or {}).values():
        example = deref(op.document, example)
        if isinstance(example, dict) and "value" in example:
            found.append(example["value"])
    return found


class Generator:
    """Makes a value for a schema; ``choice`` picks among oneOf/anyOf alternatives."""

    def __init__(self, document: Document, choice: int = 0, fits: Callable[[Any, Any], bool] | None = None):
        self.document = document
        self.choice = choice
        self.fits = fits or shallow_fits

    def value(self, schema: Any, depth: int = 0, variant: int = 0, seen: tuple[str, ...] = ()) -> Any:
        if not isinstance(schema, dict) or not schema:
            return "example"
        if "$ref" in schema:
            ref = _ref_key(schema["$ref"])
            resolved = self._merge([self._resolve(schema["$ref"]), _without(schema, "$ref")])
            return self.value(resolved, depth, variant, seen + (ref,))
        for given in _given_values(schema, variant):
            if self.fits(given, schema):  # specs do hold wrong examples: each is tried, not trusted
                return copy.deepcopy(given)
        if "allOf" in schema:
            return self.value(self._merge([*schema["allOf"], _without(schema, "allOf")]), depth, variant, seen)
        for keyword in ("oneOf", "anyOf"):
            if schema.get(keyword):
                options = schema[keyword]
                picked = options[self.choice % len(options)]
                return self.value(self._merge([picked, _without(schema, keyword)]), depth, variant, seen)
        return self._typed(schema, _type_of(schema), depth, variant, seen)

    def _typed(self, schema: dict[str, Any], kind: str, depth: int, variant: int, seen: tuple[str, ...]) -> Any:
        if kind == "object":
            return self._object(schema, depth, variant, seen)
        if kind == "array":
            return self._array(schema, depth, seen)
        if kind == "integer":
            return _integer(schema, variant)
        if kind == "number":
            return _number(schema, variant)
        if kind == "boolean":
            return variant % 2 == 0
        if kind == "null":
            return None
        return _string(schema, variant)

    def _object(self, schema: dict[str, Any], depth: int, variant: int, seen: tuple[str, ...]) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            if name not in required and _skipped(sub, depth, seen):
                continue
            out[name] = self.value(sub, depth + 1, variant, seen)
        for name in required - out.keys():
            extra = schema.get("additionalProperties")
            out[name] = self.value(extra if isinstance(extra, dict) else {}, depth + 1, variant, seen)
        return out

    def _array(self, schema: dict[str, Any], depth: int, seen: tuple[str, ...]) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        count = max(low, 0 if depth >= MAX_DEPTH else 1)
        if high is not None:
            count = min(count, int(high))
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        # Distinct variants keep uniqueItems arrays valid.
        return [self.value(items, depth + 1, i, seen) for i in range(count)]

    def _resolve(self, ref: str) -> Any:
        # Compiled schemas keep recursive references as "urn:odm-dyn:document#/…".
        pointer = ref.split("#", 1)[1] if "#" in ref else ""
        try:
            return resolve_pointer(self.document.data, pointer)
        except KeyError:
            return {}

    def _merge(self, parts: list[Any]) -> dict[str, Any]:
        """allOf as one schema: properties and required united, the first word wins elsewhere."""
        merged: dict[str, Any] = {}
        for part in parts:
            while isinstance(part, dict) and "$ref" in part and len(part) == 1:
                part = self._resolve(part["$ref"])
            if not isinstance(part, dict):
                continue
            if "allOf" in part:
                part = {**self._merge(part["allOf"]), **_without(part, "allOf")}
            for key, value in part.items():
                if key == "properties":
                    props = merged.setdefault("properties", {})
                    for name, sub in value.items():
                        props[name] = sub if name not in props else {"allOf": [props[name], sub]}
                elif key == "required":
                    merged["required"] = sorted(set(merged.get("required", [])) | set(value))
                else:
                    merged.setdefault(key, value)
        return merged


_JSON_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}


def fits_with(check: SchemaCheck | None) -> Callable[[Any, Any], bool]:
    """Whether a value fits a part of the response's schema, by the check's own compiled rules."""
    if check is None:
        return shallow_fits

    def fits(value: Any, schema: Any) -> bool:
        try:
            return check.fits(value, schema)
        except Exception:  # a part that cannot be compiled alone: judge by type and enum
            return shallow_fits(value, schema)

    return fits


def shallow_fits(value: Any, schema: Any) -> bool:
    """Type and enum only: enough to refuse the usual wrong examples."""
    if not isinstance(schema, dict):
        return True
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        return False
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(kinds, list):
        return True
    return any(_is_type(value, kind) for kind in kinds)


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = _JSON_TYPES.get(kind)
    return expected is None or (isinstance(value, expected) and not (expected is not bool and isinstance(value, bool)))


_RECURSION_MARK = "urn:odm-dyn:document"


def _ref_key(ref: str) -> str:
    return "#" + ref.split("#", 1)[1] if "#" in ref else ref


def _skipped(schema: Any, depth: int, seen: tuple[str, ...]) -> bool:
    """Optional properties left out: writeOnly ones, recursive ones, and all of them deep down."""
    if not isinstance(schema, dict):
        return False
    ref = schema.get("$ref")
    recursive = isinstance(ref, str) and (ref.startswith(_RECURSION_MARK) or _ref_key(ref) in seen)
    return bool(schema.get("writeOnly")) or recursive or depth >= MAX_DEPTH


def _given_values(schema: dict[str, Any], variant: int) -> list[Any]:
    """Values the schema itself names, best first: const, example(s), enum, default."""
    found = [schema["const"]] if "const" in schema else []
    if variant == 0:
        found += [schema["example"]] if "example" in schema else []
        found += schema["examples"][:1] if isinstance(schema.get("examples"), list) else []
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        found.append(schema["enum"][variant % len(schema["enum"])])
    if "default" in schema and variant == 0:
        found.append(schema["default"])
    return found


def _without(schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != key}


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if kinds else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _integer(schema: dict[str, Any], variant: int) -> int:
    # int64 values beyond 32 bits show whether a client keeps them exact (epoch millis do).
    base = 1_700_000_000_000 if schema.get("format") == "int64" else 1
    return int(_bounded(schema, base + variant, step=1))


def _number(schema: dict[str, Any], variant: int) -> float:
    return float(_bounded(schema, 1.5 + variant, step=0.5))


def _bounded(schema: dict[str, Any], value: float, step: float) -> float:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema["exclusiveMinimum"], bool):
        low = schema["exclusiveMinimum"] + step
    elif schema.get("exclusiveMinimum") is True and low is not None:
        low = low + step  # OpenAPI 3.0's boolean form
    if isinstance(schema.get("exclusiveMaximum"), (int, float)) and not isinstance(schema["exclusiveMaximum"], bool):
        high = schema["exclusiveMaximum"] - step
    elif schema.get("exclusiveMaximum") is True and high is not None:
        high = high - step
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    multiple = schema.get("multipleOf")
    if multiple:
        value = (value // multiple) * multiple
        if low is not None and value < low:
            value += multiple
    return value


def _string(schema: dict[str, Any], variant: int) -> str:
    text = _STRING_FORMATS.get(schema.get("format", ""), "example")
    if variant:
        text = _vary(text, schema.get("format"), variant)
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and not _matches(pattern, text):
        text = from_pattern(pattern, variant) or text
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(text) < low:
        text += "x" * (low - len(text))
    if high is not None:
        text = text[: int(high)]
    return text


def _vary(text: str, format: str | None, variant: int) -> str:
    """A different value of the same format, so that items of a uniqueItems array differ."""
    if format == "uuid":
        return f"{text[:-12]}{variant:012d}"
    if format in ("email", "idn-email"):
        return text.replace("@", f"{variant}@")
    if format in ("uri", "url", "iri", "uri-reference", "iri-reference", "json-pointer"):
        return f"{text}{variant}"
    if format in _STRING_FORMATS:
        return text  # dates, times, addresses: one is enough; other fields tell items apart
    return f"{text}-{variant}"


# --------------------------------------------------------------------------- patterns

try:  # the regex parser moved in Python 3.11; importing the old name there warns
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse

_CATEGORY_CHARS = {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " "}


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True  # a pattern Python cannot read is not ours to enforce


def from_pattern(pattern: str, variant: int = 0) -> str | None:
    """A shortest string that the regular expression matches (``None`` if it cannot tell)."""
    try:
        text = _emit(_sre_parse.parse(pattern), variant)
    except (re.error, ValueError, KeyError, TypeError, IndexError):
        return None
    return text if _matches(pattern, text) else None


def _emit(parsed: Any, variant: int) -> str:
    out = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("a")
        elif name == "NOT_LITERAL":
            out.append("a" if arg != ord("a") else "b")
        elif name == "IN":
            out.append(_one_of(arg, variant))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, inner = arg
            out.append(_emit(inner, variant) * max(low, 1 if variant else low))
        elif name == "SUBPATTERN":
            out.append(_emit(arg[-1], variant))
        elif name == "BRANCH":
            out.append(_emit(arg[1][0], variant))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise ValueError(name)
    return "".join(out)


def _one_of(items: Any, variant: int) -> str:
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            return "~" if variant % 2 == 0 else "!"
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(min(arg[0] + variant, arg[1]))
        if name == "CATEGORY":
            return _CATEGORY_CHARS.get(str(arg), "a")
    raise ValueError("empty class")
