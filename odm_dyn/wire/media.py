"""Media ranges: the one rule for which declared media type a Content-Type or an Accept means.

A spec declares media types or ranges (``application/json``, ``application/*``, ``*/*``); a
message names one concrete type, an ``Accept`` header several ranges with q-values. Matching
ignores parameters (``; charset=utf-8``) and case, lets ``type/*`` stand for every subtype of
``type`` and ``*/*`` for anything. Client, server and contract checks all choose with these
functions, so a body one of them accepts is accepted by the others.
"""

from __future__ import annotations

from typing import Iterable, Sequence, TypeVar

from ..spec.media import base_media, is_json_media

T = TypeVar("T")


def in_range(media: str, media_range: str) -> bool:
    """Whether the concrete ``media`` falls in ``media_range`` (exact, ``type/*`` or ``*/*``)."""
    media, media_range = base_media(media), base_media(media_range)
    if media_range in ("*/*", "*", media):
        return True
    if media_range.endswith("/*"):
        return media.startswith(media_range[:-1])
    if media.endswith("/*"):  # a range named by the message: it matches what it covers
        return media_range.startswith(media[:-1])
    return False


def match_declared(media: str, declared: Iterable[str]) -> str | None:
    """The declared type or range ``media`` belongs to: an exact match first, then the
    narrowest range (``application/*`` before ``*/*``); ``None`` when none covers it."""
    candidates = list(declared)
    base = base_media(media)
    for candidate in candidates:
        if base_media(candidate) == base:
            return candidate
    covering = [c for c in candidates if base and in_range(base, c)]
    return min(covering, key=_breadth) if covering else None


def _breadth(media_range: str) -> int:
    base = base_media(media_range)
    return 2 if base in ("*/*", "*") else 1 if base.endswith("/*") else 0


def is_range(media: str) -> bool:
    """``type/*`` or ``*/*``: a declared range rather than a type a message can name."""
    return base_media(media).endswith("*")


def concrete(media: str, value: object = None) -> str:
    """The type a body declared as ``media`` is sent (or, with no value, read) as: itself, or
    for a range the type that fits the value: JSON for data, ``text/plain`` for text under
    ``text/*``, octet-stream for bytes. Without a value only ``application/*`` means JSON."""
    if not is_range(media):
        return media
    base = base_media(media)
    if base == "text/*":
        return "text/plain"
    if isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "read"):
        return "application/octet-stream"
    if isinstance(value, str) and base in ("*/*", "*"):
        return "text/plain"
    if base == "application/*" or (value is not None and base in ("*/*", "*")):
        return "application/json"
    return "application/octet-stream"


def accepted(accept: str | None) -> list[str]:
    """The ranges of an ``Accept`` header, most wanted first (by ``q``, then order); q=0 dropped."""
    ranked = []
    for position, part in enumerate((accept or "").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def choose_by_accept(offered: Sequence[str], accept: str | None) -> str:
    """The offered type the ``Accept`` header prefers; JSON (or the first offered) otherwise."""
    for wanted in accepted(accept):
        for media in offered:
            if in_range(media, wanted):
                return media
    return next((m for m in offered if is_json_media(m)), offered[0])


def decodes_as_json(declared: str, sent: str) -> bool:
    """Whether a body declared as ``declared`` and labelled ``sent`` is read as JSON."""
    return is_json_media(declared) or (is_range(declared) and is_json_media(sent))


__all__ = ["accepted", "choose_by_accept", "concrete", "decodes_as_json", "in_range", "is_range", "match_declared"]
