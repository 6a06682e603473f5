"""Operations as the client sees them: Python names, parameters, signatures, docstrings.

Everything here depends on the spec alone and is computed once, at load time.

Naming rule (one rule for every clash): operationIds, tags and parameter names become
snake_case; a name that is a Python keyword, one of the client's own attributes, or already
taken by an earlier operation, tag or parameter of the same scope gets ``_`` appended until it
is free. Spec order decides which one is "earlier"; operations come before tags, and an
operation's name counts as taking its ``<name>_with_http_info`` twin too. Scopes: the client
(operations, then tags, after the client's own attributes) and each operation (its parameters,
after ``self``, ``body`` and the ``_``-prefixed per-call options).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple

from ..errors import SpecError
from ..names import free_method_name, free_name, snake_case
from ..spec.document import Document
from ..spec.media import is_json_media
from ..spec.pointers import pointer_of, resolve_pointer
from .sharing import Shared, canonical_text

if TYPE_CHECKING:
    import inspect

# Not dataclasses: a client's start must not import them (tests/test_perf_guards.py, issue 19).

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header", "cookie")
DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}


class CallOption(NamedTuple):
    """A per-call option: ``_``-prefixed, keyword-only, ``None`` (the client's setting) by default."""

    name: str
    annotation: str  # its type, as signatures and stubs show it
    offered: Callable[[Operation], bool]  # whether an operation's signature shows it


def _always(op: Operation) -> bool:
    return True


def _several_body_media(op: Operation) -> bool:
    return op.body is not None and len(op.body.content) > 1


def _several_answer_media(op: Operation) -> bool:
    return len(op.success_media_types()) > 1


def _downloads(op: Operation) -> bool:  # a non-JSON answer: offer to stream it to a file
    return any(not is_json_media(m) for m in op.success_media_types())


# Every per-call option, in signature order: what calls accept, signatures show and stubs type.
CALL_OPTIONS = (
    CallOption("_request_timeout", "float | tuple[float, float] | None", _always),
    CallOption("_headers", "Mapping[str, str] | None", _always),
    CallOption("_retries", "int | RetryPolicy | None", _always),
    CallOption("_retry_unsafe", "bool | None", _always),
    CallOption("_content_type", "str | None", _several_body_media),
    CallOption("_accept", "str | None", _several_answer_media),
    CallOption("_stream_to", "str | PathLike[str] | IO[bytes] | None", _downloads),
)
OPTION_NAMES = frozenset(option.name for option in CALL_OPTIONS)
# Names the call machinery reserves; a parameter with one of them gets "_" appended.
RESERVED_ARGUMENTS = frozenset({"self", "body"}) | OPTION_NAMES


class Parameter(NamedTuple):
    name: str  # the wire name
    python_name: str
    location: str
    required: bool
    schema: dict[str, Any]
    style: str
    explode: bool
    description: str = ""
    deprecated: bool = False
    allow_reserved: bool = False
    media_type: str | None = None  # for parameters declared with ``content``


class RequestBody(NamedTuple):
    required: bool
    content: dict[str, dict[str, Any]]  # media type → schema
    description: str = ""


class Response(NamedTuple):
    status: str  # "200", "4XX" or "default"
    description: str
    content: dict[str, dict[str, Any]]  # media type → schema (may be {})


class Operation:
    """One operation of a document, as the client calls it; ``pointer`` locates it in the document."""

    __slots__ = (
        "operation_id",
        "python_name",
        "method",
        "path",
        "tags",
        "summary",
        "description",
        "deprecated",
        "parameters",
        "body",
        "responses",
        "security",
        "document",
        "pointer",
    )

    def __init__(
        self,
        operation_id: str,
        python_name: str,
        method: str,
        path: str,
        tags: list[str],
        summary: str,
        description: str,
        deprecated: bool,
        parameters: list[Parameter],
        body: RequestBody | None,
        responses: dict[str, Response],
        security: list[dict[str, list[str]]],
        document: Document,
        pointer: str = "",
    ) -> None:
        self.operation_id = operation_id
        self.python_name = python_name
        self.method = method
        self.path = path
        self.tags = tags
        self.summary = summary
        self.description = description
        self.deprecated = deprecated
        self.parameters = parameters
        self.body = body
        self.responses = responses
        self.security = security
        self.document = document
        self.pointer = pointer

    def __repr__(self) -> str:  # the document (the whole spec) left out
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__ if name != "document")
        return f"Operation({shown})"

    @property
    def dialect(self) -> str:
        return self.document.version

    def positional(self) -> list[Parameter]:
        """Path parameters, in the order the path names them: positional in calls."""
        return [p for p in self.parameters if p.location == "path"]

    def keyword_arguments(self) -> list[tuple[str, bool, Parameter | None]]:
        """(Python name, required, parameter; ``None`` for the body) of the keyword-only arguments.

        The required ones (the body among them) come before the optional ones; each group keeps
        the spec's order. Used by ``signature`` and by the stubs, so the two always agree.
        """
        found: list[tuple[str, bool, Parameter | None]] = [
            (p.python_name, p.required, p) for p in self.parameters if p.location != "path"
        ]
        if self.body is not None:
            found.append(("body", self.body.required, None))
        return sorted(found, key=lambda argument: not argument[1])  # a stable sort

    def signature(self) -> inspect.Signature:
        """Path parameters positional, then the keyword-only arguments, then the call options.

        The keyword-only ones are in ``keyword_arguments`` order: required before optional.
        Made when asked for (``help()``, editors, stubs): ``inspect`` is no import of a client's start.
        """
        import inspect

        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        for p in self.positional():
            params.append(
                inspect.Parameter(
                    p.python_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_annotation(p.schema)
                )
            )
        keyword_only = inspect.Parameter.KEYWORD_ONLY
        for name, required, param in self.keyword_arguments():
            annotation = _annotation(param.schema, required) if param is not None else Any
            default = inspect.Parameter.empty if required else None
            params.append(inspect.Parameter(name, keyword_only, default=default, annotation=annotation))
        for option in self.call_options():
            params.append(inspect.Parameter(option.name, keyword_only, default=None, annotation=option.annotation))
        return inspect.Signature(params)

    def call_options(self) -> list[CallOption]:
        """The per-call options this operation's signature offers."""
        return [option for option in CALL_OPTIONS if option.offered(self)]

    def success_media_types(self) -> list[str]:
        media: list[str] = []
        for status, response in self.responses.items():
            if status.startswith("2"):
                media.extend(m for m in response.content if m not in media)
        return media

    def docstring(self) -> str:
        return build_docstring(self)


