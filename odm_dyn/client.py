"""The client: attribute-style methods made from the spec, and the call pipeline.

``Client(...)`` returns an instance of a class made once per loaded spec, whose methods are
real functions (``__name__``, ``__doc__``, ``__signature__``), so ``help()``, ``dir()``,
``inspect`` and tab completion all see them. Every call runs one pipeline::

    bind arguments → validate (compiled checks) → encode → transport → read the answer → model
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import logging
import math
import os
import threading
import time
from typing import Any, Callable, Mapping
from urllib.parse import quote, quote_plus, urlsplit

from .api import Api, CallPlan, load_api, source_label
from .errors import ApiTimeoutError, OdmError, RequestTypeError, RequestValidationError, TaskTimeoutError
from .model import Model, to_wire
from .operations import OPTION_NAMES
from .request import (
    check_header_text,
    cookie_value,
    encode_body,
    header_value,
    is_json_media,
    path_segment,
    query_pairs,
    render_path,
    validation_view,
)
from .response import ApiResponse, open_sink, read_response, read_streamed
from .spec import SpecSource
from .transport import DEFAULT_TIMEOUT, RetryPolicy, Transport, hide_credentials, hide_in_logs
from .validation import check_mode

log = logging.getLogger("odm_dyn")
_sleep = time.sleep  # the waits between polls; tests patch this, not the time module
TERMINAL_STATUSES = frozenset({"DONE", "FAILED", "BLOCKED_BY_DEPENDENCY_FAILURE", "KILLED"})
DEFAULT_TASK_TIMEOUT = 3600.0
MIN_POLL_SECONDS = 0.1  # the shortest timeout a poll of wait_for_task gets, even at its deadline
DEFAULT_SCHEME = "https"  # for a host given without one: Client("odm.example.com"), ODM_HOST=odm.example.com
USER_AGENT = "odm-dyn"


class Client:
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
        return ModelNamespace(self.api.models)

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

    # ------------------------------------------------------------------ tasks

    def wait_for_task(
        self,
        id: Any,
        timeout: float | None = None,
        interval: float = 0.5,
        *,
        max_interval: float = 10.0,
        backoff: float = 1.5,
        on_poll: Callable[[Any, float], None] | None = None,
    ) -> Any:
        """Poll ``getTaskInfo`` until the task's status is terminal, and return it.

        A FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE task is returned too: read
        ``.status``. Polls start every ``interval`` seconds and back off by ``backoff`` up
        to ``max_interval``. Raises :class:`TaskTimeoutError` (with ``.task``, the last
        TaskInfo seen, or ``None``) when ``timeout`` seconds (default one hour) pass first: each
        poll's timeout and retries are cut to the time left, so a stalled server cannot hold
        the call much past ``timeout``. ``on_poll(task, elapsed)`` is called after every poll.
        """
        if not (isinstance(interval, (int, float)) and interval > 0):  # NaN fails too
            raise ValueError(f"wait_for_task: interval must be a positive number of seconds, not {interval!r}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout >= 0):
            raise ValueError(f"wait_for_task: timeout must be seconds (0 or more) or None, not {timeout!r}")
        task_id = getattr(id, "id", id)
        plan = self._plan("getTaskInfo")
        limit = DEFAULT_TASK_TIMEOUT if timeout is None else timeout
        started = time.monotonic()
        task = None
        remaining = limit  # the clock is read once per poll: after it
        while True:
            options, capped = self._poll_options(remaining)
            try:
                task = self._call(plan, (task_id,), options, False)
            except ApiTimeoutError as error:
                if not capped:  # the server outwaited the client's own timeout, well before the deadline
                    raise
                raise TaskTimeoutError(
                    f"task {task_id}: no answer to getTaskInfo before the timeout ({limit}s) passed; last seen "
                    f"{getattr(task, 'status', 'nothing')}; wait longer with wait_for_task(..., timeout=...)",
                    task=task,
                ) from error
            elapsed = time.monotonic() - started
            if on_poll is not None:
                on_poll(task, elapsed)
            status = getattr(task, "status", None)
            if status in TERMINAL_STATUSES:
                return task
            if elapsed >= limit:
                raise TaskTimeoutError(
                    f"task {task_id} is still {status} after {elapsed:.1f}s (timeout {limit}s); "
                    "wait longer with wait_for_task(..., timeout=...)",
                    task=task,
                )
            pause = max(0.0, min(interval, limit - elapsed))
            _sleep(pause)
            remaining = limit - elapsed - pause
            interval = min(interval * backoff, max_interval)

    def _poll_options(self, remaining: float) -> tuple[dict[str, Any], bool]:
        """A poll's options: its timeout and retry budget cut to the time left; and whether they were cut."""
        remaining = max(remaining, MIN_POLL_SECONDS)
        timeout = self.transport.timeout
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        policy = self.transport.retries
        options = {
            "_request_timeout": (min(connect, remaining), min(read, remaining)),
            "_retries": dataclasses.replace(policy, total_time=min(policy.total_time, remaining)),
        }
        return options, max(connect, read) > remaining

    # ------------------------------------------------------------------ the pipeline

    def _call(self, plan: CallPlan, args: tuple, kwargs: dict, with_info: bool) -> Any:
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
            return self._download(plan, target, headers, body, options, with_info)
        raw = self._send(plan, target, headers, body, options)
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
        from .exchange import Exchange

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


