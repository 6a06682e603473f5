"""The call pipeline, as plain functions that do no I/O::

    bind arguments → validate (compiled checks) → encode into a Request
        → [the transport sends it] → read the answer → model

Everything a client fixes for all its calls (its headers, credentials, modes, the scrubber of
its secrets) is one :class:`CallSettings`, made once. A synchronous and an asynchronous client
share every function here; only the transport between :func:`prepare` and :func:`read_answer`
differs.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from ..api.model import to_wire
from ..api.plans import Api, CallPlan
from ..errors import RequestValidationError
from ..secrets import CredentialPairs, Hide, RedactedHeaders, scrubber
from ..wire.bodies import encode_body
from ..wire.messages import RawResponse, Request
from ..wire.styles import check_header_text, cookie_value, header_value, path_segment, query_pairs, render_path
from .binding import bind_arguments, body_media, check_request, warn_deprecated
from .credentials import auth_for
from .response import ApiResponse, read_response, read_streamed

USER_AGENT = "odm-dyn"


# Not dataclasses: a client's start must not import them (tests/test_perf_guards.py, issue 19).
class CallSettings:
    """What one client fixes for every call it makes."""

    __slots__ = (
        "api",
        "headers",
        "credentials",
        "validate_requests",
        "validate_responses",
        "hide",
        "unknown_enums",
        "_fixed",
    )

    def __init__(
        self,
        api: Api,
        headers: dict[str, str],
        credentials: dict[str, str],
        validate_requests: str,
        validate_responses: str,
        hide: Hide,
        unknown_enums: str = "warn",
    ) -> None:
        self.api = api
        self.headers = headers  # sent with every call (User-Agent and the client's own)
        self.credentials = credentials  # values by security scheme name (never in a repr)
        self.validate_requests = validate_requests
        self.validate_responses = validate_responses
        self.hide = hide  # takes the credentials out of the texts errors show
        self.unknown_enums = unknown_enums  # an answer's value outside its enum: "warn" accepts it, "strict" refuses
        self._fixed: dict[str, tuple[dict[str, str], list[str]]] = {}  # by operationId: see fixed()

    def __repr__(self) -> str:  # it is a local of every call's frames: a traceback's locals show it
        return (
            f"CallSettings(api={self.api!r}, headers={self.headers!r}, validate_requests={self.validate_requests!r}, "
            f"validate_responses={self.validate_responses!r}, hide={self.hide!r}, unknown_enums={self.unknown_enums!r})"
        )

    @classmethod
    def make(
        cls,
        api: Api,
        credentials: dict[str, str],
        headers: Mapping[str, str] | None,
        requests: str,
        responses: str,
        unknown_enums: str = "warn",
    ) -> CallSettings:
        """The settings of a client; ``requests``, ``responses``, ``unknown_enums``: its checked modes."""
        fixed = {"User-Agent": USER_AGENT, **dict(headers or {})}
        for name, value in fixed.items():
            check_header_text(name, value, "Client")
        return cls(api, fixed, credentials, requests, responses, scrubber(credentials.values()), unknown_enums)

    def fixed(self, plan: CallPlan) -> tuple[dict[str, str], list[str]]:
        """What every call of an operation sends alike, worked out once per operation: its
        headers (the client's, the operation's credentials, its ``Accept``) and the query pairs
        of its credentials."""
        found = self._fixed.get(plan.op.operation_id)
        if found is None:
            headers, query = auth_for(self.api, plan, self.credentials)
            # Kept in objects whose repr hides them: they sit in the locals of the call's frames.
            sent = RedactedHeaders({**self.headers, **headers, "Accept": plan.accept})
            found = self._fixed[plan.op.operation_id] = (sent, CredentialPairs(query))
        return found


# --------------------------------------------------------------------------- before sending


def prepare(settings: CallSettings, plan: CallPlan, args: tuple, kwargs: dict) -> tuple[Request, dict[str, Any]]:
    """The request of a call and its options; a bad argument raises before anything is sent."""
    values, options = bind_arguments(plan, args, kwargs)
    if plan.deprecations:
        warn_deprecated(plan, values)
    try:
        media = None
        if "body" in values:  # worked out once: both the checks and the encoding read it
            media = body_media(plan, options.get("_content_type"))
            values["body"] = to_wire(values["body"])
        if settings.validate_requests != "off":
            check_request(plan, values, settings.validate_requests, media)
        return encode_request(settings, plan, values, options, media), options
    except RecursionError:  # a value nested thousands deep (or a cycle) must fail clearly, not crash
        raise too_deep(plan) from None
    except ValueError as exc:
        if isinstance(exc, RequestValidationError):
            raise
        raise unsendable(plan, exc) from None


def encode_request(
    settings: CallSettings, plan: CallPlan, values: dict[str, Any], options: dict[str, Any], media: str | None
) -> Request:
    """The request of a call whose ``values`` are checked and whose ``values["body"]`` is wire data."""
    op = plan.op
    fixed_headers, auth_query = settings.fixed(plan)
    headers = RedactedHeaders(fixed_headers)  # a local of this frame: its repr hides credentials
    accept = options.get("_accept")
    if accept is not None:  # the plan's own is among the fixed headers
        headers["Accept"] = choose_accept(plan, accept)
    segments, query = encode_parameters(plan, values, headers)
    for name, value in (options.get("_headers") or {}).items():
        check_header_text(str(name), str(value), op.operation_id)
        headers[str(name)] = str(value)
    body = None
    if media and "body" in values:
        body, headers["Content-Type"] = encode_body(media, values["body"], op.operation_id)
    target = render_path(op.path, segments)
    query.extend(auth_query)
    if query:
        target += "?" + "&".join(query)
    return Request(op.method.upper(), target, MappingProxyType(headers), body, op.operation_id)


def encode_parameters(
    plan: CallPlan, values: dict[str, Any], headers: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Path segments by name and query pairs; header and cookie parameters go into ``headers``."""
    segments: dict[str, str] = {}
    query: list[str] = []
    cookies: list[str] = []
    for name, value in values.items():
        param = plan.params.get(name)
        if param is None:
            continue
        if param.location == "path":
            segment = segments[param.name] = path_segment(param, value)
            if not segment:  # "/tasks/" + "" would name another resource than the one asked for
                raise _empty_path(plan, name)
        elif param.location == "query":
            query.extend(query_pairs(param, value))
        elif param.location == "header":
            text = header_value(param, value)
            check_header_text(param.name, text, plan.op.operation_id)
            headers[param.name] = text
        else:
            cookies.append(cookie_value(param, value))
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    return segments, query


