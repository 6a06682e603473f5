"""The client: attribute-style methods made from the spec, and the call pipeline.

``Client(...)`` returns an instance of a class made once per loaded spec, whose methods are
real functions (``__name__``, ``__doc__``, ``__signature__``), so ``help()``, ``dir()``,
``inspect`` and tab completion all see them. Every call runs one pipeline::

    bind arguments → validate (compiled checks) → encode → transport → read the answer → model
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping

from ..api.load import load_api, source_label
from ..api.model import to_wire
from ..api.plans import Api, CallPlan
from ..api.schemas import check_mode
from ..errors import OdmError, RequestValidationError
from ..secrets import hide_in_logs, scrubber
from ..spec.document import SpecSource
from ..wire.bodies import encode_body
from ..wire.styles import check_header_text, cookie_value, header_value, path_segment, query_pairs, render_path
from .binding import bind_arguments, body_media, check_request, warn_deprecated
from .classes import client_class, init_signature, model_namespace
from .credentials import auth_for, outside_headers, resolve_credentials, settings_from_env
from .options import base_url, check_retries, check_timeout
from .response import ApiResponse, open_sink, read_response, read_streamed
from .tasks import TaskWaits
from .transport import DEFAULT_TIMEOUT, RetryPolicy, Transport

log = logging.getLogger("odm_dyn")
USER_AGENT = "odm-dyn"


class Client(TaskWaits):
    """A client for an ODM server, with one method per operation of the spec.

    Args:
        host: the server's base URL; default: the spec's first server (``http://localhost``).
        token: a Genestack API token, sent in ``Genestack-API-Token``.
        access_token: an access token, sent as ``Authorization: Bearer <token>``.
        spec: spec files or folders to use instead of the bundled Tasks API
            (``[odm_dyn.TASKS_SPEC, "more.yaml"]`` extends it).
        validate_requests, validate_responses: ``"strict"`` (raise), ``"warn"`` (log) or ``"off"``.
        timeout: seconds, or ``(connect, read)``, for every call unless a call says otherwise.
        retries: a :class:`RetryPolicy` or a number of retries (idempotent methods only).
        retry_unsafe: also retry non-idempotent methods such as POST.
        credentials: raw header values by security scheme name (what ``Configuration.api_key``
            maps to), for specs with other schemes.
        verify: TLS verification: ``True``, ``False`` or a CA bundle path.
        on_exchange: called with an :class:`~odm_dyn.exchange.Exchange` (redacted, with its
            verdict) for every answer received, before it is read; for recorders and contract tests.
    """

    api: Api

    def __new__(cls, host: str | None = None, *, spec: SpecSource | None = None, **_: Any) -> Client:
        if "api" in cls.__dict__:  # a class made for one Api already (client_class(api))
            return object.__new__(cls)
        return object.__new__(client_class(load_api(spec), cls))

    def __init__(
        self,
        host: str | None = None,
        *,
        token: str | None = None,
        access_token: str | None = None,
        spec: SpecSource | None = None,
        validate_requests: str = "strict",
        validate_responses: str = "strict",
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        retries: RetryPolicy | int | None = None,
        retry_unsafe: bool = False,
        credentials: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        session: Any = None,
        on_exchange: Callable[[Any], None] | None = None,
    ):
        self.host = base_url(host or (self.api.servers[0] if self.api.servers else "http://localhost"))
        self._spec_label = source_label(spec)
        self._validate_requests = check_mode("validate_requests", validate_requests)
        self._validate_responses = check_mode("validate_responses", validate_responses)
        self._retry_unsafe = retry_unsafe
        check_timeout(timeout, "timeout", None)
        policy = check_retries(retries, "retries", None) or RetryPolicy(total=3)
        self.transport = Transport(self.host, timeout=timeout, retries=policy, verify=verify, session=session)
        self._credentials = resolve_credentials(self.api, token, access_token, credentials)
        hide_in_logs(outside_headers(self.api, self._credentials))
        self._hide = scrubber(self._credentials.values())
        self._headers = {"User-Agent": USER_AGENT, **dict(headers or {})}
        for name, value in self._headers.items():
            check_header_text(name, value, "Client")
        self._auth_cache: dict[str, tuple[dict[str, str], list[str]]] = {}
        self._namespaces: dict[str, Any] = {}
        self.on_exchange = on_exchange

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Client:
        """A client from ``ODM_HOST``, ``ODM_API_TOKEN``, ``ODM_ACCESS_TOKEN`` (or the
        ``PRED_SPOT_*`` names of the vendor's generated clients); ``options`` win."""
        settings = settings_from_env(os.environ if environ is None else environ)
        settings.update({k: v for k, v in options.items() if v is not None})
        return cls(**settings)

    # ------------------------------------------------------------------ niceties

    def __repr__(self) -> str:
        schemes = ", ".join(sorted(self._credentials)) or "none"
        return f"<odm_dyn.Client {self.host} spec={self._spec_label!r} auth={schemes}>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    @property
    def operations(self) -> dict[str, Any]:
        """The spec's operations by operationId."""
        return self.api.operations

    @property
    def models(self) -> Any:
        """The model classes of the spec, by schema name (``client.models.TaskInfo``)."""
        return model_namespace(self.api)

    def call(self, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        """Call an operation by its operationId (or Python name)."""
        return self._call(self._plan(operation_id), args, kwargs, False)

    def call_with_http_info(self, operation_id: str, *args: Any, **kwargs: Any) -> ApiResponse:
        return self._call(self._plan(operation_id), args, kwargs, True)

    def _plan(self, operation_id: str) -> CallPlan:
        try:
            return self.api.find_plan(operation_id)
        except LookupError as error:
            raise AttributeError(str(error)) from None

    # ------------------------------------------------------------------ the pipeline

    def _call(self, plan: CallPlan, args: tuple, kwargs: dict, with_info: bool | str) -> Any:
        values, options = bind_arguments(plan, args, kwargs)
        if plan.deprecations:
            warn_deprecated(plan, values)
        try:
            media = None
            if "body" in values:  # worked out once: both the checks and the encoding read it
                media = body_media(plan, options.get("_content_type"))
                values["body"] = to_wire(values["body"])
            if self._validate_requests != "off":
                check_request(plan, values, self._validate_requests, media)
            target, headers, body = self._encode(plan, values, options, media)
        except RecursionError:  # a value nested thousands deep (or a cycle) must fail clearly, not crash
            raise _too_deep(plan) from None
        if options.get("_stream_to") is not None:
            return self._download(plan, target, headers, body, options, with_info is True)
        raw = self._send(plan, target, headers, body, options)
        if with_info == "raw":  # the generated client's *_without_preload_content: the answer unread
            return raw
        data = read_response(self.api, plan, raw, self._validate_responses, self._hide)
        if with_info:
            return ApiResponse(raw.status, raw.headers, data, raw.content)
        return data

    def _send(
        self,
        plan: CallPlan,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        options: dict[str, Any],
        sink: Any = None,
    ) -> Any:
        """The transport's part of a call, with the call's options; observers see the exchange."""
        method = plan.op.method.upper()
        log.debug("%s: %s %s", plan.op.operation_id, method, target.split("?", 1)[0])
        raw = self.transport.send(
            method,
            target,
            headers,
            body,
            timeout=options.get("_request_timeout"),
            retry_unsafe=options.get("_retry_unsafe", self._retry_unsafe),
            retries=_retry_option(options.get("_retries")),
            sink=sink,
        )
        if self.on_exchange is not None:  # one attribute test when nobody observes
            self._observe(plan, method, target, headers, body, raw)
        return raw

    def _observe(
        self, plan: CallPlan, method: str, target: str, headers: dict[str, str], body: bytes | None, raw: Any
    ) -> None:
        from ..wire.exchange import Exchange

        exchange = Exchange.capture(plan, self.host, method, target, headers, body, raw, self.api.secret_names)
        self.on_exchange(exchange)  # type: ignore[misc]

    def _encode(
        self, plan: CallPlan, values: dict[str, Any], options: dict[str, Any], media: str | None
    ) -> tuple[str, dict[str, str], bytes | None]:
        """The target (path and query), headers and body of a call; ``values["body"]`` is wire data."""
        op = plan.op
        segments: dict[str, str] = {}
        query: list[str] = []
        cookies: list[str] = []
        auth_headers, auth_query = self._auth(plan)
        headers = {**self._headers, **auth_headers, "Accept": self._accept(plan, options.get("_accept"))}
        for name, value in values.items():
            param = plan.params.get(name)
            if param is None:
                continue
            if param.location == "path":
                segment = segments[param.name] = path_segment(param, value)
                if not segment:  # "/tasks/" + "" would name another resource than the one asked for
                    raise RequestValidationError(
                        f"{op.operation_id}: path parameter {name!r} is empty; nothing was sent",
                        operation=op.operation_id,
                        parameter=name,
                        rule="empty",
                    )
            elif param.location == "query":
                query.extend(query_pairs(param, value))
            elif param.location == "header":
                text = header_value(param, value)
                check_header_text(param.name, text, op.operation_id)
                headers[param.name] = text
            else:
                cookies.append(cookie_value(param, value))
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
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
        return target, headers, body

    def _download(
        self,
        plan: CallPlan,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        options: dict[str, Any],
        info: bool,
    ) -> Any:
        """``_stream_to=``: a success answer's body goes to a file chunk by chunk, never into memory.

        A path is written through ``<path>.part`` and renamed when complete (an error answer or a
        broken connection leaves the path untouched); an open binary file is written as it is.
        """
        target_file = options["_stream_to"]
        with open_sink(target_file) as (sink, result):
            raw = self._send(plan, target, headers, body, options, sink)
            data = read_streamed(self.api, plan, raw, self._validate_responses, result, self._hide)
        return ApiResponse(raw.status, raw.headers, data, raw.content) if info else data

    def _accept(self, plan: CallPlan, requested: str | None) -> str:
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

    def _auth(self, plan: CallPlan) -> tuple[dict[str, str], list[str]]:
        cached = self._auth_cache.get(plan.op.operation_id)
        if cached is None:
            cached = self._auth_cache[plan.op.operation_id] = auth_for(self.api, plan, self._credentials)
        return cached


def _too_deep(plan: CallPlan) -> RequestValidationError:
    op_id = plan.op.operation_id
    return RequestValidationError(
        f"{op_id}: an argument is nested too deeply (or refers to itself) to be checked and sent; nothing was sent",
        operation=op_id,
        rule="depth",
    )


def _retry_option(value: Any) -> RetryPolicy | None:
    if value is None or isinstance(value, RetryPolicy):
        return value
    return RetryPolicy(total=value)


Client.__signature__ = init_signature(Client)  # type: ignore[attr-defined]  # subclasses inherit it


__all__ = ["Client", "OdmError", "settings_from_env"]
