"""One request and its answer, as a client's ``on_exchange`` observer sees them.

``Client(on_exchange=callback)`` calls ``callback(exchange)`` once per answer received, before
the answer is read (so a strict client still raises afterwards). The exchange carries no secret:
credential headers and query parameters (by their names, and those the spec's security schemes
declare) are redacted when it is made. Its verdict (``violations``) is worked out on
first access, so an observer that only logs costs no validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import AbstractSet, Any, Mapping
from urllib.parse import urlsplit

from ..api.plans import CallPlan
from ..api.schemas import Violation
from ..secrets import REDACTED, is_secret_name, redact_headers, redact_target
from .answer import check_answer
from .messages import RawResponse, Request

__all__ = [
    "REDACTED",
    "Exchange",
    "is_secret_name",
    "redact_headers",
    "redact_target",
    "response_violations",
]  # the redaction rules live in odm_dyn.secrets; named here as before


@dataclass
class Exchange:
    """A request a client sent and the answer it got, with secrets already redacted."""

    plan: CallPlan
    method: str
    url: str  # base URL and target (query redacted)
    request_headers: dict[str, str]
    request_body: bytes | None
    response: RawResponse
    extra: dict[str, Any] = field(default_factory=dict)  # for observers' own notes
    secret_names: AbstractSet[str] = frozenset()  # the security schemes' header and query names

    @classmethod
    def capture(
        cls,
        plan: CallPlan,
        base_url: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        response: RawResponse,
        secret_names: AbstractSet[str] = frozenset(),
    ) -> Exchange:
        """The exchange as sent and received, redacted: headers and query parameters named like
        credentials, and those the security schemes name (``secret_names``, lowercase)."""
        url = base_url + redact_target(target, secret_names)
        return cls(plan, method, url, redact_headers(headers, secret_names), body, response, {}, secret_names)

    @classmethod
    def of(
        cls, plan: CallPlan, base_url: str, request: Request, response: RawResponse, secret_names: AbstractSet[str]
    ) -> Exchange:
        """The exchange of a request sent and its answer, redacted (as :meth:`capture`)."""
        return cls.capture(
            plan, base_url, request.method, request.target, request.headers, request.body, response, secret_names
        )

    @property
    def operation_id(self) -> str:
        return self.plan.op.operation_id

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def response_headers(self) -> dict[str, str]:
        return redact_headers(self.response.headers, self.secret_names)

    @cached_property
    def violations(self) -> list[Violation]:
        """How the answer breaks the spec; empty when it keeps to it."""
        return response_violations(self.plan, self.response)

    @property
    def verdict(self) -> str:
        return "violation" if self.violations else "ok"

    def __repr__(self) -> str:
        return f"<Exchange {self.operation_id}: {self.method} {self.path} -> {self.status} {self.verdict}>"


def response_violations(plan: CallPlan, raw: RawResponse) -> list[Violation]:
    """The answer checked against the declared response of its status, errors included."""
    return check_answer(plan, raw)[2]