def _empty_path(plan: CallPlan, name: str) -> RequestValidationError:
    op_id = plan.op.operation_id
    return RequestValidationError(
        f"{op_id}: path parameter {name!r} is empty; nothing was sent",
        operation=op_id,
        parameter=name,
        rule="empty",
    )


def choose_accept(plan: CallPlan, requested: str | None) -> str:
    """The ``Accept`` of a call: the plan's, or ``_accept=`` when the operation offers it."""
    if requested is None:
        return plan.accept
    offered = plan.op.success_media_types()
    if requested not in offered:
        raise RequestValidationError(
            f"{plan.op.operation_id}: _accept={requested!r} is not offered; choose one of {', '.join(offered)}",
            operation=plan.op.operation_id,
            parameter="_accept",
            rule="enum",
        )
    return requested


def too_deep(plan: CallPlan) -> RequestValidationError:
    op_id = plan.op.operation_id
    return RequestValidationError(
        f"{op_id}: an argument is nested too deeply (or refers to itself) to be checked and sent; nothing was sent",
        operation=op_id,
        rule="depth",
    )


def unsendable(plan: CallPlan, exc: ValueError) -> RequestValidationError:
    """A value Python itself cannot write out (an integer of more digits than ``int`` prints)."""
    op_id = plan.op.operation_id
    return RequestValidationError(
        f"{op_id}: an argument cannot be written as text ({str(exc).split(';')[0]}); nothing was sent",
        operation=op_id,
        rule="encoding",
    )


def send_options(options: dict[str, Any], retry_unsafe: bool) -> dict[str, Any]:
    """The transport's keyword arguments for a call's options (already checked and normalised)."""
    return {
        "timeout": options.get("_request_timeout"),
        "retries": options.get("_retries"),
        "retry_unsafe": options.get("_retry_unsafe", retry_unsafe),
    }


# --------------------------------------------------------------------------- after the answer


def read_answer(settings: CallSettings, plan: CallPlan, raw: RawResponse, with_info: bool) -> Any:
    """The call's result: the decoded, checked data (or an ApiResponse); an error answer raises."""
    data = read_response(settings.api, plan, raw, settings.validate_responses, settings.hide, settings.unknown_enums)
    return ApiResponse(raw.status, raw.headers, data, raw.content) if with_info else data


def read_download(settings: CallSettings, plan: CallPlan, raw: RawResponse, result: Any, with_info: bool) -> Any:
    """As :func:`read_answer`, for an answer whose success body went to a file."""
    data = read_streamed(settings.api, plan, raw, settings.validate_responses, result, settings.hide)
    return ApiResponse(raw.status, raw.headers, data, raw.content) if with_info else data
