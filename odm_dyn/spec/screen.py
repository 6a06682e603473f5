"""A fast verdict on a bundled document: certainly valid, or a question for openapi-spec-validator.

Importing openapi-spec-validator (jsonschema-path, pydantic, referencing come with it) and
walking a document through its resolving paths took most of a first load: about 0.4 s of the
vendor's 0.9 s (issue 19). The screen finds the same verdict on a valid document without it:

- the document against the OpenAPI meta-schema, compiled by jsonschema-rs as
  openapi-spec-validator compiles it (its own stage one, so the very same verdict);
- each Schema Object it would check against its dialect (JSON Schema draft 4 for OpenAPI 3.0,
  the OpenAPI 3.1 base dialect), through jsonschema-rs, formats checked;
- the rules its keyword stage adds, walked over the plain data: duplicate tag names, parameters
  and operationIds, path templates against their path parameters, an ``allOf``'s required
  properties, and each ``default`` against its schema.

The meta-schemas are read from the packages that ship them (openapi-spec-validator,
openapi-schema-validator, jsonschema-specifications) without importing those packages, and
compiled once per process.

Its rule: it may doubt a valid document (a slower load), never pass one openapi-spec-validator
would refuse. So it never explains: whatever it cannot vouch for — a fault, or something it does
not model (an ``$id``, a ``$schema`` of another dialect, a default under a schema with more
than plain keywords, a pattern Python's ``re`` refuses) — is a doubt, and ``check_document``
asks openapi-spec-validator, whose first fault is reported as before.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import string
from pathlib import Path
from typing import Any, Iterator

from .pointers import resolve_pointer

OAS31_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")  # the ones it walks
_EXACT_INTEGERS = 2**53  # beyond, jsonschema-rs may compare an integer as a float


class _Doubt(Exception):
    """Something the screen cannot vouch for: openapi-spec-validator decides."""


def certainly_valid(data: dict[str, Any], version: str) -> bool:
    """Whether openapi-spec-validator would find no fault in ``data``, an OpenAPI ``version``
    (``"3.0"`` or ``"3.1"``) document; ``False`` when in doubt, never ``True`` for a fault."""
    meta, dialect = openapi_meta_validator(version), dialect_validator(version)
    if meta is None or dialect is None:
        return False  # not where these package versions keep them: openapi-spec-validator alone
    try:
        if not meta.is_valid(data):
            return False
        _Screen(data, version, dialect).run()
    except (_Doubt, ValueError, RecursionError):  # ValueError: jsonschema-rs met a value JSON has not
        return False
    return True


# --------------------------------------------------------------------------- the meta-schemas


@functools.cache
def openapi_meta_validator(version: str) -> Any | None:
    """The OpenAPI meta-schema of ``version`` as openapi-spec-validator ships it, compiled as it
    compiles it when jsonschema-rs is installed; once per process. ``None``: not found."""
    schema = _package_json("openapi_spec_validator", f"resources/schemas/v{version}/schema.json")
    return None if schema is None else _compiled(schema)


@functools.cache
def dialect_validator(version: str) -> Any | None:
    """What a Schema Object is checked against, formats checked: JSON Schema draft 4's
    meta-schema for OpenAPI 3.0 (openapi-schema-validator's OAS30Validator checks with it), the
    OpenAPI 3.1 base dialect and its vocabulary for 3.1; once per process. ``None``: not found."""
    if version == "3.0":
        draft4 = _package_json("jsonschema_specifications", "schemas/draft4/metaschema.json")
        return None if draft4 is None else _compiled(draft4, draft4=True)
    dialect = _package_json("openapi_schema_validator", "schemas/oas3.1/metaschema.json")
    vocabulary = _package_json("openapi_schema_validator", "schemas/oas3.1/vocabularies/base")
    if not isinstance(dialect, dict) or not isinstance(vocabulary, dict) or dialect.get("$id") != OAS31_DIALECT:
        return None

    def retrieve(uri: str) -> Any:
        if uri.rstrip("#") == vocabulary.get("$id"):
            return vocabulary
        raise ValueError(f"no such meta-schema here: {uri}")

    return _compiled(dialect, retrieve=retrieve)


def _compiled(schema: Any, *, draft4: bool = False, retrieve: Any = None) -> Any | None:
    """A meta-schema compiled by jsonschema-rs (``None`` if it cannot be)."""
    import jsonschema_rs

    try:
        if draft4:
            return jsonschema_rs.Draft4Validator(schema, validate_formats=True)
        if retrieve is not None:
            return jsonschema_rs.validator_for(schema, retriever=retrieve, validate_formats=True)
        return jsonschema_rs.validator_cls_for(schema)(schema)
    except (ValueError, jsonschema_rs.ReferencingError):
        return None


def _package_json(package: str, relative: str) -> Any | None:
    """A JSON file a package ships, read without importing the package: importing
    openapi-spec-validator costs what the screen saves."""
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    for folder in (found.submodule_search_locations or []) if found is not None else []:
        try:
            return json.loads((Path(folder) / relative).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


# --------------------------------------------------------------------------- the walk


class _Screen:
    """One document's walk, in the order of openapi-spec-validator's keyword stage."""

    def __init__(self, data: dict[str, Any], version: str, dialect: Any) -> None:
        self.data, self.version, self.dialect = data, version, dialect
        self.meta_checked: set[int] = set()  # by id(), as openapi-spec-validator keeps them
        self.visited: set[int] = set()
        self.operation_ids: set[Any] = set()

    def run(self) -> None:
        _scan(self.data)
        if self.version != "3.0" and self.data.get("jsonSchemaDialect", OAS31_DIALECT) != OAS31_DIALECT:
            raise _Doubt
        if "tags" in self.data:
            self.tags(self.data["tags"])
        if "paths" in self.data:
            for url, item in self.mapping(self.data["paths"]).items():
                self.path_item(url, self.mapping(item))
        components = self.resolve(self.data.get("components"))
        if isinstance(components, dict) and "schemas" in components:
            for schema in self.mapping(components["schemas"]).values():
                self.schema(schema)

    def resolve(self, node: Any) -> Any:
        """The node a local ``$ref`` names (what openapi-spec-validator's paths read there)."""
        for _ in range(64):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            ref = node["$ref"]
            if not (ref == "#" or ref.startswith("#/")) or "%" in ref:
                raise _Doubt  # not a plain local pointer: left to the real resolver
            try:
                node = resolve_pointer(self.data, ref[1:])
            except KeyError:
                raise _Doubt from None
        raise _Doubt  # a chain of references this long is a loop

    def mapping(self, node: Any) -> dict[str, Any]:
        found = self.resolve(node)
        if not isinstance(found, dict):
            raise _Doubt
        return found

    def sequence(self, node: Any) -> list[Any]:
        found = self.resolve(node)
        if not isinstance(found, list):
            raise _Doubt
        return found

    def tags(self, node: Any) -> None:
        names = [self.mapping(tag).get("name") for tag in self.sequence(node)]
        if not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
            raise _Doubt

    def path_item(self, url: str, item: dict[str, Any]) -> None:
        shared = self.parameters(item["parameters"]) if "parameters" in item else []
        for name, operation in item.items():
            if name in _OPERATIONS:
                self.operation(url, self.mapping(operation), shared)

    def operation(self, url: str, operation: dict[str, Any], shared: list[dict[str, Any]]) -> None:
        op_id = operation.get("operationId")
        if op_id is not None:
            if not isinstance(op_id, str) or op_id in self.operation_ids:
                raise _Doubt
            self.operation_ids.add(op_id)
        if "responses" in operation:
            self.responses(operation["responses"])
        own = self.parameters(operation["parameters"]) if "parameters" in operation else []
        declared = {param["name"] for param in [*own, *shared] if param["in"] == "path"}
        try:
            in_template = {field for _, field, _, _ in string.Formatter().parse(url) if field}
        except ValueError:
            raise _Doubt from None
        if declared != in_template:
            raise _Doubt

    def parameters(self, node: Any) -> list[dict[str, Any]]:
        params = [self.mapping(param) for param in self.sequence(node)]
        keys = [(param.get("name"), param.get("in")) for param in params]
        if not all(isinstance(name, str) and isinstance(where, str) for name, where in keys):
            raise _Doubt
        if len(set(keys)) != len(keys):
            raise _Doubt
        for param in params:
            if "schema" in param:
                self.schema(param["schema"])
        return params

    def responses(self, node: Any) -> None:
        for response in self.mapping(node).values():
            response = self.resolve(response)
            if not (isinstance(response, dict) and "content" in response):
                continue
            for media in self.mapping(response["content"]).values():
                media = self.resolve(media)
                if isinstance(media, dict) and "schema" in media:
                    self.schema(media["schema"])

    # ----------------------------------------------------------------------- schemas

    def schema(self, node: Any) -> None:
        """A Schema Object as openapi-spec-validator's schema keyword sees it: checked against
        its dialect, then every schema below it walked (once each) for its defaults."""
        top = self.resolve(node)
        if not isinstance(top, (dict, bool)):
            raise _Doubt
        if id(top) not in self.meta_checked:
            self.meta_checked.add(id(top))
            self.meta_check(top)
        if isinstance(top, dict) and "allOf" in top:
            self.required_of_all_of(top)
        stack = [top]
        while stack:
            value = self.resolve(stack.pop())
            if not isinstance(value, (dict, bool)):
                raise _Doubt
            if isinstance(value, bool) or id(value) in self.visited:
                continue
            self.visited.add(id(value))
            stack.extend(self.subschemas(value))
            if "default" in value:
                self.default(value)

    def meta_check(self, schema: dict[str, Any] | bool) -> None:
        if self.version != "3.0" and isinstance(schema, dict) and schema.get("$schema", OAS31_DIALECT) != OAS31_DIALECT:
            raise _Doubt  # another dialect: openapi-spec-validator knows which it accepts
        if not self.dialect.is_valid(schema):
            raise _Doubt

    def subschemas(self, schema: dict[str, Any]) -> Iterator[Any]:
        """The schemas openapi-spec-validator walks into: allOf, anyOf, oneOf, not, items, properties."""
        for key in ("allOf", "anyOf", "oneOf"):
            if key in schema:
                yield from self.sequence(schema[key])
        for key in ("not", "items"):
            if key in schema:
                yield schema[key]
        if "properties" in schema:
            yield from self.mapping(schema["properties"]).values()

    def required_of_all_of(self, schema: dict[str, Any]) -> None:
        """Every required property of a schema made with ``allOf`` is defined somewhere in it."""
        required = (self.resolve(schema["required"]) if "required" in schema else None) or []
        if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
            raise _Doubt
        defined = set(self.mapping(schema["properties"])) if "properties" in schema else set()
        for part in self.sequence(schema["allOf"]):
            defined |= self.properties_of(part, frozenset())
        if set(required) - defined:
            raise _Doubt

    def properties_of(self, node: Any, within: frozenset[int]) -> set[str]:
        """The property names a schema defines, through allOf, anyOf, oneOf, items and not."""
        schema = self.resolve(node)
        if not isinstance(schema, dict):
            return set()
        if id(schema) in within:
            raise _Doubt  # a loop: openapi-spec-validator would follow it until its stack ends
        names = set(self.mapping(schema["properties"])) if "properties" in schema else set()
        inner = within | {id(schema)}
        for key in ("allOf", "anyOf", "oneOf"):
            for part in self.sequence(schema[key]) if key in schema else []:
                names |= self.properties_of(part, inner)
        for key in ("items", "not"):
            if key in schema:
                names |= self.properties_of(schema[key], inner)
        return names

    def default(self, schema: dict[str, Any]) -> None:
        value = schema["default"]
        if value is None and schema.get("nullable") is True:
            return  # openapi-spec-validator does not check this one
        if not default_fits(schema, value, self.version):
            raise _Doubt


# --------------------------------------------------------------------------- defaults

# A default is vouched for only under a schema of these keywords alone: no subschemas, no $ref,
# no discriminator, no pattern (regular expression engines differ), where jsonschema-rs and
# openapi-schema-validator's OAS validators agree.
_PLAIN = frozenset(
    {"type", "format", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength"}
    | {"minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "default"}
    | {"description", "title", "example", "readOnly", "writeOnly", "deprecated"}
)
_PLAIN_BY_VERSION = {"3.0": _PLAIN | {"nullable"}, "3.1": _PLAIN | {"const", "examples"}}
# The only formats modelled here: an OAS validator checks an integer against its bits. Every
# other format makes a default doubtful: OAS format checkers test date, date-time, time, email,
# ipv4, ipv6, uuid, byte, binary, regex, float, double... (and more when optional libraries are
# installed), and the screen must never vouch for a default they would refuse.
_INTEGER_BITS = {"int32": 31, "int64": 63}


def default_fits(schema: dict[str, Any], value: Any, version: str) -> bool:
    """Whether ``value`` is valid under a schema of plain keywords (``False`` when in doubt)."""
    import jsonschema_rs

    plain = _PLAIN_BY_VERSION.get(version, _PLAIN)
    if not all(key in plain or key.startswith("x-") for key in schema) or not _exact_numbers(value):
        return False
    if version == "3.0" and not isinstance(schema.get("type", ""), str):
        return False
    if "format" in schema and not _format_holds(schema["format"], value):
        return False
    validator_class = jsonschema_rs.Draft4Validator if version == "3.0" else jsonschema_rs.Draft202012Validator
    try:
        return bool(validator_class(schema, validate_formats=False).is_valid(value))
    except ValueError:
        return False


def _format_holds(fmt: Any, value: Any) -> bool:
    """What an OAS format checker says of ``value`` (``False`` for the formats not modelled)."""
    bits = _INTEGER_BITS.get(fmt) if isinstance(fmt, str) else None
    if bits is None:
        return False  # not modelled: openapi-spec-validator decides
    if not isinstance(value, int) or isinstance(value, bool):
        return True  # the integer formats' checkers pass anything but an integer
    return -(2**bits) <= value < 2**bits


def _exact_numbers(value: Any) -> bool:
    """No integer in ``value`` beyond what a float holds exactly (jsonschema-rs may round it)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > _EXACT_INTEGERS:
            return False
    return True


def _scan(data: Any) -> None:
    """Doubt a document with an ``$id`` (it changes what a ``$ref`` below it means) or with a
    pattern Python's ``re`` refuses (openapi-schema-validator checks the 'regex' format with
    it, jsonschema-rs with an engine of its own)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$id" in node:
                raise _Doubt
            pattern, keyed = node.get("pattern"), node.get("patternProperties")
            for text in [pattern, *(keyed if isinstance(keyed, dict) else ())]:
                if isinstance(text, str):
                    _python_regex(text)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))


def _python_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        raise _Doubt from None
