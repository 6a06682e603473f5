"""Type stubs of the client of a loaded spec, for editors and type checkers.

The client's methods are made at run time, so static tools cannot see them. ``odm-dyn stubs
OUT.pyi`` writes a self-contained stub module describing the ``Client`` of one spec: a typed
method per operation (parameters typed from their schemas, the return typed as the model class
or ``dict``/``list``/``str``/``bytes``), the tag classes (``client.tasks_api`` and the generated
client's ``TasksAPIApi(api_client)`` alike), a class per model with typed attributes (required
answer fields not ``Optional``, enums as ``Literal``, ``date-time`` as ``datetime``), the error
tree, ``Configuration`` and ``ApiClient``. Use it under ``TYPE_CHECKING``::

    from typing import TYPE_CHECKING
    if TYPE_CHECKING:
        from odm_client import Client      # the stub: odm_client.pyi
    else:
        from odm_dyn import Client

The stub is valid Python for any spec: builtins are spelled ``_b.str`` and models ``_M_Name``
(aliases), so a property called ``str`` or a schema called ``Client`` shadows nothing, and
descriptions are escaped character by character. The same type mapping, unprefixed, gives
``odm-dyn ops`` its one-line signatures.
"""

from __future__ import annotations

import inspect
import keyword
import os
import re
from typing import Any, Iterable

from .. import errors
from ..api.model import collect_required
from ..api.operations import CallOption, Operation, Parameter
from ..api.plans import Api, CallPlan
from ..spec.media import is_json_media

SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
DATES = {"date-time": "datetime", "date": "date"}


class TypeNamer:
    """Python type expressions for the schemas of one compiled spec.

    ``plain`` spells names as a reader writes them (``str``, ``TaskInfo``); otherwise as the
    stub does (``_b.str``, ``_M_TaskInfo``), where no spec name can shadow them.
    """

    def __init__(self, api: Api, plain: bool = False):
        self.api = api
        self.plain = plain
        self.t, self.b, self.dt, self.m = ("", "", "", "") if plain else ("_t.", "_b.", "_dt.", "_M_")
        self.any = f"{self.t}Any"
        self.schemas: dict[str, Any] = {}
        for document in api.documents:
            for name, schema in ((document.data.get("components") or {}).get("schemas") or {}).items():
                self.schemas.setdefault(name, schema)

    def model_class(self, name: str) -> str | None:
        model = self.api.models.get(name)
        return model.__name__ if model is not None else None

    def scalar(self, kind: str) -> str:
        found = SCALARS.get(kind)
        return self.any if found is None else found if found == "None" else self.b + found

    def of(self, schema: Any, depth: int = 0, dates: bool = False) -> str:
        """The type of values that satisfy a schema, as the client hands them over.

        ``dates``: a string of format date-time or date is a ``datetime``/``date`` (as model
        attributes give them); elsewhere it is the wire string.
        """
        if not isinstance(schema, dict) or depth > 20:
            return self.any
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._referenced(ref, depth, dates)
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return self.union(self.of(part, depth + 1, dates) for part in schema[key])
        if isinstance(schema.get("enum"), list):
            literal = self._literal(schema["enum"])
            if literal:
                return literal
        kinds = schema.get("type")
        if isinstance(kinds, list):
            return self.union(self._kind(kind, schema, depth, dates) for kind in kinds)
        if isinstance(kinds, str):
            return self._kind(kinds, schema, depth, dates)
        if "properties" in schema:
            return f"{self.b}dict[{self.b}str, {self.any}]"
        return self.any

    def _literal(self, values: list[Any]) -> str | None:
        """``Literal["A", "B"]`` for an enum of strings and integers (``None`` joins as ``| None``)."""
        kept = [v for v in values if v is not None]
        if not kept or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in kept):
            return None
        literal = f"{self.t}Literal[{', '.join(repr(v) for v in dict.fromkeys(kept))}]"
        return literal + (" | None" if None in values else "")

    def _referenced(self, ref: str, depth: int, dates: bool) -> str:
        """A model class for an object schema; a string or list schema is typed as what it holds."""
        name = ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        target = self.schemas.get(name) if ref.startswith("#/components/schemas/") else None
        if not isinstance(target, dict):
            return self.any
        cls = self.model_class(name)
        if _is_object(target) and cls:
            return self.m + cls
        return self.of(target, depth + 1, dates)

    def _kind(self, kind: str, schema: dict[str, Any], depth: int, dates: bool) -> str:
        if kind == "array":
            return f"{self.b}list[{self.of(schema.get('items'), depth + 1, dates)}]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            value = self.of(extra, depth + 1, dates) if isinstance(extra, dict) and extra else self.any
            return f"{self.b}dict[{self.b}str, {value}]"
        if kind == "string" and dates and schema.get("format") in DATES:
            return self.dt + DATES[schema["format"]]
        return self.scalar(kind)

    def is_model(self, kind: str) -> bool:
        return kind.startswith(self.m) and kind[len(self.m) :] in {m.__name__ for m in self.api.models.values()}

    def parameter(self, op: Operation, param: Parameter) -> str:
        return self.of(param.schema)

    def body(self, op: Operation) -> str:
        """A body is a dict or a model for JSON; text or bytes for the other media types."""
        types = []
        for media, schema in (op.body.content if op.body else {}).items():
            if is_json_media(media):
                found = self.of(schema)
                types += [found, f"{self.b}dict[{self.b}str, {self.any}]"] if self.is_model(found) else [found]
            elif media.startswith("text/"):
                types.append(self.b + "str")
            else:
                types.append(f"{self.b}bytes | {self.t}IO[{self.b}bytes] | {self.b}dict[{self.b}str, {self.any}]")
        return self.union(types) if types else self.any

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
        return self.union(types) if types else self.any

    def _returned(self, op: Operation, status: str, media: str) -> str:
        if is_json_media(media):
            return self.of(op.responses[status].content.get(media))
        return self.b + ("str" if media.startswith("text/") else "bytes")

    def union(self, types: Iterable[str]) -> str:
        """``A | B`` without repeats; ``Any`` absorbs everything."""
        unique: list[str] = []
        for kind in types:
            for part in _top_level_parts(kind):
                if part not in unique:
                    unique.append(part)
        if self.any in unique or not unique:
            return self.any
        return " | ".join(unique)

    def optional(self, kind: str) -> str:
        return kind if kind == self.any or "None" in _top_level_parts(kind) else f"{kind} | None"


