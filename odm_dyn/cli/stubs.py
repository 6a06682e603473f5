"""Type stubs of the client of a loaded spec, for editors and type checkers.

The client's methods are made at run time, so static tools cannot see them. ``odm-dyn stubs
OUT.pyi`` writes a self-contained stub module describing the ``Client`` of one spec: a typed
method per operation (parameters typed from their schemas, the return typed as the model class
or ``dict``/``list``/``str``/``bytes``), the tag namespaces, and a class per model with typed
attributes. Use it under ``TYPE_CHECKING``::

    from typing import TYPE_CHECKING
    if TYPE_CHECKING:
        from odm_client import Client      # the stub: odm_client.pyi
    else:
        from odm_dyn import Client

The same type mapping gives ``odm-dyn ops`` its one-line signatures.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

from ..api.model import attribute_name, collect_properties
from ..api.operations import CallOption, Operation, Parameter
from ..api.plans import Api, CallPlan
from ..spec.media import is_json_media

SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
# The stub imports typing under a private name, so a schema called "Any" or "Mapping" is harmless.
T = "_t."
# How the names in the per-call options' annotations are spelled in the stub.
_OPTION_NAMES = {"Mapping": f"{T}Mapping", "IO": f"{T}IO", "PathLike": "_os.PathLike", "RetryPolicy": f"{T}Any"}


class TypeNamer:
    """Python type expressions for the schemas of one compiled spec."""

    def __init__(self, api: Api):
        self.api = api
        self.schemas: dict[str, Any] = {}
        for document in api.documents:
            for name, schema in ((document.data.get("components") or {}).get("schemas") or {}).items():
                self.schemas.setdefault(name, schema)

    def model_class(self, name: str) -> str | None:
        model = self.api.models.get(name)
        return model.__name__ if model is not None else None

    def of(self, schema: Any, depth: int = 0) -> str:
        """The type of values that satisfy a schema, as the client hands them over."""
        if not isinstance(schema, dict) or depth > 20:
            return f"{T}Any"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._referenced(ref, depth)
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return union(self.of(part, depth + 1) for part in schema[key])
        kinds = schema.get("type")
        if isinstance(kinds, list):
            return union(self._kind(kind, schema, depth) for kind in kinds)
        if isinstance(kinds, str):
            return self._kind(kinds, schema, depth)
        if "properties" in schema:
            return f"dict[str, {T}Any]"
        return f"{T}Any"

    def _referenced(self, ref: str, depth: int) -> str:
        """A model class for an object schema; a string or list schema is typed as what it holds."""
        name = ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        target = self.schemas.get(name) if ref.startswith("#/components/schemas/") else None
        if not isinstance(target, dict):
            return f"{T}Any"
        if _is_object(target) and self.model_class(name):
            return self.model_class(name) or f"{T}Any"
        return self.of(target, depth + 1)

    def _kind(self, kind: str, schema: dict[str, Any], depth: int) -> str:
        if kind == "array":
            return f"list[{self.of(schema.get('items'), depth + 1)}]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            value = self.of(extra, depth + 1) if isinstance(extra, dict) and extra else f"{T}Any"
            return f"dict[str, {value}]"
        return SCALARS.get(kind, f"{T}Any")

    def parameter(self, op: Operation, param: Parameter) -> str:
        return self.of(param.schema)

    def body(self, op: Operation) -> str:
        """A body is a dict or a model for JSON; text or bytes for the other media types."""
        types = []
        for media, schema in (op.body.content if op.body else {}).items():
            if is_json_media(media):
                found = self.of(schema)
                types += [found, f"dict[str, {T}Any]"] if self.model_class(found) else [found]
            elif media.startswith("text/"):
                types.append("str")
            else:
                types.append(f"bytes | {T}IO[bytes] | dict[str, {T}Any]")
        return union(types) if types else f"{T}Any"

    def returns(self, plan: CallPlan) -> str:
        """What a call returns: the union over the success responses' media types."""
        types = []
        for status, response in plan.responses.items():
            if not status.startswith("2"):
                continue
            if not response.checks:
                types.append("None")
            for media in response.checks:
                types.append(self._returned(plan.op, status, media))
        return union(types) if types else f"{T}Any"

    def _returned(self, op: Operation, status: str, media: str) -> str:
        if is_json_media(media):
            return self.of(op.responses[status].content.get(media))
        return "str" if media.startswith("text/") else "bytes"


