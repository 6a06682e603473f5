"""Client settings and per-call options, checked before anything is sent."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

from ..api.plans import CallPlan
from ..errors import RequestTypeError, RequestValidationError
from ..secrets import shown_url
from ..types import DEFAULT_TIMEOUT, Timeout
from .retry import RetryPolicy

DEFAULT_SCHEME = "https"  # for a host given without one: Client("odm.example.com"), ODM_HOST=odm.example.com


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
    shown = repr(shown_url(host)) + (" (its user part and query not shown)" if shown_url(host) != host else "")
    return RequestValidationError(
        f"host {shown} is not a server URL: {why}; give http(s)://host[:port][/path], e.g. http://localhost:8080",
        parameter="host",
        rule="host",
    )


_NOTHING_SENT = "; nothing was sent"
# The longest timeout taken: sockets and clocks overflow on far larger ones (1e10 s is past time_t).
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600.0


def check_timeout(value: Any, name: str, operation: str | None) -> Timeout | None:
    """``None``, positive seconds, or a ``(connect, read)`` pair of them (``None`` for a default),
    as a :class:`~odm_dyn.types.Timeout` (a ``None`` part: the default's); the one check of a timeout."""
    if value is None:
        return None
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
    if not all(0 < part <= MAX_TIMEOUT_SECONDS for part in parts):  # NaN and infinity fail too
        raise RequestValidationError(
            f"{operation or 'Client'}: {name} must be a positive number of seconds, "
            f"at most {MAX_TIMEOUT_SECONDS:.0f} (a week), not {value!r}" + (_NOTHING_SENT if operation else ""),
            operation=operation,
            parameter=name,
            rule="range",
        )
    return Timeout.of(value, DEFAULT_TIMEOUT)


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
    """The per-call options' types and values; a bad one raises before anything is sent.

    ``_request_timeout`` and ``_retries`` are replaced by their values (a Timeout, a RetryPolicy).
    """
    op_id = plan.op.operation_id
    if "_request_timeout" in options:
        options["_request_timeout"] = check_timeout(options["_request_timeout"], "_request_timeout", op_id)
    if "_retries" in options:
        options["_retries"] = check_retries(options["_retries"], "_retries", op_id)
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
