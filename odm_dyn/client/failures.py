"""What a broken exchange is called: requests' and urllib3's exceptions as odm_dyn's errors.

Every message names the request (method and path, never the query) and the server, says what
to do next, and holds no credential: the cause's text goes through :func:`reason`, which keeps
the innermost exception's class and message, without URL queries, object reprs or the values
the transport was told to hide.
"""

from __future__ import annotations

import http.client
import re

from ..errors import ApiConnectionError, ApiTimeoutError, TransportError
from ..secrets import Hide, hide_queries
from ..wire.messages import Request

RAISE_TIMEOUT = "raise the timeout with _request_timeout= or Client(timeout=...)"


def as_transport_error(exc: BaseException, request: Request, base_url: str, hide: Hide) -> BaseException:
    """The odm_dyn error for an exception raised while sending ``request``; other exceptions as they are."""
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return failure("connect-timeout", request, base_url)
    if isinstance(exc, requests.exceptions.Timeout):
        return failure("timeout", request, base_url, type(exc).__name__)
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.SSLError)):
        if is_read_timeout(exc):  # requests reports a body that stopped coming as a ConnectionError
            return failure("stopped", request, base_url)
        return failure("unreachable", request, base_url, reason(exc, hide))
    if isinstance(exc, (requests.exceptions.RequestException, OSError, ValueError, http.client.HTTPException)):
        # Whatever else the stack below raises on a broken exchange is still ours to name.
        return failure("failed", request, base_url, reason(exc, hide))
    return exc


def failure(kind: str, request: Request, base_url: str, detail: str = "") -> TransportError:
    """The error of a broken exchange, worded alike for every transport (``Client``'s requests,
    ``AsyncClient``'s httpx). ``kind``: ``connect-timeout`` (nothing was sent), ``timeout`` (no
    answer in time), ``stopped`` (the body stopped coming), ``unreachable`` (refused, reset, DNS,
    TLS) or ``failed`` (anything else); ``detail``: the cause, already short and scrubbed."""
    what = f"{request.method} {request.path}"
    if kind == "connect-timeout":
        return ApiTimeoutError(f"{what}: could not connect to {base_url} in time; {RAISE_TIMEOUT}", connect=True)
    if kind == "timeout":
        return ApiTimeoutError(f"{what}: no answer from {base_url} in time ({detail}); {RAISE_TIMEOUT}")
    if kind == "stopped":
        return ApiTimeoutError(f"{what}: {base_url} stopped sending its answer; {RAISE_TIMEOUT}")
    if kind == "unreachable":
        return ApiConnectionError(f"{what}: cannot reach {base_url}: {detail}")
    return TransportError(f"{what}: the exchange with {base_url} failed: {detail}")


def is_read_timeout(exc: BaseException) -> bool:
    import urllib3

    cause = exc.args[0] if exc.args else None
    return isinstance(cause, urllib3.exceptions.ReadTimeoutError)


def reason(exc: BaseException, hide: Hide | None = None, limit: int = 200) -> str:
    """A short cause: the innermost exception's class and message (``ConnectionRefusedError:
    [Errno 111] Connection refused``), without any URL's query (it may hold credentials or
    values the caller passed) and without the wrappers' object reprs."""
    inner = innermost(exc)
    text = " ".join(str(inner).split())
    text = hide_queries(_OBJECT_REPR.sub("", text).strip(" :"))
    text = shorten(hide(text) if hide else text, limit)
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut between words and before any quote or bracket left open."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    while True:
        for opener, closer in (("(", ")"), ("[", "]"), ("{", "}"), ("'", "'"), ('"', '"')):
            count = cut.count(opener)
            if (count % 2) if opener == closer else count > cut.count(closer):
                cut = cut[: cut.rfind(opener)].rstrip()
                break
        else:
            return cut + " …"


def innermost(exc: BaseException) -> BaseException:
    """The root cause under requests' and urllib3's wrappers (``reason``, ``args[0]``, ``__cause__``)."""
    seen = {id(exc)}
    while True:
        cause = getattr(exc, "reason", None)
        first = exc.args[0] if exc.args else None
        for candidate in (cause, first, exc.__cause__):
            if isinstance(candidate, BaseException) and id(candidate) not in seen:
                break
        else:
            return exc
        seen.add(id(candidate))
        exc = candidate


_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?")
