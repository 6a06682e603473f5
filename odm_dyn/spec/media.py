"""Media types as a spec declares them: the type without parameters, and whether it is JSON."""

from __future__ import annotations


def base_media(media: str) -> str:
    """A media type without its parameters, lower case: ``Text/CSV; charset=utf-8`` → ``text/csv``."""
    return media.split(";", 1)[0].strip().lower()


def is_json_media(media: str) -> bool:
    """``application/json`` and every ``+json`` type (``application/scim+json``)."""
    media = base_media(media)
    return media == "application/json" or media.endswith("+json")
