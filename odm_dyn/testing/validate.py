"""Check exchanges made without odm_dyn against the spec.

    import requests
    from odm_dyn.testing import validate_exchange

    r = requests.get(f"{url}/api/v1/tasks/GSF000123", headers={"Genestack-API-Token": token})
    assert validate_exchange(odm_dyn.TASKS_SPEC, r) == []

The operation is found by method and path (templates matched as the embedded server matches
them), then the request's parameters and body and the response's status and body run through
the same compiled checks the client and the server use. The pytest plugin
(``odm_dyn.pytest_plugin``) builds on the same pieces for clients made by its fixtures.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from ..api.load import load_api
from ..api.plans import Api, CallPlan
from ..api.schemas import Violation
from ..spec.document import SpecSource
from ..wire.exchange import response_violations
from ..wire.incoming import IncomingRequest, Problem, check_body, check_incoming
from ..wire.messages import RawResponse
from ..wire.routing import Router

REQUEST = "request"
RESPONSE = "response"


class ExchangeViolation(Violation):
    """A :class:`~odm_dyn.validation.Violation` that also says which half broke the spec."""

    __slots__ = ("where",)
    where: str

    def __init__(self, path: str, rule: str, message: str, where: str = RESPONSE, *, value: Any = None) -> None:
        super().__init__(path, rule, message, value=value)
        object.__setattr__(self, "where", where)  # "request" or "response"; immutable as its base

    def _compared(self) -> tuple[Any, ...]:
        return (self.path, self.rule, self.message, self.where)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, where={self.where!r})"

    def __str__(self) -> str:
        return f"{self.where} {self.path}: {self.message}"


def validate_exchange(spec: SpecSource | Api, request: Any, response: Any = None) -> list[ExchangeViolation]:
    """Every way a ``requests`` exchange breaks the spec; an empty list when it keeps to it.

    ``request`` is a ``requests.PreparedRequest`` (``response.request``); a ``requests.Response``
    alone is accepted too, its ``.request`` being the request. ``spec`` is a spec path, a list
    of them, or an :class:`~odm_dyn.api.Api`.
    """
    if response is None and hasattr(request, "status_code"):
        request, response = request.request, request
    api = spec if isinstance(spec, Api) else load_api(spec)
    method = str(request.method or "GET").upper()
    found = find_operation(api, method, str(request.url))
    if isinstance(found, ExchangeViolation):
        return [found]
    plan, path = found
    violations = request_violations(plan, request, path)
    if response is not None:
        violations += [_tagged(v, RESPONSE) for v in response_violations(plan, raw_response(response))]
    return violations


def find_operation(api: Api, method: str, url: str) -> tuple[CallPlan, str] | ExchangeViolation:
    """The operation serving ``method url`` and the path it serves (without a server URL's base
    path), or why there is none."""
    path = urlsplit(url).path or "/"
    router = _router(api)
    for candidate in _unprefixed(api, path):
        found = router.match(candidate)
        if found is None:
            continue
        route, _ = found
        plan = route.plans.get(method)
        if plan is None:
            message = f"{method} is not declared for {route.template}; declared: {route.allow}"
            return ExchangeViolation("$", "method", message, REQUEST)
        return plan, candidate
    return ExchangeViolation("$", "operation", f"no operation of the spec serves {method} {path}", REQUEST)


def _unprefixed(api: Api, path: str) -> list[str]:
    """The path, and the path without a server URL's base path (``https://host/odm`` → ``/odm``)."""
    candidates = [path]
    for server in api.servers:
        base = urlsplit(server).path.rstrip("/")
        if base and path.startswith(base + "/"):
            candidates.append(path[len(base) :])
    return candidates


@functools.lru_cache(maxsize=16)
def _router(api: Api) -> Router:
    return Router(api.plans.values())


def request_violations(plan: CallPlan, request: Any, path: str) -> list[ExchangeViolation]:
    """The request held to the spec by the embedded server's own check
    (:func:`odm_dyn.wire.incoming.check_incoming`): the same request, the same verdict."""
    headers = {str(k): str(v) for k, v in (request.headers or {}).items()}
    incoming = IncomingRequest.from_url(
        str(request.method or "GET"), str(request.url), headers, _body_bytes(request.body), path
    )
    return [_from_problem(p) for p in check_incoming(plan, incoming)]


def body_violations(plan: CallPlan, content_type: str, body: bytes) -> list[ExchangeViolation]:
    """The request body against the operation's declared media types and schema."""
    return [_from_problem(p) for p in check_body(plan, content_type, body)]


def _from_problem(problem: Problem) -> ExchangeViolation:
    return ExchangeViolation(problem.path, problem.rule, problem.detail, REQUEST)


def raw_response(response: Any) -> RawResponse:
    """A ``requests.Response`` as the client's :class:`~odm_dyn.transport.RawResponse`."""
    return RawResponse(int(response.status_code), response.reason or "", response.headers, response.content or b"")


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    raise TypeError(f"cannot validate a streamed request body ({type(body).__name__}); send bytes or text")


def _tagged(violation: Violation, where: str) -> ExchangeViolation:
    return ExchangeViolation(violation.path, violation.rule, violation.message, where, value=violation.value)


__all__ = ["ExchangeViolation", "body_violations", "find_operation", "raw_response", "validate_exchange"]