# --------------------------------------------------------------------------- settings and options


def with_scheme(host: str, scheme: str | None = None) -> str:
    """``host[:port][/path]`` given without a scheme gets ``scheme`` (default https); else as it is."""
    return host if "://" in host else f"{scheme or DEFAULT_SCHEME}://{host}"


def base_url(host: Any) -> str:
    """The server's base URL: ``http(s)://host[:port][/path]``; a bare host gets the default scheme.

    Anything else is refused with a :class:`RequestValidationError` (a ``ValueError``).
    """
    if not isinstance(host, str):
        raise RequestTypeError(f"host must be a URL string, not {type(host).__name__}", parameter="host", rule="type")
    url = with_scheme(host.strip())
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as error:
        raise _bad_host(host, str(error)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _bad_host(host, f"the scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise _bad_host(host, "it names no host")
    if parts.username is not None or parts.password is not None:
        raise _bad_host(host, "it holds credentials; pass token= or access_token= instead")
    if "?" in url or "#" in url:
        raise _bad_host(host, "a base URL takes no query or fragment")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise _bad_host(host, "it holds spaces or control characters")
    return url.rstrip("/")


def _bad_host(host: str, why: str) -> RequestValidationError:
    shown = "(not shown: it holds credentials)" if "@" in host else repr(host)
    return RequestValidationError(
        f"host {shown} is not a server URL: {why}; give http(s)://host[:port][/path], e.g. http://localhost:8080",
        parameter="host",
        rule="host",
    )


_NOTHING_SENT = "; nothing was sent"


def check_timeout(value: Any, name: str, operation: str | None) -> None:
    """``None``, positive seconds, or a ``(connect, read)`` pair of them (``None`` for a default)."""
    if value is None:
        return
    pair = isinstance(value, (tuple, list))
    parts = [part for part in value if part is not None] if pair else [value]
    if (pair and len(value) != 2) or any(isinstance(p, bool) or not isinstance(p, (int, float)) for p in parts):
        raise RequestTypeError(
            f"{operation or 'Client'}: {name} must be seconds or a (connect, read) pair of seconds, "
            f"not {value!r}{_NOTHING_SENT if operation else ''}",
            operation=operation,
            parameter=name,
            rule="type",
        )
    if not all(0 < part < math.inf for part in parts):  # NaN fails too
        raise RequestValidationError(
            f"{operation or 'Client'}: {name} must be a positive, finite number of seconds, not {value!r}"
            + (_NOTHING_SENT if operation else ""),
            operation=operation,
            parameter=name,
            rule="range",
        )


def check_retries(value: Any, name: str, operation: str | None) -> RetryPolicy | None:
    """``None``, a :class:`RetryPolicy`, or a number of retries (0 or more) as a policy."""
    if value is None or isinstance(value, RetryPolicy):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestTypeError(
            f"{operation or 'Client'}: {name} must be a number of retries or a RetryPolicy, not {value!r}",
            operation=operation,
            parameter=name,
            rule="type",
        )
    if value < 0:
        raise RequestValidationError(
            f"{operation or 'Client'}: {name} must be 0 or more, not {value!r}",
            operation=operation,
            parameter=name,
            rule="range",
        )
    return RetryPolicy(total=value)


def check_options(plan: CallPlan, options: dict[str, Any]) -> None:
    """The per-call options' types and values; a bad one raises before anything is sent."""
    op_id = plan.op.operation_id
    check_timeout(options.get("_request_timeout"), "_request_timeout", op_id)
    check_retries(options.get("_retries"), "_retries", op_id)
    for name, kinds, wanted in (
        ("_headers", Mapping, "a mapping of header names to values"),
        ("_retry_unsafe", bool, "True or False"),
        ("_content_type", str, "a media type"),
        ("_accept", str, "a media type"),
    ):
        value = options.get(name)
        if value is not None and not isinstance(value, kinds):
            raise RequestTypeError(
                f"{op_id}: {name} must be {wanted}, not {type(value).__name__}; nothing was sent",
                operation=op_id,
                parameter=name,
                rule="type",
            )


# --------------------------------------------------------------------------- binding


def bind_arguments(plan: CallPlan, args: tuple, kwargs: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arguments by Python name, and per-call options; refuses what the signature does not."""
    op_id = plan.op.operation_id
    if len(args) > len(plan.positional):
        raise RequestTypeError(
            f"{plan.op.python_name}() takes {len(plan.positional)} positional argument(s) "
            f"({', '.join(plan.positional) or 'none'}) but {len(args)} were given",
            operation=op_id,
            rule="signature",
        )
    values = {name: value for name, value in zip(plan.positional, args) if value is not None}
    options: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in plan.allowed:
            if name in values:
                raise RequestTypeError(
                    f"{plan.op.python_name}() got two values for {name!r}",
                    operation=op_id,
                    parameter=name,
                    rule="signature",
                )
            if value is not None:
                values[name] = value
        elif name in OPTION_NAMES:
            options[name] = value
        else:
            raise _unknown_argument(plan, name)
    if options:
        check_options(plan, options)
    missing = plan.required - values.keys()
    if missing or (plan.op.body is not None and plan.op.body.required and "body" not in values):
        name = sorted(missing)[0] if missing else "body"
        raise RequestTypeError(
            f"{op_id}: the required argument {name!r} is missing; nothing was sent",
            operation=op_id,
            parameter=name,
            rule="required",
        )
    return values, options


def _unknown_argument(plan: CallPlan, name: str) -> RequestTypeError:
    known = sorted(plan.allowed)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(known) or 'no arguments'}"
    return RequestTypeError(
        f"{plan.op.operation_id}: unknown argument {name!r}{hint}",
        operation=plan.op.operation_id,
        parameter=name,
        rule="unknown",
    )


def check_request(plan: CallPlan, values: dict[str, Any], mode: str, media: str | None = None) -> None:
    """Run the compiled checks; in strict mode the first fault raises, nothing is sent.

    ``values["body"]``, if any, is wire data (:func:`~odm_dyn.model.to_wire`) sent as ``media``.
    """
    op = plan.op
    for name, value in values.items():
        if name == "body":
            media = media or ""
            check = plan.body_checks.get(media)
            value = value if is_json_media(media) else validation_view(value)
            param_label = "body"
        else:
            check = plan.checks[name]
            param_label = name
        violations = check.violations(value, param_label) if check is not None else []
        if violations:
            first = violations[0]
            message = f"{op.operation_id}: argument {param_label!r} {first.message} (at {first.path}); nothing was sent"
            if mode == "warn":
                log.warning("%s", message)
                continue
            error = RequestTypeError if first.rule == "type" else RequestValidationError
            raise error(message, operation=op.operation_id, parameter=param_label, rule=first.rule)


def body_media(plan: CallPlan, requested: str | None) -> str:
    """The media type a body is sent as: ``_content_type=`` if the operation takes it, else JSON first."""
    if requested is None:
        return plan.body_media or ""
    offered = list(plan.op.body.content) if plan.op.body is not None else []
    if requested not in offered:
        raise RequestValidationError(
            f"{plan.op.operation_id}: _content_type={requested!r} is not accepted; choose one of "
            f"{', '.join(offered) or 'none (the operation takes no body)'}",
            operation=plan.op.operation_id,
            parameter="_content_type",
            rule="enum",
        )
    return requested


_warned: set[tuple[str, str]] = set()


def warn_deprecated(plan: CallPlan, values: dict[str, Any]) -> None:
    """Log a warning, once per process for each deprecated operation or parameter used."""
    op_id = plan.op.operation_id
    used = [name for name in plan.deprecations if name in values or name == ""]
    for name in used:
        if (op_id, name) in _warned:
            continue
        _warned.add((op_id, name))
        what = f"{op_id} is deprecated" if not name else f"{op_id}: parameter {name!r} is deprecated"
        log.warning("%s by the spec; it may be removed from the API", what)


# --------------------------------------------------------------------------- credentials


def resolve_credentials(
    api: Api, token: str | None, access_token: str | None, credentials: Mapping[str, str] | None
) -> dict[str, str]:
    """Header (or query) values by security scheme name; secrets stay in this dict only."""
    resolved = {k: v for k, v in (credentials or {}).items() if v}
    for name, scheme in api.security_schemes.items():
        where = str(scheme.get("name", "")).lower()
        if token and scheme.get("type") == "apiKey" and where == "genestack-api-token":
            resolved.setdefault(name, token)
        if access_token and (
            (scheme.get("type") == "apiKey" and where == "authorization")
            or (scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer")
        ):
            resolved.setdefault(name, f"Bearer {access_token}")
    for name, value in resolved.items():
        check_header_text(name, value, "Client")
    return resolved


def scrubber(credentials: Any) -> Callable[[str], str]:
    """A function that takes these credential values out of a text: as sent, without their
    ``Bearer``-style prefix, and percent-encoded; then every value :func:`hide_in_logs` knows."""
    values: set[str] = set()
    for value in credentials:
        words = str(value).split()
        for text in {str(value), words[-1] if words else ""} - {""}:
            values |= {text, quote(text, safe=""), quote_plus(text, safe="")}
    ordered = sorted(values, key=len, reverse=True)  # longest first: no half-hidden value

    def hide(text: str) -> str:
        for value in ordered:
            text = text.replace(value, "[redacted]")
        return hide_credentials(text)

    return hide


def outside_headers(api: Api, credentials: Mapping[str, str]) -> list[str]:
    """The credentials sent in a query or a cookie: values that must be kept out of logs."""
    return [
        value
        for name, value in credentials.items()
        if api.security_schemes.get(name, {}).get("in") in ("query", "cookie")
        and api.security_schemes[name].get("type") == "apiKey"
    ]


def auth_for(api: Api, plan: CallPlan, credentials: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The headers and query pieces that carry every credential the operation accepts."""
    from urllib.parse import quote

    headers: dict[str, str] = {}
    query: list[str] = []
    cookies: list[str] = []
    accepted = {name for requirement in plan.op.security for name in requirement}
    for name in sorted(accepted & credentials.keys()):
        scheme = api.security_schemes.get(name, {})
        value = credentials[name]
        if scheme.get("type") == "http" and not value.lower().startswith(str(scheme.get("scheme", "")).lower()):
            value = f"{str(scheme.get('scheme', 'bearer')).capitalize()} {value}"
        location = scheme.get("in", "header")
        if scheme.get("type") == "http":
            headers["Authorization"] = value
        elif location == "query":
            query.append(f"{quote(scheme['name'], safe='')}={quote(value, safe='')}")
        elif location == "cookie":
            cookies.append(f"{scheme['name']}={quote(value, safe='')}")
        else:
            headers[scheme.get("name", name)] = value
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    return headers, query


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Client settings from the environment: ``ODM_*`` first, then the ``PRED_SPOT_*`` names."""
    host = environ.get("ODM_HOST") or environ.get("PRED_SPOT_HOST")
    if host:
        host = with_scheme(host, environ.get("PRED_SPOT_SCHEME"))
    settings: dict[str, Any] = {"host": host}
    settings["token"] = environ.get("ODM_API_TOKEN") or environ.get("PRED_SPOT_TOKEN")
    settings["access_token"] = environ.get("ODM_ACCESS_TOKEN") or environ.get("PRED_SPOT_ACCESS_TOKEN")
    return {k: v for k, v in settings.items() if v}


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


def client_class(api: Api, base: type[Client] = Client) -> type[Client]:
    """The Client subclass for a compiled spec, made once: its methods are the operations."""
    if getattr(base, "api", None) is api:
        return base
    key = (id(api), base)
    with _classes_lock:
        if key not in _classes:
            namespace: dict[str, Any] = {"api": api, "__module__": base.__module__, "__doc__": base.__doc__}
            for plan in api.plans.values():
                namespace.update(make_methods(plan, lambda self: self, "Client"))
            for attr, (tag, op_ids) in api.tags.items():
                namespace[attr] = _tag_property(attr, tag_class(api, tag, op_ids))
            _classes[key] = type(base.__name__, (base,), namespace)
    return _classes[key]


def make_methods(plan: CallPlan, client_of: Callable[[Any], Client], owner: str) -> dict[str, Callable]:
    """``name`` and ``name_with_http_info`` functions for one operation."""
    op = plan.op

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


def tag_class(api: Api, tag: str, op_ids: list[str], base: type = TagNamespace) -> type:
    name = api.tag_class_name(tag)
    namespace: dict[str, Any] = {"_tag": tag, "__doc__": f"Operations tagged {tag!r}.", "__module__": "odm_dyn"}
    for op_id in op_ids:
        namespace.update(make_methods(api.plans[op_id], _client_of_namespace, name))
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


def _init_signature() -> inspect.Signature:
    """``Client(...)``'s signature as ``__init__`` declares it (``__new__`` takes ``**_``)."""
    signature = inspect.signature(Client.__init__)
    return signature.replace(parameters=list(signature.parameters.values())[1:])


Client.__signature__ = _init_signature()  # type: ignore[attr-defined]  # subclasses inherit it


__all__ = ["Client", "OdmError", "settings_from_env"]
