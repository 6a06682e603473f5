"""Media types as a spec declares them: the type without parameters, and whether it is JSON."""

from __future__ import annotations

import functools


def base_media(media: str) -> str:
    """A media type without its parameters, lower case: ``Text/CSV; charset=utf-8`` → ``text/csv``."""
    return media.split(";", 1)[0].strip().lower()


# Asked for every answer and body (by client and server) of a handful of distinct types:
# remembered, within a bound, since a request's Content-Type is the sender's to choose.
@functools.lru_cache(maxsize=256)
def is_json_media(media: str) -> bool:
    """``application/json`` and every ``+json`` type (``application/scim+json``)."""
    media = base_media(media)
    return media == "application/json" or media.endswith("+json")