def _top_level_parts(kind: str) -> list[str]:
    """The members of a union written ``A | B[C | D]``: split on ``|`` outside brackets."""
    parts, depth, start = [], 0, 0
    for index, ch in enumerate(kind):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(kind[start:index].strip())
            start = index + 1
    parts.append(kind[start:].strip())
    return [part for part in parts if part]


def _is_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema or "allOf" in schema


def union(types: Iterable[str]) -> str:
    """``A | B`` without repeats, for stub-spelled types (``_t.Any`` absorbs everything)."""
    unique: list[str] = []
    for kind in types:
        unique += [part for part in _top_level_parts(kind) if part not in unique]
    return "_t.Any" if "_t.Any" in unique or not unique else " | ".join(unique)


# --------------------------------------------------------------------------- signatures


def parameter_list(namer: TypeNamer, plan: CallPlan, options: bool = True) -> list[str]:
    """The method's parameters after ``self``, as in ``Operation.signature()``, typed."""
    op = plan.op
    params = [f"{p.python_name}: {namer.parameter(op, p)}" for p in op.positional()]
    keyword = []
    for name, required, param in op.keyword_arguments():
        kind = namer.parameter(op, param) if param is not None else namer.body(op)
        keyword.append(f"{name}: {kind}" if required else f"{name}: {namer.optional(kind)} = None")
    if options:
        keyword += [f"{option.name}: {option_type(namer, option)} = None" for option in op.call_options()]
    return params + (["*"] + keyword if keyword else [])


