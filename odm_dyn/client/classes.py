"""The classes made once per loaded spec: the client's methods, tag groups and model namespace."""

from __future__ import annotations

import inspect
import threading
from typing import TYPE_CHECKING, Any, Callable

from ..api.model import Model
from ..api.plans import Api, CallPlan

if TYPE_CHECKING:
    from .client import Client

# --------------------------------------------------------------------------- classes per spec


class ModelNamespace:
    """Model classes by schema name, as attributes."""

    def __init__(self, models: dict[str, type[Model]]):
        self._models = models

    def __getattr__(self, name: str) -> type[Model]:
        try:
            return self._models[name]
        except KeyError:
            raise AttributeError(f"the spec has no schema {name!r}") from None

    def __dir__(self) -> list[str]:
        return sorted(self._models)


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
                namespace.update(make_methods(plan, _itself, base.__name__, coroutines))
            for attr, (tag, op_ids) in api.tags.items():
                namespace[attr] = _tag_property(attr, tag_class(api, tag, op_ids, coroutines=coroutines))
            _classes[key] = type(base.__name__, (base,), namespace)
    return _classes[key]


def _itself(client: Any) -> Any:
    return client


def make_methods(
    plan: CallPlan, client_of: Callable[[Any], Client], owner: str, coroutines: bool = False
) -> dict[str, Callable]:
    """``name`` and ``name_with_http_info`` functions for one operation; with ``coroutines``,
    ``async def`` functions (for ``AsyncClient``, whose ``_call`` is a coroutine)."""
    op = plan.op
    if coroutines:
        method, method_with_http_info = _coroutine_methods(plan, client_of)
    else:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return client_of(self)._call(plan, args, kwargs, False)

        def method_with_http_info(self: Any, *args: Any, **kwargs: Any) -> Any:
            return client_of(self)._call(plan, args, kwargs, True)

    signature = op.signature()
    for function, name, doc in (
        (method, op.python_name, op.docstring()),
        (
            method_with_http_info,
            op.python_name + "_with_http_info",
            op.docstring() + "\n\nReturns an ApiResponse (status_code, headers, data, raw_data).",
        ),
    ):
        function.__name__ = name
        function.__qualname__ = f"{owner}.{name}"
        function.__doc__ = doc
        function.__signature__ = signature  # type: ignore[attr-defined]
    return {method.__name__: method, method_with_http_info.__name__: method_with_http_info}


def _coroutine_methods(plan: CallPlan, client_of: Callable[[Any], Any]) -> tuple[Callable, Callable]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await client_of(self)._call(plan, args, kwargs, False)

    async def method_with_http_info(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await client_of(self)._call(plan, args, kwargs, True)

    return method, method_with_http_info


def tag_class(api: Api, tag: str, op_ids: list[str], base: type = TagNamespace, *, coroutines: bool = False) -> type:
    name = api.tag_class_name(tag)
    namespace: dict[str, Any] = {"_tag": tag, "__doc__": f"Operations tagged {tag!r}.", "__module__": "odm_dyn"}
    for op_id in op_ids:
        namespace.update(make_methods(api.plans[op_id], _client_of_namespace, name, coroutines))
    return type(name, (base,), namespace)


def _client_of_namespace(namespace: Any) -> Client:
    return namespace._client


def _tag_property(attr: str, cls: type) -> property:
    def get(self: Client) -> Any:
        found = self._namespaces.get(attr)
        if found is None:
            found = self._namespaces[attr] = cls(self)
        return found

    get.__doc__ = cls.__doc__
    return property(get)


def init_signature(cls: type) -> inspect.Signature:
    """``cls(...)``'s signature as ``__init__`` declares it (``__new__`` takes ``**_``)."""
    signature = inspect.signature(cls.__init__)
    return signature.replace(parameters=list(signature.parameters.values())[1:])