def _is_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema or "allOf" in schema


def union(types: Iterable[str]) -> str:
    """``A | B`` without repeats; ``Any`` absorbs everything."""
    unique: list[str] = []
    for kind in types:
        for part in kind.split(" | ") if "[" not in kind else [kind]:
            if part not in unique:
                unique.append(part)
    if f"{T}Any" in unique or not unique:
        return f"{T}Any"
    return " | ".join(unique)


# --------------------------------------------------------------------------- signatures


def parameter_list(namer: TypeNamer, plan: CallPlan, options: bool = True) -> list[str]:
    """The method's parameters after ``self``, as in ``Operation.signature()``, typed."""
    op = plan.op
    params = [f"{p.python_name}: {namer.parameter(op, p)}" for p in op.positional()]
    keyword = []
    for name, required, param in op.keyword_arguments():
        kind = namer.parameter(op, param) if param is not None else namer.body(op)
        keyword.append(f"{name}: {kind}" if required else f"{name}: {optional(kind)} = None")
    if options:
        keyword += [f"{option.name}: {option_type(option)} = None" for option in op.call_options()]
    return params + (["*"] + keyword if keyword else [])


def option_type(option: CallOption) -> str:
    """A per-call option's annotation, with the names the stub imports under other names."""
    return re.sub(r"\b\w+\b", lambda word: _OPTION_NAMES.get(word[0], word[0]), option.annotation)


def optional(kind: str) -> str:
    return kind if kind == f"{T}Any" or "None" in kind.split(" | ") else f"{kind} | None"


def signature_text(api: Api, operation_id: str) -> str:
    """``get_task_info(id: str) -> TaskInfo``: how ``odm-dyn ops`` shows an operation."""
    namer = TypeNamer(api)
    plan = api.plans[operation_id]
    params = ", ".join(parameter_list(namer, plan, options=False))
    return f"{plan.op.python_name}({params}) -> {namer.returns(plan)}".replace(T, "")


# --------------------------------------------------------------------------- the stub module


def render_stub(api: Api, label: str = "", asynchronous: bool = False) -> str:
    """The text of a ``.pyi`` module: models, tag namespaces and ``Client`` for ``api``; with
    ``asynchronous``, ``AsyncClient`` too, whose methods (and its tag namespaces') are coroutines."""
    namer = TypeNamer(api)
    task = namer.model_class("TaskInfo") or f"{T}Any"
    parts = [_header(label, asynchronous), _api_response()]
    parts += [_model(namer, name) for name in api.models]
    for _attr, (tag, op_ids) in api.tags.items():
        parts.append(_namespace(namer, api.tag_class_name(tag), f"Operations tagged {tag!r}.", op_ids))
    parts.append(_client(namer, task))
    if asynchronous:
        for _attr, (tag, op_ids) in api.tags.items():
            doc = f"Operations tagged {tag!r}, as coroutines."
            parts.append(_namespace(namer, "Async" + api.tag_class_name(tag), doc, op_ids, True))
        parts.append(_async_client(namer, task))
    return "\n\n".join(parts) + "\n"


def write_stub(api: Api, path: str, label: str = "", asynchronous: bool = False) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_stub(api, label, asynchronous))


def _header(label: str, asynchronous: bool = False) -> str:
    names = "Client, AsyncClient" if asynchronous else "Client"
    return "\n".join(
        [
            f"# Type stub of the odm_dyn {names} for the spec: {label or 'bundled'}",
            "# Written by `odm-dyn stubs`; write it again when the spec changes. Import it only",
            "# for type checking (it has no run-time code):",
            f"#     if TYPE_CHECKING: from <this module> import {names}",
            f"#     else: from odm_dyn import {names}",
            "from __future__ import annotations",
            "",
            "import os as _os",
            "import typing as _t",
            "",
            '_D = _t.TypeVar("_D")',
        ]
    )


