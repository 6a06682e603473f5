"""Schema validation, compiled once per schema with jsonschema-rs (at load, or at first use).

Each parameter, body and response schema is compiled once into a :class:`SchemaCheck`: its
local ``$ref``s are inlined, ``readOnly``/``writeOnly`` are applied for the direction (a
readOnly property is never required in a request, a writeOnly one never in a response; either
is accepted when sent, so a model read from the server can be sent back as it is), the result is
rewritten as plain JSON Schema 2020-12 (:mod:`odm_dyn.api.normalise`) and compiled by
jsonschema-rs. The per-call path only runs these compiled validators: no spec walking, no
``$ref`` resolution, no compiling.

A document that comes from the spec cache compiled once already (an entry is dropped when its
schemas do not compile: see ``api.load``), so its checks are *deferred*: each one is rewritten and
compiled on its first use, which then replaces the stand-in for good, and the calls after it run
exactly what an eager check runs. A process that loads the whole vendor API and calls a few of
its operations compiles those few schemas, not 244 operations' worth.

Error paths and kinds come from jsonschema-rs; the messages name the rule and the value's type,
never the value (it may be a secret).

``openapi_core_errors`` is the slow, independent cross-check that runs
openapi-core's own request and response validators (used by tests and ``odm_dyn.testing``).
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Any, Callable

from ..errors import SpecError
from ..spec.document import Document
from ..spec.pointers import resolve_pointer
from .normalise import DOC_URI, INTEGER_BOUNDS, LITERAL_KEYWORDS, SCHEMA_MAPS, Normaliser, is_discriminator_path
from .sharing import canonical_text

REQUEST = "request"
RESPONSE = "response"
MODES = ("strict", "warn", "off")


# Not a dataclass (a client's start must not import them: tests/test_perf_guards.py), nor a
# named tuple (its equality would take in ``value``, and a subclass could not add ``where``).
class Violation:
    """One broken rule: where (a JSON path), which keyword, and a message naming the value's type.

    ``value`` is the offending instance, for code that needs it; it is left out of ``repr`` and
    of comparisons, as it may hold a secret.
    """

    __slots__ = ("path", "rule", "message", "value")
    path: str
    rule: str
    message: str
    value: Any

    def __init__(self, path: str, rule: str, message: str, *, value: Any = None) -> None:
        for name, given in (("path", path), ("rule", rule), ("message", message), ("value", value)):
            object.__setattr__(self, name, given)  # past __setattr__: a violation never changes

    def __setattr__(self, name: str, value: Any) -> None:  # it hashes by its fields
        raise AttributeError(f"{type(self).__name__} is immutable: cannot assign to {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def __setstate__(self, state: tuple[None, dict[str, Any]]) -> None:  # pickle, copy: (no dict, slots)
        for name, given in state[1].items():
            object.__setattr__(self, name, given)

    def _compared(self) -> tuple[Any, ...]:  # what equality and the hash look at (never ``value``)
        return (self.path, self.rule, self.message)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, rule={self.rule!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _is_byte(value: str) -> bool:
    try:
        b64decode(value.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):  # a non-ASCII character is a UnicodeEncodeError, a ValueError
        return False
    return True


def _any_string(_value: str) -> bool:
    return True


# OpenAPI's own formats (custom formats only ever see strings; int32/int64 bounds are in the
# schema, see normalise). date-time, date, email, uuid, ... are jsonschema-rs's own checks.
FORMATS: dict[str, Callable[[str], bool]] = {
    "byte": _is_byte,
    **dict.fromkeys(("binary", "password", "int32", "int64", "float", "double"), _any_string),
}


def compile_validator(schema: Any) -> Any:
    """The jsonschema-rs validator of one normalised schema (the only place one is compiled)."""
    import jsonschema_rs  # its import (decimal, email, socket...) waits for the first schema compiled

    return jsonschema_rs.Draft202012Validator(schema, formats=FORMATS, validate_formats=True, offline=True)


class SchemaCheck:
    """A compiled validator for one schema in one direction.

    ``schema`` is the inlined OpenAPI schema (what example generators walk); ``json_schema`` its
    2020-12 rewrite, which ``validator`` was compiled from. ``part_validator`` compiles a part of
    ``schema`` on demand (the embedded server's example generator asks whether a part fits).
    """

    __slots__ = ("_schema", "_json_schema", "_validator", "_part_validator")

    def __init__(
        self, schema: Any, json_schema: Any, validator: Any, part_validator: Callable[[Any], Any] | None = None
    ):
        self._schema = schema
        self._json_schema = json_schema
        self._validator = validator  # or a _Deferred, until the first use compiles it
        self._part_validator = part_validator

    @property
    def schema(self) -> Any:
        deferred = self._validator
        return deferred.inlined() if isinstance(deferred, _Deferred) else self._schema

    @property
    def json_schema(self) -> Any:
        if isinstance(self._validator, _Deferred):
            self._validator.compile()
        return self._json_schema

    def is_valid(self, value: Any) -> bool:
        try:
            return bool(self._validator.is_valid(value))
        except ValueError:  # not a JSON value: judged by violations
            return not self.violations(value)

    def violations(self, value: Any, root: str = "$") -> list[Violation]:
        """Every broken rule (empty when the value is valid); fast when it is."""
        try:
            if self._validator.is_valid(value):  # the usual case, without a further call
                return []
            return self._judge(value, root)
        except ValueError:  # jsonschema-rs takes JSON data only
            found = _not_json(value, root)
            if found:
                return found
        try:
            return self._judge(_as_json(value), root)
        except ValueError as exc:
            return [Violation(root, "type", f"breaks 'type': not JSON data ({exc})", value=value)]

    def _judge(self, value: Any, root: str) -> list[Violation]:
        if self._validator.is_valid(value):
            return []
        errors = sorted(self._validator.iter_errors(value), key=lambda e: [str(p) for p in e.instance_path])
        return [_violation(error, root) for error in errors]

    def fits(self, value: Any, part: Any) -> bool:
        """Whether ``value`` fits ``part``, a piece of ``schema`` (each distinct part compiled once)."""
        if self._part_validator is None:
            return not self.violations(value)
        try:
            return bool(self._part_validator(part).is_valid(value))
        except ValueError:
            return False


class _Deferred:
    """A deferred check's stand-in validator: compiles on first use and puts the real one in its place.

    The check's methods call ``self._validator.is_valid`` as they always do; the first such call
    lands here, inlines, rewrites and compiles the schema as written, and replaces the stand-in,
    so every later call is the eager path.
    """

    __slots__ = ("owner", "compiler", "written", "direction")

    def __init__(self, owner: SchemaCheck, compiler: SchemaCompiler, written: Any, direction: str):
        self.owner, self.compiler, self.written, self.direction = owner, compiler, written, direction

    @classmethod
    def check(cls, compiler: SchemaCompiler, written: Any, direction: str) -> SchemaCheck:
        """A check of ``written`` (the schema as the spec says it) that does its work on first use."""
        made = SchemaCheck(None, None, None, compiler.part_validator(direction))
        made._validator = cls(made, compiler, written, direction)
        return made

    def inlined(self) -> Any:
        owner = self.owner
        if owner._schema is None:
            owner._schema = self.compiler.inline(self.written, self.direction)
        return owner._schema

    def compile(self) -> Any:
        """The check's validator (a schema that does not compile raises ``SpecError``, as at load)."""
        owner = self.owner
        if owner._validator is self:  # not yet compiled by another thread
            json_schema = self.compiler.json_schema(self.inlined(), self.direction)
            validator = self.compiler._compile(json_schema)  # one per distinct rewritten schema
            owner._json_schema, owner._validator = json_schema, validator
        return owner._validator

    def is_valid(self, value: Any) -> bool:
        return bool(self.compile().is_valid(value))

    def iter_errors(self, value: Any) -> Any:
        return self.compile().iter_errors(value)


def _not_json(value: Any, root: str) -> list[Violation]:
    """A violation for the first part of ``value`` that is not JSON data, if any (bytes, a set, ...)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                message = f"breaks 'type': got a key of type {type(key).__name__}; JSON keys are strings"
                return [Violation(root, "type", message, value=key)]
            found = _not_json(item, f"{root}.{key}")
            if found:
                return found
        return []
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _not_json(item, f"{root}[{index}]")
            if found:
                return found
        return []
    if value is None or isinstance(value, (str, int, float)):
        return []
    message = f"breaks 'type': got a {type(value).__name__}, which is not JSON data"
    return [Violation(root, "type", message, value=value)]


def _as_json(value: Any) -> Any:
    """JSON data that jsonschema-rs still refuses (a str or int subclass, say) as the plain type."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    for plain in (bool, str, int, float):
        if isinstance(value, plain):
            return plain(value)
    return value


def _violation(error: Any, root: str) -> Violation:
    path = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
    rule = error.kind.name if error.kind.name != "falseSchema" else _false_rule(error.schema_path)
    details = error.kind.as_dict()
    instance = error.instance
    got = type(instance).__name__ if instance is not None else "null"
    if rule in ("minimum", "maximum") and _integer_format(details.get("limit")):
        rule, details = "format", {"format": _integer_format(details.get("limit"))}
    if rule == "enum" and is_discriminator_path(list(error.schema_path)):
        rule = "discriminator"
        message = f"breaks 'discriminator': got a {got}, allowed: {', '.join(map(str, details['options']))}"
    elif rule == "enum":
        message = f"breaks 'enum': got a {got}, allowed: {', '.join(map(str, details['options']))}"
    elif rule == "type":
        expected = " or ".join(sorted(details["types"], key=lambda name: name == "null"))  # null last
        message = f"breaks 'type': expected {expected}, got {_type_name(instance)}"
    elif rule == "required":
        message = f"breaks 'required': {details['property']!r} is missing"
    elif rule == "format":
        message = f"breaks 'format': not a valid {details['format']} ({got})"
    elif error.kind.name == "additionalProperties":
        message = f"breaks 'additionalProperties': {', '.join(map(repr, details['unexpected']))} not allowed"
    elif rule in ("oneOf", "anyOf", "not") or error.kind.name == "falseSchema":
        message = f"breaks {rule!r}: a {got} {_combinator_text(type(error.kind).__name__)}"
    else:
        detail = _detail(details)
        message = f"breaks {rule!r} ({detail!r:.60}) with a {got}" if detail != "" else f"breaks {rule!r} with a {got}"
    return Violation(path=path, rule=rule, message=message, value=instance)


def _false_rule(schema_path: list[Any]) -> str:
    """The keyword whose ``false`` schema refused a value (``additionalProperties: false``, say)."""
    if len(schema_path) >= 2 and schema_path[-2] in ("properties", "patternProperties"):
        return str(schema_path[-2])
    return str(schema_path[-1]) if schema_path and isinstance(schema_path[-1], str) else "false"


def _integer_format(limit: Any) -> str | None:
    """``int32`` / ``int64`` when a bound is one of theirs (normalise says those formats as bounds)."""
    for name, bounds in INTEGER_BOUNDS.items():
        if limit in bounds and not isinstance(limit, bool):
            return name
    return None


def _combinator_text(kind: str) -> str:
    """What a value did wrong, by the kind of jsonschema-rs error."""
    return {
        "OneOfNotValid": "that matches none of the alternatives",
        "OneOfMultipleValid": "that matches more than one of the alternatives",
        "AnyOf": "that matches none of the alternatives",
        "Not": "that matches a schema it must not",
    }.get(kind, "where the schema allows nothing")


def _detail(details: dict[str, Any]) -> Any:
    """The schema's side of a broken rule (its limit, pattern, ...), without error objects."""
    values = [v for v in details.values() if not isinstance(v, list) or not v or not isinstance(v[0], list)]
    return values[0] if len(values) == 1 else (values or "")


def _type_name(value: Any) -> str:
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


class SchemaCompiler:
    """Compiles the schemas of one document; shares work between equal references.

    ``deferred``: each check compiles on its first use instead of now (a document that compiled
    before, from the cache; see the module's docstring).
    """

    def __init__(self, document: Document, *, deferred: bool = False):
        self.document = document
        self.deferred = deferred
        self._inlined: dict[tuple[str, str], Any] = {}
        self._checks: dict[tuple[int, str], SchemaCheck] = {}
        self._by_inlined: dict[tuple[int, str], SchemaCheck] = {}
        self._by_text: dict[tuple[str, str], SchemaCheck] = {}  # (canonical JSON of a schema as written, direction)
        self._compiled: dict[str, Any] = {}  # canonical JSON of a normalised schema → its validator
        self._parts: dict[tuple[str, str], Any] = {}  # (canonical JSON of a piece, direction) → validator

    def check(self, schema: dict[str, Any], direction: str) -> SchemaCheck:
        key = (id(schema), direction)
        if key not in self._checks:
            if self.deferred:  # inlined, rewritten and compiled on first use; equal ones share a validator then
                self._checks[key] = _Deferred.check(self, schema, direction)
                return self._checks[key]
            # Equal schemas of one document (hundreds of ``{type: string}`` parameters, the same
            # ``$ref`` written in many places) inline, normalise and check alike: one check each.
            text = (canonical_text(schema), direction)
            found = self._by_text.get(text)
            if found is None:
                inlined = self.inline(schema, direction)
                # Parameters and bodies that refer to one schema share its inlined form, hence its check.
                found = self._by_inlined.get((id(inlined), direction))
                if found is None:
                    found = self._by_inlined[(id(inlined), direction)] = self._new_check(inlined, direction)
                self._by_text[text] = found
            self._checks[key] = found
        return self._checks[key]

    def _new_check(self, inlined: Any, direction: str) -> SchemaCheck:
        json_schema = self.json_schema(inlined, direction)
        return SchemaCheck(inlined, json_schema, self._compile(json_schema), self.part_validator(direction))

    def part_validator(self, direction: str) -> Callable[[Any], Any]:
        return lambda part: self._part_validator(part, direction)

    def _part_validator(self, part: Any, direction: str) -> Any:
        """The validator of a piece of a schema (example generators ask), by the piece's content."""
        key = (canonical_text(part), direction)
        if key not in self._parts:
            self._parts[key] = self._compile(self.json_schema(self.inline(part, direction), direction))
        return self._parts[key]

    def json_schema(self, inlined: Any, direction: str) -> Any:
        """The 2020-12 rewrite of an inlined schema, with the ``$defs`` its references need."""
        return Normaliser(self.document.version, lambda pointer: self._target(pointer, direction)).root(inlined)

    def _target(self, pointer: str, direction: str) -> Any:
        found = self._inlined.get(("#" + pointer, direction))
        return found if found is not None else self.inline({"$ref": "#" + pointer}, direction)

    def _compile(self, json_schema: Any) -> Any:
        """One validator per distinct schema: many parameters say ``{type: string}``."""
        text = canonical_text(json_schema)
        if text not in self._compiled:
            self._compiled[text] = self._compile_new(json_schema)
        return self._compiled[text]

    def _compile_new(self, json_schema: Any) -> Any:
        import jsonschema_rs

        try:
            return compile_validator(json_schema)
        except (ValueError, jsonschema_rs.ReferencingError) as exc:  # a bad pattern, a dangling reference
            raise SpecError(f"a schema cannot be compiled: {str(exc).splitlines()[0]}") from exc

    def inline(self, schema: Any, direction: str, stack: tuple[str, ...] = ()) -> Any:
        """The schema with local ``$ref``s replaced by their targets (recursion kept as refs)."""
        if isinstance(schema, list):
            return [self.inline(item, direction, stack) for item in schema]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            if ref in stack:
                return {"$ref": DOC_URI + ref}
            key = (ref, direction)
            if key not in self._inlined:
                target = resolve_pointer(self.document.data, ref[1:])
                self._inlined[key] = self.inline(target, direction, stack + (ref,))
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            if not siblings:
                return self._inlined[key]
            return {"allOf": [self._inlined[key]], **self.inline(siblings, direction, stack)}
        out = {k: self._inline_keyword(k, v, direction, stack) for k, v in schema.items()}
        if isinstance(schema.get("discriminator"), dict):
            out["discriminator"] = _absolute_mapping(schema)
        _apply_direction(out, direction)
        return out

    def _inline_keyword(self, keyword: str, value: Any, direction: str, stack: tuple[str, ...]) -> Any:
        """One keyword's value, inlined: literals as they are, each schema of a name map by itself."""
        if keyword in LITERAL_KEYWORDS:
            return value
        if keyword in SCHEMA_MAPS and isinstance(value, dict):
            return {name: self.inline(schema, direction, stack) for name, schema in value.items()}
        return self.inline(value, direction, stack)


def _absolute_mapping(schema: dict[str, Any]) -> dict[str, Any]:
    """The discriminator with every mapping (explicit, and implicit by schema name) made absolute.

    The inlined schema is no longer the document, so a mapping names its target by an absolute
    reference into the document, which the normaliser turns into one of the root's ``$defs``.
    """
    discriminator = dict(schema["discriminator"])
    mapping = {}
    for choice in schema.get("oneOf") or schema.get("anyOf") or []:
        ref = choice.get("$ref") if isinstance(choice, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            mapping[ref.rsplit("/", 1)[-1]] = DOC_URI + ref
    for value, ref in (discriminator.get("mapping") or {}).items():
        if isinstance(ref, str) and ref.startswith(DOC_URI):
            mapping[value] = ref  # already absolute: a piece of an inlined schema, inlined again
        elif isinstance(ref, str):
            mapping[value] = DOC_URI + ref if ref.startswith("#") else DOC_URI + "#/components/schemas/" + ref
    discriminator["mapping"] = mapping
    return discriminator


def _apply_direction(schema: dict[str, Any], direction: str) -> None:
    """Drop from ``required`` what the other direction owns (readOnly / writeOnly).

    The properties may be declared beside ``required`` or in the schema's ``allOf`` parts (a
    part may say ``required: [id]`` of a readOnly ``id`` its base declares). Parts are shared
    between schemas, so a part that changes is replaced by a copy.
    """
    owned = "readOnly" if direction == REQUEST else "writeOnly"
    names = _owned_properties(schema, owned)
    if not names:
        return
    _drop_required(schema, names)
    parts = schema.get("allOf")
    if isinstance(parts, list):
        schema["allOf"] = [_without_required(part, names) for part in parts]


def _owned_properties(schema: Any, owned: str, depth: int = 0) -> set[str]:
    """Names of the properties marked ``owned`` in a schema and, through ``allOf``, its parts."""
    if not isinstance(schema, dict) or depth > 16:
        return set()
    properties = schema.get("properties")
    names = (
        {n for n, p in properties.items() if isinstance(p, dict) and p.get(owned)}
        if isinstance(properties, dict)
        else set()
    )
    for part in schema.get("allOf") or []:
        names |= _owned_properties(part, owned, depth + 1)
    return names


def _drop_required(schema: dict[str, Any], names: set[str]) -> None:
    required = schema.get("required")
    if isinstance(required, list) and names.intersection(required):
        schema["required"] = [name for name in required if name not in names]


def _without_required(part: Any, names: set[str]) -> Any:
    if isinstance(part, dict) and isinstance(part.get("required"), list) and names.intersection(part["required"]):
        part = dict(part)
        _drop_required(part, names)
    return part


def check_mode(name: str, mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"{name} must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


# --------------------------------------------------------------------------- cross-check


def openapi_core_errors(document: Document, request: Any, response: Any | None = None) -> list[str]:
    """Validate one exchange with openapi-core's own validators (slow; not on the call path).

    ``request`` and ``response`` are openapi-core protocol objects (for example its
    ``RequestsOpenAPIRequest`` / ``RequestsOpenAPIResponse`` wrappers).
    """
    from openapi_core import OpenAPI

    api = OpenAPI.from_dict(document.data)
    errors = [str(e) for e in _iter_errors(api.validate_request, request)]
    if response is not None:
        errors += [str(e) for e in _iter_errors(lambda: api.validate_response(request, response))]
    return errors


def _iter_errors(call: Callable[..., Any], *args: Any) -> list[Exception]:
    try:
        call(*args)
    except Exception as exc:  # openapi-core raises a tree of its own errors
        return [exc]
    return []
