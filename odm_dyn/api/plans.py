"""A loaded spec, compiled for calling: operations, call plans and model classes.

Everything in an :class:`Api` depends on the spec alone, so it is built once per spec source
and shared by every client made from it (``load_api`` caches it). A :class:`CallPlan` holds
all that one operation's calls need, so the per-call path does dictionary look-ups and runs
precompiled validators, nothing more.
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import SpecError
from ..names import WITH_HTTP_INFO, close_names, did_you_mean, free_name, pascal_case, snake_case
from ..spec.document import Document
from ..spec.media import is_json_media
from .model import Model, make_model_class
from .operations import Operation, Parameter, build_operations
from .schemas import REQUEST, RESPONSE, SchemaCheck, SchemaCompiler
from .sharing import Shared

# Names a Client (or a generated-client ``<Tag>Api`` object) owns; an operation or tag with
# one of these names gets "_" appended. tests/test_openapi_features.py checks it is complete.
CLIENT_ATTRIBUTES = frozenset(
    {
        "api",
        "api_client",
        "call",
        "call_with_http_info",
        "close",
        "configuration",
        "from_env",
        "host",
        "on_exchange",
        "models",
        "operations",
        "paginate",
        "session",
        "transport",
        "wait_for_job",
        "wait_for_jobs",
        "wait_for_task",
        "wait_for_tasks",
    }
)


# Not dataclasses: a client's start must not import them (tests/test_perf_guards.py, issue 19).
class ResponsePlan:
    """What reading one declared response needs: its checks and models, by media type."""

    __slots__ = ("status", "description", "checks", "models", "media_keys")

    def __init__(
        self,
        status: str,
        description: str,
        checks: dict[str, SchemaCheck | None],
        models: dict[str, tuple[str, str] | None],
    ) -> None:
        self.status = status
        self.description = description
        self.checks = checks  # media type → check (None: no schema declared)
        self.models = models  # media type → ("one"|"many", model name)
        # An answer's Content-Type text → (its media type, the declared key it falls in, read as
        # JSON): filled by ``wire.answer.media_of`` as answers come, so the media-range rule runs
        # once per Content-Type a server sends, not on every call.
        self.media_keys: dict[str, tuple[str, str | None, bool]] = {}

    def __repr__(self) -> str:
        return f"ResponsePlan(status={self.status!r}, description={self.description!r}, models={self.models!r})"


class CallPlan:
    """What every call of one operation needs, prepared at load time."""

    __slots__ = (
        "op",
        "positional",
        "params",
        "required",
        "checks",
        "body_media",
        "body_checks",
        "responses",
        "accept",
        "allowed",
        "returns_task",
        "deprecations",
    )

    def __init__(
        self,
        op: Operation,
        positional: tuple[str, ...],
        params: dict[str, Parameter],
        required: frozenset[str],
        checks: dict[str, SchemaCheck],
        body_media: str | None,
        body_checks: dict[str, SchemaCheck | None],
        responses: dict[str, ResponsePlan],
        accept: str,
        allowed: frozenset[str] = frozenset(),
        returns_task: bool = False,
        deprecations: tuple[str, ...] = (),
    ) -> None:
        self.op = op
        self.positional = positional
        self.params = params  # python name → parameter
        self.required = required
        self.checks = checks  # python name → compiled check
        self.body_media = body_media
        self.body_checks = body_checks
        self.responses = responses
        self.accept = accept
        self.allowed = allowed
        self.returns_task = returns_task
        # What to warn about when used: deprecated parameters' Python names, "" for the operation.
        self.deprecations = deprecations

    def __repr__(self) -> str:  # the operation by its id: its own repr is long
        return f"CallPlan(op={self.op.operation_id!r}, positional={self.positional!r}, accept={self.accept!r})"

    def response_for(self, status: int) -> ResponsePlan | None:
        """The declared response for a status: exact, then ``2XX``-style, then ``default``."""
        plans = self.responses
        return plans.get(str(status)) or plans.get(f"{str(status)[0]}XX") or plans.get("default")


class Api:
    """A spec compiled for calling; shared by the clients made from it."""

    def __init__(self, documents: list[Document]):
        self.documents = documents
        self.operations = build_operations(documents, reserved=CLIENT_ATTRIBUTES)
        self.models: dict[str, type[Model]] = {}
        self._model_documents: dict[str, Document] = {}
        self.discriminators: dict[str, tuple[str, dict[str, str]]] = {}  # schema → (property, value → schema)
        for document in documents:
            self._make_models(document)
        self.tags = tag_names(self.operations)
        self.security_schemes: dict[str, dict[str, Any]] = {}
        for document in documents:
            self.security_schemes.update((document.data.get("components") or {}).get("securitySchemes") or {})
        self.servers = [s.get("url") for d in documents for s in d.data.get("servers") or [] if s.get("url")]
        # A document from the cache compiled before: its checks compile on first use (api.schemas).
        self._compilers = {id(d): SchemaCompiler(d, deferred=d.compiled) for d in documents}
        for name, document in self._model_documents.items():
            model = self.models[name]
            model._field_check = staticmethod(_field_checker(model, self._compilers[id(document)]))
        shared = Shared()  # equal parts of plans (responses, name sets) are one object: see sharing
        self.plans = {op_id: self._located_plan(op, shared) for op_id, op in self.operations.items()}
        self.by_python_name = {op.python_name: self.plans[op.operation_id] for op in self.operations.values()}
        # Lowercase names of the headers and query parameters the security schemes send credentials in.
        self.secret_names = frozenset(
            str(scheme["name"]).lower()
            for scheme in self.security_schemes.values()
            if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("name")
        )

    # ------------------------------------------------------------------ look-up

    def find_plan(self, name: str) -> CallPlan:
        """An operation's plan by operationId, Python name or kebab-case name (``get-task-info``).

        Raises :class:`LookupError` naming the closest operations when there is none.
        """
        plan = (
            self.plans.get(name)
            or self.by_python_name.get(name)
            or self.by_python_name.get(name.replace("-", "_"))
            or self.by_python_name.get(snake_case(name))
        )
        if plan is None:
            raise LookupError(f"the spec has no operation {name!r}{self._did_you_mean(name)}")
        return plan

    def _did_you_mean(self, name: str) -> str:
        """``; did you mean a, b?``: the closest operations, each named once, in the style asked."""
        forms: dict[str, str] = {}  # a name as written → operationId
        for op_id, plan in self.plans.items():
            python_name = plan.op.python_name
            for form in (op_id, python_name, python_name.replace("_", "-")):
                forms.setdefault(form, op_id)
        shown: dict[str, str] = {}
        for form in close_names(name, forms, n=9):
            shown.setdefault(forms[form], form)
        return did_you_mean(name, list(shown.values()))

    # ------------------------------------------------------------------ models

    def _make_models(self, document: Document) -> None:
        schemas = (document.data.get("components") or {}).get("schemas") or {}
        for name, schema in schemas.items():
            if name not in self.models and isinstance(schema, dict):
                make_model_class(name, schema, schemas, self.models)
                self._model_documents[name] = document
            if isinstance(schema, dict) and isinstance(schema.get("discriminator"), dict):
                self.discriminators[name] = _discriminator(schema)

    def model_for(self, name: str, data: Any) -> type[Model]:
        """The model class for a value of schema ``name``: the discriminator's choice, if any."""
        found = self.discriminators.get(name)
        if found is not None and isinstance(data, dict):
            chosen = found[1].get(str(data.get(found[0])))
            if chosen in self.models:
                return self.models[chosen]
        return self.models[name]

    # ------------------------------------------------------------------ tags

    def tag_class_name(self, tag: str) -> str:
        """The generated client's class name for a tag: ``Tasks API`` → ``TasksAPIApi``."""
        return pascal_case(tag) + "Api"

    # ------------------------------------------------------------------ plans

    def _located_plan(self, op: Operation, shared: Shared) -> CallPlan:
        """The plan; a schema that cannot be compiled is named by the operation it belongs to."""
        try:
            return self._plan(op, shared)
        except SpecError as exc:
            if exc.file is not None:
                raise
            raise SpecError(f"{op.operation_id}: {exc}", file=op.document.path, pointer=op.pointer) from exc

    def _plan(self, op: Operation, shared: Shared) -> CallPlan:
        compiler = self._compilers[id(op.document)]
        params = shared.mapping({p.python_name: p for p in op.parameters})
        body_checks: dict[str, SchemaCheck | None] = {}
        body_media = None
        if op.body is not None:
            for media, schema in op.body.content.items():
                body_checks[media] = compiler.check(schema, REQUEST) if schema else None
            body_media = _preferred_media(list(op.body.content))
        responses = self._response_plans(compiler, op, shared)
        accept = _preferred_media(op.success_media_types()) or "application/json"
        plan = CallPlan(
            op=op,
            positional=shared.same(tuple(p.python_name for p in op.positional())),
            params=params,
            required=shared.same(frozenset(p.python_name for p in op.parameters if p.required)),
            checks=shared.mapping({name: compiler.check(p.schema, REQUEST) for name, p in params.items()}),
            body_media=body_media,
            body_checks=shared.mapping(body_checks),
            responses=responses,
            accept=accept,
        )
        plan.allowed = shared.same(frozenset(params) | ({"body"} if op.body is not None else set()))
        plan.returns_task = _returns_model(responses, "TaskInfo")
        plan.deprecations = ("",) * op.deprecated + tuple(p.python_name for p in op.parameters if p.deprecated)
        return plan

    def _response_plans(self, compiler: SchemaCompiler, op: Operation, shared: Shared) -> dict[str, ResponsePlan]:
        """Status → plan; operations that share a response (an equal one: see ``operations``) share its plan."""
        plans = {}
        for status, response in op.responses.items():
            make = functools.partial(self._response_plan, compiler, response)
            plans[status] = shared.get(("response plan", id(response)), make)
        return shared.mapping(plans)

    def _response_plan(self, compiler: SchemaCompiler, response: Any) -> ResponsePlan:
        checks: dict[str, SchemaCheck | None] = {}
        models: dict[str, tuple[str, str] | None] = {}
        for media, schema in response.content.items():
            checks[media] = compiler.check(schema, RESPONSE) if schema else None
            # Only a JSON answer becomes a model: a TSV or binary answer stays str or bytes.
            models[media] = _model_of(schema, self.models) if is_json_media(media) else None
        return ResponsePlan(response.status, response.description, checks, models)