def _api_response() -> str:
    return "\n".join(
        [
            "class ApiResponse(_t.Generic[_D]):",
            "    status_code: int",
            "    headers: _t.Mapping[str, str]",
            "    data: _D",
            "    raw_data: bytes",
        ]
    )


def _model(namer: TypeNamer, name: str) -> str:
    cls = namer.model_class(name) or name
    schema = namer.schemas.get(name) or {}
    properties = collect_properties(schema, namer.schemas)
    required = set(schema.get("required") or [])
    lines = [f"class {cls}:", f"    {_docstring(schema.get('description') or f'The {name} schema.')}"]
    fields = []
    for wire, prop in properties.items():
        kind = namer.of(prop)
        kind = kind if wire in required else optional(kind)
        lines.append(f"    {attribute_name(wire)}: {kind}")
        fields.append(f"{attribute_name(wire)}: {optional(namer.of(prop))} = None")
    init = ", ".join(["self", "*", *fields, f"**fields: {T}Any"])
    lines += [
        f"    def __init__({init}) -> None: ...",
        "    @classmethod",
        f"    def from_dict(cls, data: dict[str, {T}Any]) -> {cls}: ...",
        "    @classmethod",
        f"    def from_json(cls, text: str | bytes) -> {cls}: ...",
        f"    def to_dict(self) -> dict[str, {T}Any]: ...",
        "    def to_json(self) -> str: ...",
    ]
    return "\n".join(lines)


def _namespace(namer: TypeNamer, cls: str, doc: str, op_ids: list[str], asynchronous: bool = False) -> str:
    lines = [f"class {cls}:", f"    {_docstring(doc)}"]
    for op_id in op_ids:
        lines += _methods(namer, namer.api.plans[op_id], asynchronous)
    return "\n".join(lines)


def _methods(namer: TypeNamer, plan: CallPlan, asynchronous: bool = False) -> list[str]:
    params = ", ".join(["self", *parameter_list(namer, plan)])
    returns = namer.returns(plan)
    name = plan.op.python_name
    doc = _docstring(plan.op.docstring(), indent="        ")
    define = "async def" if asynchronous else "def"
    return [
        f"    {define} {name}({params}) -> {returns}:",
        f"        {doc}",
        "        ...",
        f"    {define} {name}_with_http_info({params}) -> ApiResponse[{returns}]: ...",
    ]


def _client(namer: TypeNamer, task: str) -> str:
    api = namer.api
    lines = [
        "class Client:",
        '    """A client for an ODM server, with one method per operation of the spec."""',
        "    host: str",
        *_init_lines(),
        "    @classmethod",
        f"    def from_env(cls, environ: {T}Mapping[str, str] | None = None, **options: {T}Any) -> Client: ...",
        "    def __enter__(self) -> Client: ...",
        "    def __exit__(self, *exc: object) -> None: ...",
        "    def close(self) -> None: ...",
        f"    def call(self, operation_id: str, *args: {T}Any, **kwargs: {T}Any) -> {T}Any: ...",
        *_wait_lines(task, "def", "Iterator"),
    ]
    for attr, (tag, _) in api.tags.items():
        lines += ["    @property", f"    def {attr}(self) -> {api.tag_class_name(tag)}: ..."]
    for plan in api.plans.values():
        lines += _methods(namer, plan)
    return "\n".join(lines)


