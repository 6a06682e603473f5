"""The values that cross the transport: the request as it will be sent, and what came back.

A :class:`Request` is made once per call, complete and immutable (its headers are a read-only
view), so a transport, an observer and a retry all see exactly what was sent. Its ``target`` is
the path and query, already percent-encoded; the transport puts its base URL in front.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from ..secrets import redact_headers, redact_target
from ..spec.media import base_media


class Request(NamedTuple):
    """One request as it will be sent: ``method target`` (path and query), headers and body.

    ``operation_id`` names the operation of the spec it calls (for logs, errors and observers).
    A named tuple rather than a frozen dataclass: it is made on every call, in a fifth of the time.
    """

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes | None = None
    operation_id: str = ""

    @classmethod
    def make(
        cls, method: str, target: str, headers: Mapping[str, str], body: bytes | None = None, operation_id: str = ""
    ) -> Request:
        """A request whose headers no one can change afterwards (a read-only copy of ``headers``)."""
        return cls(method.upper(), target, MappingProxyType(dict(headers)), body, operation_id)

    @property
    def path(self) -> str:
        """The target without its query (which may hold credentials): what logs and messages show."""
        return self.target.split("?", 1)[0]

    def __repr__(self) -> str:
        # Shown in tracebacks' locals (pytest --showlocals), debuggers and logs: no credentials.
        headers = redact_headers(self.headers)
        body = "None" if self.body is None else f"<{len(self.body)} bytes>"
        return (
            f"Request(method={self.method!r}, target={redact_target(self.target)!r}, headers={headers!r}, "
            f"body={body}, operation_id={self.operation_id!r})"
        )


class RawResponse:
    """What came back, before any decoding.

    A plain class rather than a dataclass: ``dataclasses`` is not imported on a client's start.
    """

    __slots__ = ("status", "reason", "headers", "content", "elapsed", "attempts", "extra")

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Mapping[str, str],
        content: bytes,
        elapsed: float = 0.0,
        attempts: int = 1,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.content = content
        self.elapsed = elapsed
        self.attempts = attempts
        self.extra = {} if extra is None else extra

    @property
    def media_type(self) -> str:
        return base_media(self.headers.get("Content-Type") or "")

    def _fields(self) -> tuple[Any, ...]:
        return (self.status, self.reason, self.headers, self.content, self.elapsed, self.attempts, self.extra)

    def __eq__(self, other: object) -> bool:  # by value, as the dataclass it was
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        # The body and headers may echo a credential the server was sent: sizes and names only.
        return (
            f"RawResponse(status={self.status}, reason={self.reason!r}, headers=<{len(self.headers)} headers>, "
            f"content=<{len(self.content)} bytes>, elapsed={self.elapsed:.3f}, attempts={self.attempts})"
        )