def option_type(namer: TypeNamer, option: CallOption) -> str:
    """A per-call option's annotation, with the names spelled as the stub imports them."""
    names = {
        "Mapping": f"{namer.t}Mapping",
        "IO": f"{namer.t}IO",
        "PathLike": "_os.PathLike",
        "RetryPolicy": namer.any,
        **{name: namer.b + name for name in ("str", "int", "float", "bool", "bytes", "tuple")},
    }
    return re.sub(r"\b\w+\b", lambda word: names.get(word[0], word[0]), option.annotation)


def signature_text(api: Api, operation_id: str) -> str:
    """``get_task_info(id: str) -> TaskInfo``: how ``odm-dyn ops`` shows an operation."""
    namer = TypeNamer(api, plain=True)
    plan = api.plans[operation_id]
    params = ", ".join(parameter_list(namer, plan, options=False))
    return f"{plan.op.python_name}({params}) -> {namer.returns(plan)}"


# --------------------------------------------------------------------------- the stub module


def render_stub(api: Api, label: str = "") -> str:
    """The text of a ``.pyi`` module: errors, models, tag classes and ``Client`` for ``api``."""
    namer = TypeNamer(api)
    taken = _own_names(api)
    names: dict[str, str] = {}  # the runtime class name → the stub's class name
    parts = [_header(label), spec_stamp(api), _api_response(), _errors()]
    for schema_name, model in api.models.items():
        if model.__name__ not in names:  # one class per model class
            names[model.__name__] = _free(model.__name__, taken)
            parts.append(_model(namer, schema_name, model, names[model.__name__]))
    parts.append("\n".join(f"_M_{cls}: _t.TypeAlias = {stub}" for cls, stub in names.items()))
    parts.append(_models_namespace(api, names))
    for _attr, (tag, op_ids) in api.tags.items():
        parts.append(_namespace(namer, api.tag_class_name(tag), f"Operations tagged {tag!r}.", op_ids))
    parts += [_compat(), _client(namer)]
    return "\n\n".join(parts) + "\n"


def _own_names(api: Api) -> set[str]:
    """Module-level names of the stub that a model class must not take."""
    own = {"ApiResponse", "Client", "Configuration", "ApiClient", "RESTResponse", "Models"}
    own |= {cls.__name__ for cls in _error_classes()}
    own |= {api.tag_class_name(tag) for tag, _ in api.tags.values()}
    return own


def _free(name: str, taken: set[str]) -> str:
    """A class name no other module-level name (nor a keyword) takes; recorded as taken."""
    while name in taken or keyword.iskeyword(name) or name.startswith("_M_"):
        name += "_"
    taken.add(name)
    return name


def write_stub(api: Api, path: str, label: str = "") -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_stub(api, label))


STAMP_SPEC = "# odm-dyn spec sha256: "
STAMP_OPERATION = "# odm-dyn operation: "


def spec_stamp(api: Api) -> str:
    """What the stub was written from: the spec's content hash, and a hash per operation, so
    ``odm-dyn stubs --check`` can name the operations that changed since."""
    from ..spec.changes import operation_fingerprints

    lines = [STAMP_SPEC + spec_hash(api)]
    lines += [f"{STAMP_OPERATION}{op} {digest}" for op, digest in operation_fingerprints(api.documents).items()]
    return "\n".join(lines)


def spec_hash(api: Api) -> str:
    """A hash of the content of every file the spec was read from (not of their names)."""
    import hashlib

    digests = sorted(digest for document in api.documents for digest in document.files.values())
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def read_stamp(text: str) -> tuple[str | None, dict[str, str]]:
    """The spec hash and the operations' hashes a stub was written with (``None``: no stamp)."""
    spec: str | None = None
    operations: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(STAMP_SPEC):
            spec = line[len(STAMP_SPEC) :].strip()
        elif line.startswith(STAMP_OPERATION):
            name, _, digest = line[len(STAMP_OPERATION) :].strip().rpartition(" ")
            operations[name] = digest
    return spec, operations


def _header(label: str) -> str:
    label = re.sub(r"\s+", " ", label or "bundled")
    return "\n".join(
        [
            f"# Type stub of the odm_dyn Client for the spec: {label}",
            "# Written by `odm-dyn stubs`; write it again when the spec changes. Import it only",
            "# for type checking (it has no run-time code):",
            "#     if TYPE_CHECKING: from <this module> import Client",
            "#     else: from odm_dyn import Client",
            "import builtins as _b",
            "import datetime as _dt",
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
            "    status_code: _b.int",
            "    headers: _t.Mapping[_b.str, _b.str]",
            "    data: _D",
            "    raw_data: _b.bytes",
        ]
    )