def _async_client(namer: TypeNamer, task: str) -> str:
    api = namer.api
    lines = [
        "class AsyncPaginator(_t.AsyncIterator[_t.Any]):",
        f"    def __anext__(self) -> {T}Awaitable[{T}Any]: ...",
        f"    def pages(self) -> {T}AsyncIterator[{T}Any]: ...",
        "",
        "class AsyncClient:",
        '    """A client for an ODM server for asyncio: the methods of Client, each a coroutine."""',
        "    host: str",
        *_init_lines(),
        "    @classmethod",
        f"    def from_env(cls, environ: {T}Mapping[str, str] | None = None, **options: {T}Any) -> AsyncClient: ...",
        "    async def __aenter__(self) -> AsyncClient: ...",
        "    async def __aexit__(self, *exc: object) -> None: ...",
        "    async def aclose(self) -> None: ...",
        f"    async def call(self, operation_id: str, *args: {T}Any, **kwargs: {T}Any) -> {T}Any: ...",
        *_wait_lines(task, "async def", "AsyncIterator"),
    ]
    paged = f"**params: {T}Any) -> AsyncPaginator: ..."
    lines = [line.replace(f"**params: {T}Any) -> {T}Any: ...", paged) for line in lines]
    for attr, (tag, _) in api.tags.items():
        lines += ["    @property", f"    def {attr}(self) -> Async{api.tag_class_name(tag)}: ..."]
    for plan in api.plans.values():
        lines += _methods(namer, plan, asynchronous=True)
    return "\n".join(lines)


def _init_lines() -> list[str]:
    return [
        "    def __init__(",
        "        self,",
        "        host: str | None = None,",
        "        *,",
        "        token: str | None = None,",
        "        access_token: str | None = None,",
        f"        spec: str | {T}Iterable[str] | None = None,",
        '        validate_requests: _t.Literal["strict", "warn", "off"] = "strict",',
        '        validate_responses: _t.Literal["strict", "warn", "off"] = "strict",',
        '        unknown_enums: _t.Literal["warn", "strict"] = "warn",',
        "        timeout: float | tuple[float, float] | None = ...,",
        f"        retries: {T}Any = None,",
        "        retry_unsafe: bool = False,",
        f"        credentials: {T}Mapping[str, str] | None = None,",
        f"        headers: {T}Mapping[str, str] | None = None,",
        "        verify: bool | str = True,",
        f"        session: {T}Any = None,",
        "    ) -> None: ...",
    ]


def _wait_lines(task: str, define: str, iterator: str) -> list[str]:
    """The waits and ``paginate``: ``define`` is ``def`` or ``async def`` for the single waits,
    whose several-at-once forms answer an ``iterator`` (``Iterator`` or ``AsyncIterator``)."""
    return [
        f"    {define} wait_for_task(",
        "        self,",
        f"        id: str | {task},",
        "        timeout: float | None = None,",
        "        interval: float = 0.5,",
        "        *,",
        "        max_interval: float = 10.0,",
        "        backoff: float = 1.5,",
        "        raise_on_failure: bool = False,",
        f"        progress: bool | {T}Any = False,",
        f"        on_poll: {T}Callable[[{task}, float], None] | None = None,",
        f"    ) -> {task}: ...",
        f"    def wait_for_tasks(self, ids: {T}Iterable[str | {task}], timeout: float | None = None,"
        f" interval: float = 0.5, **options: {T}Any) -> {T}{iterator}[{task}]: ...",
        f"    {define} wait_for_job(self, job_exec_id: {T}Any, timeout: float | None = None, interval: float = 0.5,"
        f" **options: {T}Any) -> {T}Any: ...",
        f"    def wait_for_jobs(self, job_exec_ids: {T}Iterable[{T}Any], timeout: float | None = None,"
        f" interval: float = 0.5, **options: {T}Any) -> {T}{iterator}[tuple[{T}Any, {T}Any]]: ...",
        f"    def paginate(self, method: {T}Any, *args: {T}Any, page_size: int | None = None,"
        f" limit: int | None = None, progress: bool | {T}Any = False, **params: {T}Any) -> {T}Any: ...",
    ]


def _docstring(text: str, indent: str = "    ") -> str:
    """A triple-quoted docstring that survives any text the spec holds."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    return '"""' + text.replace("\n", "\n" + indent) + '"""'


def stub_label(spec: Any) -> str:
    if spec is None:
        return "bundled tasks.yaml"
    items = [spec] if isinstance(spec, (str, os.PathLike)) else list(spec)
    return ", ".join(os.path.basename(os.fspath(item)) for item in items)
