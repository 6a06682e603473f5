"""The values that cross the transport: what came back, before any decoding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..spec.media import base_media


@dataclass
class RawResponse:
    """What came back, before any decoding."""

    status: int
    reason: str
    headers: Mapping[str, str]
    content: bytes
    elapsed: float = 0.0
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return base_media(self.headers.get("Content-Type") or "")