# Attributes of the error classes, as the stub declares them (beyond BaseException's).
_ERROR_ATTRIBUTES = {
    "SpecError": ["file: _b.str | None", "pointer: _b.str | None"],
    "RequestValidationError": ["operation: _b.str | None", "parameter: _b.str | None", "rule: _b.str | None"],
    "ResponseValidationError": [
        "operation: _b.str",
        "status: _b.int",
        "headers: _b.dict[_b.str, _b.str]",
        "body: _b.bytes",
        "errors: _b.list[_b.str]",
    ],
    "ApiTimeoutError": ["connect: _b.bool"],
    "TaskTimeoutError": ["task: _t.Any"],
    "ApiException": [
        "status: _b.int | None",
        "reason: _b.str | None",
        "operation: _b.str | None",
        "headers: _b.dict[_b.str, _b.str]",
        "body: _b.str | None",
        "raw_body: _b.bytes | None",
        "data: _t.Any",
    ],
}


def _error_classes() -> list[type[BaseException]]:
    """odm_dyn's error classes, bases before subclasses (as ``errors`` defines them)."""
    found = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, errors.OdmError) and value.__module__ == errors.__name__
    ]
    return sorted(found, key=lambda cls: len(cls.__mro__))


def _errors() -> str:
    """The error tree, drawn from ``odm_dyn.errors`` itself."""
    lines = []
    for cls in _error_classes():
        bases = [_base_name(base) for base in cls.__bases__]
        body = [f"    {line}" for line in _ERROR_ATTRIBUTES.get(cls.__name__, [])] or ["    ..."]
        lines += [f"class {cls.__name__}({', '.join(bases)}):", *body]
    return "\n".join(lines)


def _base_name(base: type) -> str:
    return base.__name__ if base.__module__ == errors.__name__ else f"_b.{base.__name__}"


def _model(namer: TypeNamer, name: str, model: type, cls: str) -> str:
    """A model's class: its attributes as the runtime class names them (one per name)."""
    schema = namer.schemas.get(name) or {}
    required = collect_required(schema, namer.schemas)
    lines = [f"class {cls}:", f"    {_docstring(schema.get('description') or f'The {name} schema.')}"]
    fields = []
    for attr, wire in model._attributes.items():  # type: ignore[attr-defined]
        prop = model._properties.get(wire)  # type: ignore[attr-defined]
        kind = namer.of(prop, dates=True)
        lines.append(f"    {attr}: {kind if wire in required else namer.optional(kind)}")
        fields.append(f"{attr}: {namer.optional(_accepted(namer, kind, namer.of(prop)))} = None")
    extra = ["**fields: _t.Any"] if model._open else []  # type: ignore[attr-defined]
    init = ", ".join(["self", *(["*", *fields] if fields else []), *extra])
    lines += [
        f"    def __init__({init}) -> None: ...",
        "    @classmethod",
        f"    def from_dict(cls, data: _b.dict[_b.str, _t.Any]) -> _M_{model.__name__}: ...",
        "    @classmethod",
        f"    def from_json(cls, text: _b.str | _b.bytes) -> _M_{model.__name__}: ...",
        "    def to_dict(self) -> _b.dict[_b.str, _t.Any]: ...",
        "    def to_json(self) -> _b.str: ...",
    ]
    return "\n".join(lines)


def _accepted(namer: TypeNamer, kind: str, wire_kind: str) -> str:
    """What a constructor takes for a field: the attribute's type, its wire form, a model's dict."""
    types = [kind, wire_kind]
    if namer.is_model(kind):
        types.append("_b.dict[_b.str, _t.Any]")
    return union(types)


