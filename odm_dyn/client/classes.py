"""The classes made once per loaded spec: the client's methods, tag groups and model namespace.

Tag groups are instance attributes and models class attributes of a class made per spec (not
properties or ``__getattr__``), so completers that never run code (jedi in IPython and Jupyter)
see them. Signatures are made when something asks for one: whatever asks has imported
``inspect`` already, and a client's start need not (it was a twentieth of a cold start).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from ..api.model import Model
from ..api.plans import Api, CallPlan

if TYPE_CHECKING:
    import inspect

    from ..api.operations import Operation
    from .client import Client

# --------------------------------------------------------------------------- classes per spec


class ModelNamespace:
    """Model classes by schema name, as attributes (``client.models.TaskInfo``).

    One class per spec holds the models as class attributes, so completers that read
    ``dir()`` and attributes without running code (jedi, IPython) list them.
    """

    def __getattr__(self, name: str) -> type[Model]:
        raise AttributeError(f"the spec has no schema {name!r}")

    def __repr__(self) -> str:
        return f"<models of the spec: {', '.join(sorted(n for n in dir(type(self)) if not n.startswith('_')))}>"


def model_namespace(api: Api) -> ModelNamespace:
    """The ``client.models`` object of a spec: its classes as class attributes."""
    attributes: dict[str, Any] = {"__doc__": "The model classes of the spec, by schema name.", "__module__": "odm_dyn"}
    for name, model in api.models.items():
        if name.isidentifier():
            attributes[name] = model
        attributes.setdefault(model.__name__, model)
    return type("Models", (ModelNamespace,), attributes)()


class TagNamespace:
    """The operations of one tag (``client.tasks_api``)."""

    _tag = ""

    def __init__(self, client: Client):
        self._client = client

    def __repr__(self) -> str:
        return f"<{self._tag} operations of {self._client!r}>"


_classes: dict[tuple[int, type], type] = {}
_classes_lock = threading.Lock()


def client_class(api: Api, base: type | None = None) -> Any:
    """The Client (or AsyncClient: ``base``) subclass for a compiled spec, made once: its methods
    are the operations."""
    if base is None:
        from .client import Client  # the module that defines Client imports this one

        base = Client
    if getattr(base, "api", None) is api:
        return base
    key = (id(api), base)
    with _classes_lock:
        if key not in _classes:
            namespace: dict[str, Any] = {"api": api, "__module__": base.__module__, "__doc__": base.__doc__}
            coroutines = bool(getattr(base, "_coroutines", False))  # AsyncClient: every method a coroutine
            for plan in api.plans.values():
                namespace.update(make_methods(plan, _itself, base.__name__, coroutines=coroutines))
            groups = {
                attr: tag_class(api, tag, op_ids, coroutines=coroutines) for attr, (tag, op_ids) in api.tags.items()
            }
            namespace["__init__"] = _init_with_groups(base, groups)
            namespace["models"] = model_namespace(api)
            _classes[key] = type(base.__name__, (base,), namespace)
    return _classes[key]


def _itself(client: Any) -> Any:
    return client


def make_methods(
    plan: CallPlan, client_of: Callable[[Any], Client], owner: str, raw: bool = False, coroutines: bool = False
) -> dict[str, Callable]:
    """``name`` and ``name_with_http_info`` functions for one operation (and, with ``raw``,
    the generated client's ``name_without_preload_content``, which returns the answer unread);
    with ``coroutines``, ``async def`` functions (for ``AsyncClient``, whose ``_call`` is a
    coroutine)."""
    op = plan.op
    variants: list[tuple[str, Any, str]] = [
        ("", False, ""),
        ("_with_http_info", True, "\n\nReturns an ApiResponse (status_code, headers, data, raw_data)."),
    ]
    if raw:
        variants.append(("_without_preload_content", "raw", "\n\nReturns the raw answer (status, headers, data)."))
    make = _coroutine_method if coroutines else _method
    signature = SignatureLater(op, make)
    methods = {}
    for suffix, mode, note in variants:
        function = make(plan, client_of, mode)
        function.__name__ = op.python_name + suffix
        function.__qualname__ = f"{owner}.{function.__name__}"
        function.__doc__ = op.docstring() + note
        function.__wrapped__ = signature  # type: ignore[attr-defined]
        methods[function.__name__] = function
    return methods


class SignatureLater:
    """What a generated method's ``__wrapped__`` is: the operation's signature, made on first use.

    ``inspect.signature`` (and so ``help()``, IPython and jedi) follows ``__wrapped__`` to the first
    object that has a ``__signature__``, and returns that: this one, made then and kept. A function
    cannot hold such a lazy attribute itself, and making every signature while the client class
    is built would import ``inspect`` on every client's start. What unwraps further, to code
    (``inspect.getsource``, ``typing.get_type_hints``, IPython's ``??``), reaches ``made_by``:
    the function that makes the methods, whose source holds their code.
    """

    __slots__ = ("_op", "_made", "__wrapped__")

    def __init__(self, op: Operation, made_by: Callable[..., Any]) -> None:
        self._op = op
        self._made: inspect.Signature | None = None
        self.__wrapped__ = made_by

    @property
    def __signature__(self) -> inspect.Signature:
        if self._made is None:
            self._made = self._op.signature()
        return self._made

    def __repr__(self) -> str:
        return f"<signature of {self._op.operation_id}>"


def _method(plan: CallPlan, client_of: Callable[[Any], Client], mode: Any) -> Callable[..., Any]:
    if mode == "raw":

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._raw_answer(client_of(self)._call(plan, args, kwargs, mode))

    else:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return client_of(self)._call(plan, args, kwargs, mode)

    return method


def _coroutine_method(plan: CallPlan, client_of: Callable[[Any], Any], mode: Any) -> Callable[..., Any]:
    if mode == "raw":  # the generated client's classes are blocking; no coroutine is ever raw
        raise ValueError("no coroutine returns the raw answer")

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await client_of(self)._call(plan, args, kwargs, mode)

    return method


def tag_class(
    api: Api, tag: str, op_ids: list[str], base: type = TagNamespace, raw: bool = False, *, coroutines: bool = False
) -> type:
    name = api.tag_class_name(tag)
    namespace: dict[str, Any] = {"_tag": tag, "__doc__": f"Operations tagged {tag!r}.", "__module__": "odm_dyn"}
    for op_id in op_ids:
        namespace.update(make_methods(api.plans[op_id], _client_of_namespace, name, raw, coroutines))
    return type(name, (base,), namespace)


def _client_of_namespace(namespace: Any) -> Client:
    return namespace._client


def _init_with_groups(base: type, groups: dict[str, type]) -> Callable[..., None]:
    """``__init__`` that also sets each tag group as an instance attribute.

    A plain attribute, not a property: completers that never run code (jedi in IPython and
    Jupyter) read it and complete ``client.tasks_api.<TAB>``.
    """

    base_init: Callable[..., None] = base.__init__  # type: ignore[misc]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        base_init(self, *args, **kwargs)
        for attr, cls in groups.items():
            setattr(self, attr, cls(self))

    __init__.__wrapped__ = base_init  # type: ignore[attr-defined]  # its signature is the base's
    __init__.__doc__ = base_init.__doc__
    return __init__


class InitSignature:
    """A class's ``__signature__``: ``cls(...)`` as ``__init__`` declares it (``__new__`` takes
    ``**_``), made when first asked for. Subclasses inherit it and get their own."""

    def __init__(self) -> None:
        self._made: dict[type, inspect.Signature] = {}

    def __get__(self, instance: Any, owner: type) -> inspect.Signature:
        made = self._made.get(owner)
        if made is None:
            import inspect  # whoever asks for a signature has it imported already

            signature = inspect.signature(owner.__init__)  # type: ignore[misc]
            made = self._made[owner] = signature.replace(parameters=list(signature.parameters.values())[1:])
        return made
