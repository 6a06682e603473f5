"""Checking a bundled document; faults name their place, in openapi-spec-validator's words.

A document the screen (``screen.py``, jsonschema-rs) vouches for is valid and openapi-spec-
validator is not even imported; only one it doubts is checked by openapi-spec-validator, whose
first fault is the error (issue 19: its import and walk were most of a first load). That check
costs what a spec says, not how often it says it: a node whose content was found
clean is not checked again, the validator's registries are sets, schemas are screened by
jsonschema-rs against their dialect, and a fault is still reported by openapi-spec-validator's
own words (issue 12: a 20,000-operation spec took 82 s, most of it here).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Iterator

from ..errors import SpecError
from .bundle import origin_of
from .pointers import escape_token, pointer_of
from .screen import OAS31_DIALECT, certainly_valid, dialect_validator

# --------------------------------------------------------------------------- checking


def check_document(data: dict[str, Any], file: str, origins: dict[str, tuple[str, str]]) -> None:
    """Check a bundled document; raise openapi-spec-validator's first fault."""
    version = str(data.get("openapi", ""))
    if not re.match(r"^3\.[01]\.\d+", version):
        raise SpecError(
            f"unsupported or missing 'openapi' version {version!r} (3.0.x and 3.1.x are supported)",
            file=file,
            pointer="/openapi",
        )
    if certainly_valid(data, version[:3]):
        return
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator_class = _locating_validator(
        OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    )
    validator = validator_class(data)
    if not _has_key(data, "$id"):  # an ``$id`` changes what a ``$ref`` below it means: no memo
        setattr(validator.keyword_validators_registry, _CLEAN, set())
    try:
        error = next(iter(validator.iter_errors()), None)
    except RecursionError:  # openapi-spec-validator recurses per level of a schema
        raise SpecError("a schema is nested too deeply to be checked", file=file) from None
    if error is not None:
        where, pointer = origin_of(origins, _error_pointer(error, data), file)
        message = str(error.message).strip().splitlines()[0]
        raise SpecError(f"invalid OpenAPI document: {message}", file=where, pointer=pointer)


# openapi-spec-validator checks a document in two stages. The first validates the whole
# document against the OpenAPI meta-schema: its errors' ``absolute_path`` is a place in the
# document. The second walks the document with keyword validators (a schema against its
# dialect, a path's parameters against its template, …); their errors' paths are relative
# to the node the keyword validator was given (or empty), and the error object does not say
# which node that was. So every keyword validator is wrapped to note, on each error it
# yields, the node it was checking; the innermost one notes it first.

_ERROR_NODE = "_odm_dyn_node"  # (node value, its SchemaPath parts, key between node and error path)


@functools.cache
def _locating_validator(validator_class: type) -> type:
    """A subclass of an openapi-spec-validator class whose errors say where they are."""
    keyword_validators = {
        name: _locating_keyword(keyword, name in _CONTENT_ONLY)
        for name, keyword in validator_class.keyword_validators.items()
    }
    return type(validator_class.__name__, (validator_class,), {"keyword_validators": keyword_validators})


# The keyword validators whose verdict depends on nothing but the content of the node they are
# given (and their other arguments): a node with the same content as one already found clean
# is clean too, for every reference in a bundled document is local (``#/...``), so it means the
# same wherever it stands. A spec repeats its parameters, media types and schemas in every
# operation; checked once per distinct content, the check costs what the spec says, not how
# often it says it. (Not ``operation``: it notes operationIds; not ``path``: its template.)
_CONTENT_ONLY = frozenset({"schema", "parameter", "parameters", "mediaType", "content", "response", "responses"})
_CLEAN = "_odm_dyn_clean"  # on a validator's registry: the keys of the nodes found clean


class _IndexedList(list):  # type: ignore[type-arg]
    """A list whose ``in`` is a set look-up: openapi-spec-validator keeps the schemas and
    operationIds it has seen in lists, which made its check quadratic in the spec's size."""

    def __init__(self) -> None:
        super().__init__()
        self._index: set[Any] = set()

    def append(self, item: Any) -> None:
        super().append(item)
        self._index.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self._index


