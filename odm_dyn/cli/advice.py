"""A failure in the shell's words: what happened, and what to type next.

The library's messages advise Python (``validate_responses='warn'``, ``Client(token=...)``);
on the command line the same failure names flags instead. Each rule here takes the error and
what the command knew (the operation, the host as typed, the credentials it sent) and returns
one or two sentences, or ``None`` to keep the library's message.

Layer: cli; imports ``api``, ``client`` (the off-spec advice constant) and the bottom layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import (
    ApiConnectionError,
    NotFoundException,
    OdmError,
    ResponseValidationError,
    UnauthorizedException,
)

if TYPE_CHECKING:
    from ..api.plans import Api, CallPlan

CLI_OFF_SPEC_ADVICE = "Add --no-validate (before or after the command) to print it anyway."
NO_TOKEN = (
    "Give one with --token T (sent as Genestack-API-Token; or ODM_API_TOKEN) or --access-token T (ODM_ACCESS_TOKEN)."
)


@dataclass
class Attempt:
    """What the command knew when it called: enough to explain a failure."""

    api: Api
    plan: CallPlan
    host_typed: str | None = None  # --host or ODM_HOST as given, before a scheme was added
    credentials: dict[str, Any] = field(default_factory=dict)  # token/access_token given


def explain(error: OdmError, attempt: Attempt) -> str | None:
    """The command-line message for ``error``, or ``None`` to keep ``str(error)``."""
    for rule in (_unauthorized, _not_served, _tls_without_scheme, _off_spec):
        message = rule(error, attempt)
        if message:
            return message
    return None


def sent_headers(attempt: Attempt) -> list[str]:
    """The headers the client put credentials in, for this operation (names only)."""
    from ..client.credentials import auth_for, resolve_credentials

    given = attempt.credentials
    resolved = resolve_credentials(attempt.api, given.get("token"), given.get("access_token"), None)
    headers, query = auth_for(attempt.api, attempt.plan, resolved)
    return sorted(headers) + [f"query parameter {name}" for name in query]


def _unauthorized(error: OdmError, attempt: Attempt) -> str | None:
    if not isinstance(error, UnauthorizedException):
        return None
    head = f"{error.operation}: HTTP 401"
    headers = sent_headers(attempt)
    if not headers:
        return f"{head}: no token was sent, and this operation needs one. {NO_TOKEN}"
    where = " and ".join(headers)
    return (
        f"{head}: the server refused the token sent in the {where} header. "
        "Check that it is a valid token for this server (--host), or give another with --token / --access-token."
    )


def _not_served(error: OdmError, attempt: Attempt) -> str | None:
    """A 404 the operation cannot mean as "no such object": the server does not serve the path."""
    if not isinstance(error, NotFoundException):
        return None
    op = attempt.plan.op
    declared = next((r for s, r in op.responses.items() if s in ("404", "4XX")), None)
    if op.positional() and declared is not None:
        return None  # a lookup by id: the library's "no such object" fits
    return (
        f"{op.operation_id}: HTTP 404: the server does not serve {op.method.upper()} {op.path}; "
        "it may lack this operation (an older server, or a spec that is not its own: see --spec and --host)."
    )


def _tls_without_scheme(error: OdmError, attempt: Attempt) -> str | None:
    typed = attempt.host_typed
    if not isinstance(error, ApiConnectionError) or not typed or "://" in typed:
        return None
    text = str(error)
    if "SSL" not in text and "TLS" not in text and "certificate" not in text:
        return None
    return (
        f"{text}\nodm-dyn: the host {typed!r} has no scheme, so https was used and TLS failed; "
        f"did you mean http://{typed}? (--host http://{typed})"
    )


def _off_spec(error: OdmError, attempt: Attempt) -> str | None:
    from ..client.response import OFF_SPEC_ADVICE

    if not isinstance(error, ResponseValidationError):
        return None
    return str(error).replace(OFF_SPEC_ADVICE, CLI_OFF_SPEC_ADVICE)