def _annotation(schema: dict[str, Any], required: bool = True) -> Any:
    kind = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list, "object": dict}
    types = schema.get("type")
    python = kind.get(types) if isinstance(types, str) else None
    if python is None:
        return Any
    return python if required else python | None


# --------------------------------------------------------------------------- docstrings


def build_docstring(op: Operation) -> str:
    lines = [op.summary or op.operation_id]
    if op.description and op.description != op.summary:
        lines += ["", op.description.strip()]
    if op.deprecated:
        lines += ["", "Deprecated: the spec marks this operation as deprecated."]
    lines += ["", f"{op.method.upper()} {op.path}  (operationId: {op.operation_id})"]
    if op.parameters or op.body:
        lines += ["", "Args:"]
        for p in op.parameters:
            need = "required" if p.required else "optional"
            wire = f", sent as {p.name!r}" if p.name != p.python_name else ""
            lines.append(
                f"    {p.python_name} ({schema_summary(p.schema)}, {p.location}, {need}{wire}): "
                f"{_one_line(p.description)}".rstrip(": ")
            )
        if op.body:
            media = ", ".join(op.body.content) or "any"
            need = "required" if op.body.required else "optional"
            lines.append(f"    body ({media}, {need}): {_one_line(op.body.description)}".rstrip(": "))
    lines += ["", "Returns:"]
    for status, response in op.responses.items():
        if status.startswith("2") or status == "default":
            lines.append(f"    {status}: {_response_summary(response)}")
    errors = [(s, r) for s, r in op.responses.items() if s[0] in "45"]
    if errors:
        lines += ["", "Raises:"]
        lines += [f"    {s}: {_one_line(r.description)}" for s, r in errors]
    return "\n".join(lines)