def _models_namespace(api: Api, names: dict[str, str]) -> str:
    lines = ["class Models:", '    """The model classes of the spec, by schema name (client.models)."""']
    for schema_name, model in api.models.items():
        if schema_name.isidentifier() and not keyword.iskeyword(schema_name):
            lines.append(f"    {schema_name}: _t.ClassVar[_b.type[_M_{model.__name__}]]")
    return "\n".join(lines)


def _namespace(namer: TypeNamer, cls: str, doc: str, op_ids: list[str]) -> str:
    """One tag's class: ``client.<tag>`` and the generated client's ``<Tag>Api(api_client)``."""
    lines = [
        f"class {cls}:",
        f"    {_docstring(doc)}",
        "    def __init__(self, api_client: ApiClient | None = None) -> None: ...",
    ]
    for op_id in op_ids:
        lines += _methods(namer, namer.api.plans[op_id], raw=True)
    return "\n".join(lines)


def _methods(namer: TypeNamer, plan: CallPlan, raw: bool = False) -> list[str]:
    params = ", ".join(["self", *parameter_list(namer, plan)])
    returns = namer.returns(plan)
    name = plan.op.python_name
    doc = _docstring(plan.op.docstring(), indent="        ")
    lines = [
        f"    def {name}({params}) -> {returns}:",
        f"        {doc}",
        "        ...",
        f"    def {name}_with_http_info({params}) -> ApiResponse[{returns}]: ...",
    ]
    if raw:
        lines.append(f"    def {name}_without_preload_content({params}) -> RESTResponse: ...")
    return lines


def _compat() -> str:
    """The generated client's ``Configuration``, ``ApiClient`` and raw answer."""
    return "\n".join([*_configuration(), *_api_client(), *_rest_response()])


def _configuration() -> list[str]:
    """The generated client's ``Configuration``: where the server is and how to sign in."""
    return [
        "class Configuration:",
        "    host: _b.str",
        "    api_key: _b.dict[_b.str, _b.str]",
        "    api_key_prefix: _b.dict[_b.str, _b.str]",
        "    access_token: _b.str | None",
        "    def __init__(",
        "        self,",
        "        host: _b.str | None = None,",
        "        api_key: _b.dict[_b.str, _b.str] | None = None,",
        "        api_key_prefix: _b.dict[_b.str, _b.str] | None = None,",
        "        access_token: _b.str | None = None,",
        "        ssl_ca_cert: _b.str | None = None,",
        "        verify_ssl: _b.bool = True,",
        "        retries: _b.int | None = None,",
        "        proxy: _b.str | None = None,",
        "        cert_file: _b.str | None = None,",
        "        key_file: _b.str | None = None,",
        "        client_side_validation: _b.bool = True,",
        "        spec: _b.str | _os.PathLike[_b.str] | _t.Iterable[_b.str] | None = None,",
        "    ) -> None: ...",
    ]


def _api_client() -> list[str]:
    """The generated client's ``ApiClient``, which the tag classes take."""
    return [
        "class ApiClient:",
        "    configuration: Configuration",
        "    def __init__(",
        "        self,",
        "        configuration: Configuration | None = None,",
        "        header_name: _b.str | None = None,",
        "        header_value: _b.str | None = None,",
        "        cookie: _b.str | None = None,",
        "    ) -> None: ...",
        "    def set_default_header(self, name: _b.str, value: _b.str) -> None: ...",
        "    def close(self) -> None: ...",
        "    def __enter__(self) -> ApiClient: ...",
        "    def __exit__(self, *exc: _b.object) -> None: ...",
    ]


def _rest_response() -> list[str]:
    """The raw answer of a ``*_without_preload_content`` call."""
    return [
        "class RESTResponse:",
        "    status: _b.int",
        "    reason: _b.str",
        "    headers: _b.dict[_b.str, _b.str]",
        "    data: _b.bytes",
        "    def read(self) -> _b.bytes: ...",
        "    def getheaders(self) -> _b.dict[_b.str, _b.str]: ...",
        "    def getheader(self, name: _b.str, default: _b.str | None = None) -> _b.str | None: ...",
    ]