def _locating_keyword(keyword_class: Any, content_only: bool) -> type:
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from openapi_spec_validator.validation.keywords import ValueValidator

    # a ValueValidator is given the schema and its ``default``: the error path is in the default
    between = ("default",) if issubclass(keyword_class, ValueValidator) else ()

    def __init__(self: Any, registry: Any) -> None:
        keyword_class.__init__(self, registry)
        for name in ("visited_schema_ids", "meta_checked_schema_ids", "operation_ids_registry"):
            if isinstance(getattr(self, name, None), list):
                setattr(self, name, _IndexedList())

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        node = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
        clean: set[str] | None = getattr(self.registry, _CLEAN, None) if content_only else None
        key = _content_key(args, kwargs, node) if clean is not None and node is not None else None
        if key is not None and key in clean:  # type: ignore[operator]
            return
        for error in keyword_class.__call__(self, *args, **kwargs):
            if node is not None and not hasattr(error, _ERROR_NODE):
                if not isinstance(error, OpenAPIValidationError):
                    # the validator re-creates other errors as this class, dropping our note
                    error = OpenAPIValidationError.create_from(error)
                setattr(error, _ERROR_NODE, (node.read_value(), tuple(node.parts), between))
            yield error
        if key is not None:
            clean.add(key)  # type: ignore[union-attr]

    members: dict[str, Any] = {"__init__": __init__, "__call__": __call__}
    if hasattr(keyword_class, "_get_schema_dialect_id"):
        members["_validate_schema_meta"] = _prescreened_meta_check(keyword_class)
    if hasattr(keyword_class, "_get_path_param_names"):
        members["_get_path_param_names"] = _path_param_names
    return type(keyword_class.__name__, (keyword_class,), members)


def _prescreened_meta_check(keyword_class: Any) -> Any:
    """``_validate_schema_meta`` that asks jsonschema-rs first, for the OpenAPI 3.1 dialect.

    openapi-spec-validator checks every schema against its dialect with the Python jsonschema
    package, about 2 ms a schema; jsonschema-rs gives the same verdict in microseconds. Only a
    schema it refuses goes through the Python check, so a fault reads as it always did.
    """

    def _validate_schema_meta(self: Any, schema: Any, schema_value: Any) -> Any:
        try:
            dialect = self._get_schema_dialect_id(schema, schema_value)
        except ValueError:
            dialect = None
        fast = dialect_validator("3.1") if dialect == OAS31_DIALECT else None
        if fast is not None and fast.is_valid(schema_value):
            return None
        return keyword_class._validate_schema_meta(self, schema, schema_value)

    return _validate_schema_meta


def _path_param_names(self: Any, params: Any) -> Iterator[str]:
    """The names of the path parameters of a list, read from its plain values.

    openapi-spec-validator reads each parameter's ``in`` and ``name`` through its resolving
    path objects (about 0.3 ms a parameter); only a ``$ref``'d parameter needs that, to be
    resolved. The meta-schema stage has already made both strings.
    """
    for index, raw in enumerate(params.read_value()):
        if isinstance(raw, dict) and "$ref" in raw:
            param = params / index
            if (param / "in").read_str() == "path":
                yield (param / "name").read_str()
        elif isinstance(raw, dict) and raw.get("in") == "path":
            yield raw["name"]


def _content_key(args: tuple[Any, ...], kwargs: dict[str, Any], node: Any) -> str | None:
    """The node's content and the other arguments, as one text; ``None`` if not JSON."""
    try:
        others = [arg for arg in args if arg is not node]
        return json.dumps([node.read_value(), others, kwargs], sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _has_key(data: Any, key: str) -> bool:
    """Whether any mapping of a document holds ``key`` (iteratively: documents nest deep)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if key in node:
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


def _error_pointer(error: Any, data: dict[str, Any]) -> str:
    """The JSON pointer, in the (bundled) document, of a fault openapi-spec-validator found."""
    inner = list(getattr(error, "absolute_path", None) or getattr(error, "path", None) or [])
    noted = getattr(error, _ERROR_NODE, None)
    if noted is None:  # the meta-schema stage: the path is already absolute
        return pointer_of(inner)
    value, parts, between = noted
    # the node's own place, not the path through the ``$ref``s that led the validator to it
    node_pointer = _node_pointers(data).get(id(value)) if isinstance(value, (dict, list)) else None
    if node_pointer is None:
        node_pointer = pointer_of(parts)
    return node_pointer + pointer_of([*between, *inner])


def _node_pointers(data: Any) -> dict[int, str]:
    """``id()`` of every mapping and list of a document → its JSON pointer (first place seen)."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, at = stack.pop()
        if id(node) in found:
            continue
        found[id(node)] = at
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend(
            (v, f"{at}/{escape_token(str(k))}") for k, v in reversed(list(items)) if isinstance(v, (dict, list))
        )
    return found