def schema_summary(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array":
        return f"array of {schema_summary(schema.get('items') or {})}"
    if "enum" in schema:
        return f"{kind}, allowed: {' | '.join(map(str, schema['enum']))}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _response_summary(response: Response) -> str:
    parts = [_one_line(response.description)]
    for media, schema in response.content.items():
        parts.append(f"[{media}: {schema_summary(schema)}]")
    return " ".join(p for p in parts if p)


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


# --------------------------------------------------------------------------- index


def build_operations(documents: Iterable[Document], reserved: Iterable[str] = ()) -> dict[str, Operation]:
    """Every operation of the documents by operationId, with names settled by the rule.

    Equal parameters, bodies and responses of one document are one object (see ``sharing``).
    """
    taken = set(reserved)
    operations: dict[str, Operation] = {}
    for document in documents:
        for op in _document_operations(document, taken, Shared()):
            operations[op.operation_id] = op
    return operations


def _document_operations(document: Document, taken: set[str], shared: Shared) -> Iterable[Operation]:
    data = document.data
    default_security = data.get("security", [])
    for path, item in (data.get("paths") or {}).items():
        common = item.get("parameters", [])
        for method in HTTP_METHODS:
            raw = item.get(method)
            if not isinstance(raw, dict):
                continue
            at = ["paths", path, method]
            op_id = raw.get("operationId") or snake_case(f"{method}_{path}")
            parameters = _parameters(document, common, raw.get("parameters", []), at, op_id, shared)
            yield Operation(
                operation_id=op_id,
                python_name=free_method_name(snake_case(op_id), taken),
                method=method,
                path=path,
                tags=list(raw.get("tags") or []),
                summary=_one_line(raw.get("summary", "")),
                description=raw.get("description", ""),
                deprecated=bool(raw.get("deprecated", False)),
                parameters=parameters,
                body=_request_body(document, raw.get("requestBody"), shared),
                responses=_responses(document, raw.get("responses") or {}, shared),
                security=raw.get("security", default_security),
                document=document,
                pointer=pointer_of(at),
            )


def deref(document: Document, node: Any) -> Any:
    """Follow a local ``$ref`` chain (parameters, bodies, responses are often shared)."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen:
            raise SpecError(f"$ref cycle at {ref!r}", file=document.path, pointer=ref[1:])
        seen.add(ref)
        node = resolve_pointer(document.data, ref[1:])
    return node


def _parameters(document: Document, common: list, own: list, at: list, op_id: str, shared: Shared) -> list[Parameter]:
    merged: dict[tuple[str, str], dict] = {}
    for raw in list(common) + list(own):  # the operation's own win over the path item's
        raw = deref(document, raw)
        merged[(raw["name"], raw["in"])] = raw
    taken = set(RESERVED_ARGUMENTS)
    path_order = re.findall(r"{([^}]+)}", at[1])
    params = sorted(merged.values(), key=lambda r: (r["in"] != "path", _path_index(path_order, r)))
    result = []
    for raw in params:
        if raw["in"] == "header" and raw["name"].lower() in ("accept", "content-type", "authorization"):
            continue  # OpenAPI says these are ignored as parameters
        result.append(_parameter(document, raw, taken, shared))
    missing = [n for n in path_order if n not in {p.name for p in result if p.location == "path"}]
    if missing:
        raise SpecError(
            f"{op_id}: path parameter {missing[0]!r} is not declared", file=document.path, pointer=pointer_of(at)
        )
    return result


def _path_index(order: list[str], raw: dict) -> int:
    return order.index(raw["name"]) if raw["name"] in order else len(order)


def _parameter(document: Document, raw: dict, taken: set[str], shared: Shared) -> Parameter:
    location = raw["in"]
    style = raw.get("style", DEFAULT_STYLE[location])
    schema, media_type = raw.get("schema"), None
    if schema is None and raw.get("content"):
        media_type, media = next(iter(raw["content"].items()))
        schema = media.get("schema", {})
    # A shared parameter schema ($ref at the top) is followed, so that everything reading the
    # parameter (serialisation, the server's text conversion, the CLI) sees its type.
    schema = deref(document, schema) or {}
    fields = (
        raw["name"],
        free_name(snake_case(raw["name"]), taken),
        location,
        bool(raw.get("required", location == "path")),
        schema,
        style,
        bool(raw.get("explode", style == "form")),
        raw.get("description", ""),
        bool(raw.get("deprecated", False)),
        bool(raw.get("allowReserved", False)),
        media_type,
    )
    key = ("parameter", *fields[:4], canonical_text(schema), *fields[5:])
    return shared.get(key, lambda: Parameter(*fields))


def _request_body(document: Document, raw: Any, shared: Shared) -> RequestBody | None:
    if raw is None:
        return None
    raw = deref(document, raw)
    content = _content(raw)
    required, description = bool(raw.get("required", False)), raw.get("description", "")
    key = ("body", required, description, _content_text(content))
    return shared.get(key, lambda: RequestBody(required=required, content=content, description=description))


def _responses(document: Document, raw: dict, shared: Shared) -> dict[str, Response]:
    responses = {}
    for status, response in raw.items():
        response = deref(document, response)
        content, description = _content(response), response.get("description", "")
        key = ("response", str(status), description, _content_text(content))
        responses[str(status).upper() if str(status) != "default" else "default"] = shared.get(
            key, functools.partial(Response, status=str(status), description=description, content=content)
        )
    return shared.mapping(responses)


def _content(raw: dict) -> dict[str, dict[str, Any]]:
    """Media type → schema of a body or response (``{}`` where none is declared)."""
    return {media: (spec or {}).get("schema", {}) for media, spec in (raw.get("content") or {}).items()}


def _content_text(content: dict[str, dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple((media, canonical_text(schema)) for media, schema in content.items())