def _client(namer: TypeNamer) -> str:
    api = namer.api
    task_class = namer.model_class("TaskInfo")
    task = f"_M_{task_class}" if task_class else "_t.Any"
    lines = [
        "class Client:",
        '    """A client for an ODM server, with one method per operation of the spec."""',
        "    host: _b.str",
        "    models: Models",
        "    def __init__(",
        "        self,",
        "        host: _b.str | None = None,",
        "        *,",
        "        token: _b.str | None = None,",
        "        access_token: _b.str | None = None,",
        "        spec: _b.str | _os.PathLike[_b.str] | _t.Iterable[_b.str] | None = None,",
        '        validate_requests: _t.Literal["strict", "warn", "off"] = "strict",',
        '        validate_responses: _t.Literal["strict", "warn", "off"] = "strict",',
        '        unknown_enums: _t.Literal["warn", "strict"] = "warn",',
        "        timeout: _b.float | _b.tuple[_b.float, _b.float] | None = ...,",
        "        retries: _t.Any = None,",
        "        retry_unsafe: _b.bool = False,",
        "        credentials: _t.Mapping[_b.str, _b.str] | None = None,",
        "        headers: _t.Mapping[_b.str, _b.str] | None = None,",
        "        verify: _b.bool | _b.str = True,",
        "        session: _t.Any = None,",
        "        transport: _t.Any = None,",
        "        on_exchange: _t.Any = None,",
        "        spec_auth: _b.bool = False,",
        "        refresh: _b.bool = False,",
        "    ) -> None: ...",
        "    @classmethod",
        "    def from_env(cls, environ: _t.Mapping[_b.str, _b.str] | None = None, **options: _t.Any) -> Client: ...",
        "    def __enter__(self) -> Client: ...",
        "    def __exit__(self, *exc: _b.object) -> None: ...",
        "    def close(self) -> None: ...",
        "    def call(self, operation_id: _b.str, *args: _t.Any, **kwargs: _t.Any) -> _t.Any: ...",
        "    def wait_for_task(",
        "        self,",
        f"        id: _b.str | {task},",
        "        timeout: _b.float | None = None,",
        "        interval: _b.float = 0.5,",
        "        *,",
        "        max_interval: _b.float = 10.0,",
        "        backoff: _b.float = 1.5,",
        "        raise_on_failure: _b.bool = False,",
        "        progress: _b.bool | _t.Any = False,",
        f"        on_poll: _t.Callable[[{task}, _b.float], None] | None = None,",
        f"    ) -> {task}: ...",
        f"    def wait_for_tasks(self, ids: _t.Iterable[_b.str | {task}], timeout: _b.float | None = None,"
        f" interval: _b.float = 0.5, **options: _t.Any) -> _t.Iterator[{task}]: ...",
        "    def wait_for_job(self, job_exec_id: _t.Any, timeout: _b.float | None = None, interval: _b.float = 0.5,"
        " **options: _t.Any) -> _t.Any: ...",
        "    def wait_for_jobs(self, job_exec_ids: _t.Iterable[_t.Any], timeout: _b.float | None = None,"
        " interval: _b.float = 0.5, **options: _t.Any) -> _t.Iterator[_b.tuple[_t.Any, _t.Any]]: ...",
        "    def paginate(self, method: _t.Any, *args: _t.Any, page_size: _b.int | None = None,"
        " limit: _b.int | None = None, progress: _b.bool | _t.Any = False, **params: _t.Any) -> _t.Any: ...",
    ]
    for attr, (tag, _) in api.tags.items():
        lines.append(f"    {attr}: {api.tag_class_name(tag)}")
    for plan in api.plans.values():
        lines += _methods(namer, plan)
    return "\n".join(lines)


def _docstring(text: str, indent: str = "    ") -> str:
    """A triple-quoted docstring that survives any text the spec holds: quotes, backslashes
    and characters that are not printable are escaped one by one."""
    out = []
    for ch in text.strip():
        if ch == "\n":
            out.append("\n" + indent)
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(ch)
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"""' + "".join(out) + '"""'


def stub_label(spec: Any) -> str:
    if spec is None:
        return "bundled tasks.yaml"
    items = [spec] if isinstance(spec, (str, os.PathLike)) else list(spec)
    return ", ".join(os.path.basename(os.fspath(item)) for item in items)
