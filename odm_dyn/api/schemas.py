"""Schema validation, compiled once per schema at load time.

openapi-core's stack supplies the OpenAPI dialects (openapi-schema-validator's OAS 3.0 and
3.1 validators and format checkers). Each parameter, body and response schema is compiled
once into a :class:`SchemaCheck`: its local ``$ref``s are inlined, ``readOnly``/``writeOnly``
are applied for the direction (a readOnly property is never required in a request, a
writeOnly one never in a response), and a jsonschema validator is built. The per-call path
only runs these checks: no spec walking, no ``$ref`` resolution.

``openapi_core_errors`` is the slow, independent cross-check that runs
openapi-core's own request and response validators (used by tests and ``odm_dyn.testing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..spec.document import Document
from ..spec.pointers import resolve_pointer
from .fastcheck import STATIC_DIALECTS, compile_for, compile_schema

REQUEST = "request"
RESPONSE = "response"
MODES = ("strict", "warn", "off")
_DOC_URI = "urn:odm-dyn:document"


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (a JSON path), which keyword, and the offending value's type.

    ``value`` is the offending value itself (keyword-only, so subclasses' positional fields stay
    where they were); it is never part of the message, which may be shown or logged.
    """

    path: str
    rule: str
    message: str
    value: Any = field(default=None, kw_only=True, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SchemaCheck:
    """A compiled validator for one schema in one direction.

    ``validator`` is a jsonschema validator, or a function making one on first need; ``fast``
    answers yes/no from closures (odm_dyn.fastcheck). Without ``fast``, ``make_fast`` (when
    given) makes such a function on the first call, from the dialect's own format checker. With
    a validator function and a fast check, a process that only meets valid values never imports
    the validator stack (openapi-schema-validator imports pydantic: 0.35 s).
    """

    __slots__ = ("schema", "_made", "_make", "_make_fast", "_is_valid")

    def __init__(
        self,
        schema: dict[str, Any],
        validator: Any,
        fast: Callable[[Any], bool] | None = None,
        make_fast: Callable[[], Callable[[Any], bool] | None] | None = None,
    ):
        self.schema = schema
        made = hasattr(validator, "iter_errors")
        self._made: Any = validator if made else None
        self._make: Callable[[], Any] | None = None if made else validator
        self._make_fast = make_fast
        self._is_valid: Callable[[Any], bool] = fast or (validator.is_valid if made else self._first_is_valid)

    @property
    def _validator(self) -> Any:
        if self._made is None:
            assert self._make is not None
            self._made = self._make()
        return self._made

    def _first_is_valid(self, value: Any) -> bool:
        # No closure without the dialect's own format checker: make one (once), else use the validator.
        fast = self._make_fast() if self._make_fast is not None else None
        self._is_valid = fast or self._validator.is_valid
        return self._is_valid(value)

    def violations(self, value: Any, root: str = "$") -> list[Violation]:
        """Every broken rule (empty when the value is valid); fast when it is."""
        if self._is_valid(value):
            return []
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        return [_violation(error, root) for error in errors]


def _violation(error: Any, root: str) -> Violation:
    path = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    rule = str(error.validator)
    got = type(error.instance).__name__ if error.instance is not None else "null"
    schema_value = error.validator_value
    if rule == "enum":
        message = f"breaks 'enum': got a {got}, allowed: {', '.join(map(str, schema_value))}"
    elif rule == "type":
        message = f"breaks 'type': expected {schema_value}, got {_type_name(error.instance)}"
    elif rule == "required":
        message = f"breaks 'required': {error.message.split(' is a required')[0]} is missing"
    elif rule == "format":
        message = f"breaks 'format': not a valid {schema_value} ({got})"
    else:
        message = f"breaks {rule!r} ({schema_value!r:.60}) with a {got}"
    return Violation(path=path, rule=rule, message=message, value=error.instance)


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
    """Compiles the schemas of one document; shares work between equal references."""

    def __init__(self, document: Document):
        self.document = document
        self._inlined: dict[tuple[str, str], Any] = {}
        self._checks: dict[tuple[int, str], SchemaCheck] = {}
        self._registry: Any = None

    def check(self, schema: dict[str, Any], direction: str) -> SchemaCheck:
        key = (id(schema), direction)
        if key not in self._checks:
            inlined = self.inline(schema, direction)
            # Closures from the static description of the dialect (no import of it); the
            # jsonschema validator is made when first needed.
            fast = compile_for(inlined, STATIC_DIALECTS[self.document.version])
            self._checks[key] = SchemaCheck(
                inlined, lambda: self._validator_for(inlined), fast, lambda: self._fast_check_for(inlined)
            )
        return self._checks[key]

    def _validator_for(self, inlined: dict[str, Any]) -> Any:
        """The jsonschema validator of the document's dialect (imports openapi-schema-validator)."""
        validator_class, format_checker = _dialect(self.document.version)
        kwargs: dict[str, Any] = {"format_checker": format_checker}
        if _has_ref(inlined):
            kwargs["registry"] = self._document_registry()
        return validator_class(inlined, **kwargs)

    def _fast_check_for(self, inlined: dict[str, Any]) -> Callable[[Any], bool] | None:
        """Closures from the real dialect and its format checker, when the schema compiles."""
        return compile_schema(inlined, *_dialect(self.document.version))

    def inline(self, schema: Any, direction: str, stack: tuple[str, ...] = ()) -> Any:
        """The schema with local ``$ref``s replaced by their targets (recursion kept as refs)."""
        if isinstance(schema, list):
            return [self.inline(item, direction, stack) for item in schema]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            if ref in stack:
                return {"$ref": _DOC_URI + ref}
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
        if keyword in _LITERAL_KEYWORDS:
            return value
        if keyword in _SCHEMA_MAPS and isinstance(value, dict):
            return {name: self.inline(schema, direction, stack) for name, schema in value.items()}
        return self.inline(value, direction, stack)

    def _document_registry(self) -> Any:
        if self._registry is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            resource = Resource.from_contents(self.document.data, default_specification=DRAFT202012)
            self._registry = Registry().with_resource(_DOC_URI, resource)
        return self._registry


# Values that are data or names, not schemas: never inlined.
_LITERAL_KEYWORDS = frozenset({"example", "examples", "enum", "const", "default", "discriminator"})
# Values that map names (of properties, patterns, definitions) to schemas: a name is never a keyword.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def _absolute_mapping(schema: dict[str, Any]) -> dict[str, Any]:
    """The discriminator with every mapping (explicit, and implicit by schema name) made absolute.

    The validator resolves a mapping against the schema it runs, which is inlined and no longer
    the document; absolute references resolve through the document registry instead.
    """
    discriminator = dict(schema["discriminator"])
    mapping = {}
    for choice in schema.get("oneOf") or schema.get("anyOf") or []:
        ref = choice.get("$ref") if isinstance(choice, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            mapping[ref.rsplit("/", 1)[-1]] = _DOC_URI + ref
    for value, ref in (discriminator.get("mapping") or {}).items():
        if isinstance(ref, str):
            mapping[value] = _DOC_URI + ref if ref.startswith("#") else _DOC_URI + "#/components/schemas/" + ref
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


def _has_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or "discriminator" in node or any(_has_ref(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_ref(v) for v in node)
    return False


def _dialect(version: str) -> tuple[Any, Any]:
    import openapi_schema_validator as oas

    if version == "3.0":
        return _oas30_by_direction(), oas.oas30_format_checker
    return oas.OAS31Validator, oas.oas31_format_checker


_OAS30: Any = None


def _oas30_by_direction() -> Any:
    """OAS 3.0's validator with JSON Schema's own ``required``.

    openapi-schema-validator's 3.0 ``required`` excuses readOnly *and* writeOnly properties
    in both directions; the compiler has already dropped from ``required`` what the direction
    excuses (``_apply_direction``), so the plain keyword gives the right answer each way.
    """
    global _OAS30
    if _OAS30 is None:
        import openapi_schema_validator as oas
        from jsonschema import Draft4Validator, validators

        _OAS30 = validators.extend(oas.OAS30Validator, {"required": Draft4Validator.VALIDATORS["required"]})
    return _OAS30


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
