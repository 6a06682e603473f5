"""Checking a bundled document with openapi-spec-validator; faults name their place."""

from __future__ import annotations

import functools
import re
from typing import Any, Iterator

from ..errors import SpecError
from .bundle import origin_of
from .document import Document
from .pointers import escape_token, pointer_of

# --------------------------------------------------------------------------- checking


def check_document(data: dict[str, Any], file: str, origins: dict[str, tuple[str, str]]) -> None:
    """Check a bundled document with openapi-spec-validator; raise the first fault."""
    version = str(data.get("openapi", ""))
    if not re.match(r"^3\.[01]\.\d+", version):
        raise SpecError(
            f"unsupported or missing 'openapi' version {version!r} (3.0.x and 3.1.x are supported)",
            file=file,
            pointer="/openapi",
        )
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator_class = _locating_validator(
        OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    )
    try:
        error = next(iter(validator_class(data).iter_errors()), None)
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
        name: _locating_keyword(keyword) for name, keyword in validator_class.keyword_validators.items()
    }
    return type(validator_class.__name__, (validator_class,), {"keyword_validators": keyword_validators})


def _locating_keyword(keyword_class: type) -> type:
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from openapi_spec_validator.validation.keywords import ValueValidator

    # a ValueValidator is given the schema and its ``default``: the error path is in the default
    between = ("default",) if issubclass(keyword_class, ValueValidator) else ()

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        node = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
        for error in keyword_class.__call__(self, *args, **kwargs):
            if node is not None and not hasattr(error, _ERROR_NODE):
                if not isinstance(error, OpenAPIValidationError):
                    # the validator re-creates other errors as this class, dropping our note
                    error = OpenAPIValidationError.create_from(error)
                setattr(error, _ERROR_NODE, (node.read_value(), tuple(node.parts), between))
            yield error

    return type(keyword_class.__name__, (keyword_class,), {"__call__": __call__})


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


def _check_operation_ids(documents: list[Document]) -> None:
    seen: dict[str, str] = {}
    for document in documents:
        for path, item in (document.data.get("paths") or {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                op_id = operation["operationId"]
                pointer = pointer_of(["paths", path, method, "operationId"])
                if op_id in seen:
                    raise SpecError(
                        f"duplicate operationId {op_id!r} (also in {seen[op_id]})",
                        file=document.path,
                        pointer=pointer,
                    )
                seen[op_id] = f"{document.path}#{pointer}"
