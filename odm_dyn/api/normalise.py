"""OpenAPI schemas rewritten as plain JSON Schema 2020-12, so that one standard validator runs them.

The input is a schema as :class:`~odm_dyn.api.schemas.SchemaCompiler` inlines it: local
``$ref``s replaced by their targets, ``readOnly``/``writeOnly`` already applied to ``required``
for the direction, recursion and discriminator mappings left as absolute references into the
document (``urn:odm-dyn:document#/...``). The output keeps every rule and says it in 2020-12:

- OAS 3.0 ``nullable: true`` beside a ``type`` becomes a type list with ``"null"`` (and ``null``
  joins the ``enum``, if any); without ``nullable`` a 3.0 ``type`` refuses ``null`` as before;
- OAS 3.0 boolean ``exclusiveMinimum`` / ``exclusiveMaximum`` become the numeric 2020-12 forms;
- ``format: int32`` / ``int64`` add their bounds (custom formats only ever see strings);
- a ``discriminator`` dispatches on its property, as openapi-schema-validator does: the object
  must carry the property, and only the schema its value maps to is checked;
- ``example``, ``xml``, ``externalDocs`` and ``nullable`` are dropped;
- every reference into the document becomes ``#/$defs/<n>`` of the root, so recursion stays.

Invariant: the output never refers outside itself, so a validator compiled from it needs no
registry and never fetches anything.
"""

from __future__ import annotations

from typing import Any, Callable

DOC_URI = "urn:odm-dyn:document"

# Values that are data or names, not schemas: copied as they are.
LITERAL_KEYWORDS = frozenset({"example", "examples", "enum", "const", "default", "discriminator", "required"})
# Values that map names (of properties, patterns, definitions) to schemas: a name is never a keyword.
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_DROPPED = frozenset({"example", "xml", "externalDocs", "nullable", "discriminator"})
# Integer formats as the bounds openapi-schema-validator gives them (inclusive).
INTEGER_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# A discriminating property must have a value openapi-schema-validator counts as present.
_ABSENT_VALUES: list[Any] = [None, "", 0, False, [], {}]


class Normaliser:
    """Rewrites the schemas of one check; collects the ``$defs`` they refer to.

    ``target(pointer)`` gives the inlined schema a document pointer names (for the direction
    of the check); each target is rewritten once per root, however often it is referenced.
    """

    def __init__(self, version: str, target: Callable[[str], Any]):
        self.oas30 = version == "3.0"
        self._target = target
        self._names: dict[str, str] = {}  # document pointer → name in $defs
        self.defs: dict[str, Any] = {}
        self._done: dict[int, Any] = {}  # id of an inlined node → its rewrite (shared subtrees)

    def root(self, schema: Any) -> Any:
        """The whole 2020-12 schema for one inlined schema, with its ``$defs``."""
        out = self.node(schema)
        if self.defs:
            out = {"allOf": [out]} if not isinstance(out, dict) else dict(out)
            out["$defs"] = {**(out.get("$defs") or {}), **self.defs}
        return out

    def node(self, schema: Any) -> Any:
        if isinstance(schema, list):
            return [self.node(item) for item in schema]
        if not isinstance(schema, dict):
            return schema
        done = self._done.get(id(schema))
        if done is None:
            done = self._done[id(schema)] = self._rewrite(schema)
        return done

    def _rewrite(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(DOC_URI + "#"):
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            beside = self._rewrite(siblings) if siblings else {}
            return {**beside, "$ref": self.reference(ref[len(DOC_URI) + 1 :])}
        out: dict[str, Any] = {}
        for keyword, value in schema.items():
            if keyword in _DROPPED:
                continue
            if keyword in LITERAL_KEYWORDS:
                out[keyword] = value
            elif keyword in SCHEMA_MAPS and isinstance(value, dict):
                out[keyword] = {name: self.node(sub) for name, sub in value.items()}
            else:
                out[keyword] = self.node(value)
        if self.oas30:
            _oas30_nullable(schema, out)
            _oas30_exclusive(out)
        _integer_bounds(out)
        if isinstance(schema.get("discriminator"), dict):
            self._dispatch(schema["discriminator"], out)
        return out

    def reference(self, pointer: str) -> str:
        """``#/$defs/<n>`` for a document pointer; the target is rewritten on first use."""
        name = self._names.get(pointer)
        if name is None:
            name = self._names[pointer] = f"odm-dyn-{len(self._names)}"
            self.defs[name] = True  # a placeholder while the target (which may refer to itself) is rewritten
            self.defs[name] = self.node(self._target(pointer))
        return "#/$defs/" + name

    def _dispatch(self, discriminator: dict[str, Any], out: dict[str, Any]) -> None:
        """Replace the alternatives by the discriminator's choice (openapi-schema-validator's reading)."""
        combined = [k for k in ("oneOf", "anyOf", "allOf") if isinstance(out.get(k), list)]
        name = discriminator.get("propertyName")
        given = discriminator.get("mapping") or {}
        mapping = {value: ref for value, ref in given.items() if isinstance(ref, str) and "#" in ref}
        if not combined or not isinstance(name, str) or not mapping:
            return  # nothing to choose from: the alternatives stay as they are
        for keyword in combined:
            del out[keyword]
        choices: list[Any] = [
            {"if": {"properties": {name: {"const": value}}}, "then": {"$ref": self.reference(ref.split("#", 1)[1])}}
            for value, ref in mapping.items()
        ]
        # The allowed values nest as DISCRIMINATOR_PATH says, so a violation of them is told
        # apart from a declared enum's (an unknown enum value may be accepted; a bad choice never).
        allowed = {"allOf": [{"not": {"enum": _ABSENT_VALUES}}, {"enum": list(mapping)}]}
        rule = {"type": "object", "required": [name], "properties": {name: allowed}}
        out["allOf"] = [rule, *choices]


def is_discriminator_path(schema_path: list[Any]) -> bool:
    """Whether a violation's schema path ends in the allowed values of a discriminator."""
    tail = [str(part) for part in schema_path[-7:]]
    return len(tail) == 7 and tail[:3] == ["allOf", "0", "properties"] and tail[4:] == ["allOf", "1", "enum"]


def _oas30_nullable(schema: dict[str, Any], out: dict[str, Any]) -> None:
    """3.0: ``null`` only where ``nullable: true`` stands beside a ``type``."""
    kind = out.get("type")
    if schema.get("nullable") is not True or not isinstance(kind, str):
        return
    out["type"] = [kind, "null"]
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]


def _oas30_exclusive(out: dict[str, Any]) -> None:
    """3.0's ``exclusiveMinimum: true`` qualifies ``minimum``; 2020-12's is the bound itself."""
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if not isinstance(flag, bool):
            continue
        del out[exclusive]
        if flag and bound in out:
            out[exclusive] = out.pop(bound)


def _integer_bounds(out: dict[str, Any]) -> None:
    """``int32`` / ``int64``: a custom format sees strings only, so the range is said as bounds."""
    bounds = INTEGER_BOUNDS.get(out.get("format"))  # type: ignore[arg-type]
    if bounds is not None:
        said = {"minimum": bounds[0], "maximum": bounds[1]}
        if said.keys() & out.keys() or "exclusiveMinimum" in out or "exclusiveMaximum" in out:
            out["allOf"] = [*(out.get("allOf") or []), said]  # the schema's own bounds stay beside
        else:
            out.update(said)