def _discriminator(schema: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(property, value → schema name): explicit mappings, else each alternative by its own name."""
    discriminator = schema["discriminator"]
    choices: dict[str, str] = {}
    for choice in schema.get("oneOf") or schema.get("anyOf") or []:
        ref = choice.get("$ref") if isinstance(choice, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            choices[ref.rsplit("/", 1)[-1]] = ref.rsplit("/", 1)[-1]
    for value, ref in (discriminator.get("mapping") or {}).items():
        if isinstance(ref, str):
            choices[str(value)] = ref.rsplit("/", 1)[-1]
    return str(discriminator.get("propertyName", "")), choices


def _field_checker(model: type[Model], compiler: SchemaCompiler) -> Any:
    """A model constructor's check of one field: its property's schema, compiled on first use."""
    checks: dict[str, SchemaCheck] = {}

    def check(wire: str, value: Any) -> list[Any]:
        found = checks.get(wire)
        if found is None:
            prop = model._properties.get(wire)
            if not isinstance(prop, dict):
                return []
            found = checks[wire] = compiler.check(prop, REQUEST)
        return found.violations(value, wire)

    return check


def tag_names(operations: dict[str, Operation]) -> dict[str, tuple[str, list[str]]]:
    """Tag attribute name → (tag, operationIds); names settled by the naming rule."""
    taken = set(CLIENT_ATTRIBUTES)
    for op in operations.values():
        taken.update((op.python_name, op.python_name + WITH_HTTP_INFO))
    by_tag: dict[str, list[str]] = {}
    for op in operations.values():
        for tag in op.tags:
            by_tag.setdefault(tag, []).append(op.operation_id)
    return {free_name(snake_case(tag), taken): (tag, ids) for tag, ids in by_tag.items()}


def command_head(tags: dict[str, tuple[str, list[str]]], op: Operation) -> str:
    """The shell command of an operation: ``odm-dyn TAG OPERATION`` (kebab-case) when it has a
    tag, else ``odm-dyn call OPERATION_ID``. The command line and the waits' resume hints use it."""
    for attr, (_tag, op_ids) in tags.items():
        if op.operation_id in op_ids:
            return f"odm-dyn {attr.replace('_', '-')} {op.python_name.replace('_', '-')}"
    return f"odm-dyn call {op.operation_id}"


def _preferred_media(media: list[str]) -> str | None:
    """JSON first (the default of every call), else the first declared."""
    for candidate in media:
        if is_json_media(candidate):
            return candidate
    return media[0] if media else None


def _model_of(schema: Any, models: dict[str, type[Model]]) -> tuple[str, str] | None:
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        return ("one", name) if name in models else None
    if schema.get("type") == "array":
        inner = _model_of(schema.get("items"), models)
        return ("many", inner[1]) if inner and inner[0] == "one" else None
    return None


def _returns_model(responses: dict[str, ResponsePlan], name: str) -> bool:
    return any(
        models == ("one", name)
        for plan in responses.values()
        if plan.status.startswith("2")
        for models in plan.models.values()
    )
