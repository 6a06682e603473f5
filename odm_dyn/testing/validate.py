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
import json
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from ..api.load import load_api
from ..api.plans import Api, CallPlan
from ..api.schemas import Violation
from ..spec.document import SpecSource
from ..spec.media import base_media, is_json_media
from ..wire.exchange import response_violations
from ..wire.messages import RawResponse

REQUEST = "request"
RESPONSE = "response"


@dataclass(frozen=True)
class ExchangeViolation(Violation):
    """A :class:`~odm_dyn.validation.Violation` that also says which half broke the spec."""

    where: str = RESPONSE  # "request" or "response"

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
    plan, path_params = found
    violations = request_violations(plan, request, path_params)
    if response is not None:
        violations += [_tagged(v, RESPONSE) for v in response_violations(plan, raw_response(response))]
    return violations


def find_operation(api: Api, method: str, url: str) -> tuple[CallPlan, dict[str, str]] | ExchangeViolation:
    """The operation serving ``method url`` and its path parameters, or why there is none."""
    path = urlsplit(url).path or "/"
    router = _router(api)
    for candidate in _unprefixed(api, path):
        found = router.match(candidate)
        if found is None:
            continue
        route, params = found
        plan = route.plans.get(method)
        if plan is None:
            message = f"{method} is not declared for {route.template}; declared: {route.allow}"
            return ExchangeViolation("$", "method", message, REQUEST)
        return plan, params
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
def _router(api: Api) -> Any:
    from ..wire.routing import Router

    return Router(api.plans.values())


def request_violations(plan: CallPlan, request: Any, path_params: Mapping[str, str]) -> list[ExchangeViolation]:
    """The request's parameters (converted from text as the server does) and body, checked."""
    from ..server.params import convert

    query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
    headers = {str(k).lower(): str(v) for k, v in (request.headers or {}).items()}
    cookies = {name: morsel.value for name, morsel in SimpleCookie(headers.get("cookie", "")).items()}
    sources: dict[str, Mapping[str, Any]] = {"path": path_params, "query": query, "header": headers, "cookie": cookies}
    violations: list[ExchangeViolation] = []
    for python_name, param in plan.params.items():
        key = param.name.lower() if param.location == "header" else param.name
        raw = sources[param.location].get(key)
        if raw is None:
            if param.required:
                message = f"the required {param.location} parameter {param.name!r} is missing"
                violations.append(ExchangeViolation(f"{param.location}.{param.name}", "required", message, REQUEST))
            continue
        check = plan.checks.get(python_name)
        root = f"{param.location}.{param.name}"
        found = check.violations(convert(param, raw), root) if check is not None else []
        violations += [_tagged(v, REQUEST) for v in found]
    return violations + body_violations(plan, headers.get("content-type", ""), _body_bytes(request.body))


def body_violations(plan: CallPlan, content_type: str, body: bytes) -> list[ExchangeViolation]:
    """The request body against the operation's declared media types and schema."""
    declared = plan.op.body
    if declared is None:
        return []
    if not body:
        missing = ExchangeViolation("$", "required", "the request body is required", REQUEST)
        return [missing] if declared.required else []
    media = base_media(content_type)
    if media not in plan.body_checks:
        offered = ", ".join(plan.body_checks) or "none"
        message = f"the body is sent as {media or 'no media type'}; the spec accepts {offered}"
        return [ExchangeViolation("$", "content-type", message, REQUEST)]
    check = plan.body_checks[media]
    if check is None or not is_json_media(media):
        return []
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return [ExchangeViolation("$", "json", "the request body is not valid JSON", REQUEST)]
    return [_tagged(v, REQUEST) for v in check.violations(data, "$")]


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
