"""Read a WSGI request for checking: the body within the server's size limit, framed safely.

The reading itself (parameters decoded by style and typed by schema, the body by media type,
all run through the operation's compiled checks) is the wire layer's one incoming check,
:mod:`odm_dyn.wire.incoming`, which ``validate_exchange`` shares. What is the server's own
stays here: how much body it takes, and that an unread body is drained so a kept-alive
connection stays in step.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from ..api.plans import CallPlan
from ..wire.incoming import IncomingRequest, Problem, Reading, read_incoming

MAX_BODY_BYTES = 10 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    """The body cannot be read as framed (bad Content-Length, broken chunks): the stream is out of step."""


def read_request(plan: CallPlan, environ: dict, path: str) -> Reading:
    """Every declared parameter and the body, decoded and checked by the one incoming check
    (:func:`odm_dyn.wire.incoming.read_incoming`) that ``validate_exchange`` runs too."""
    incoming = IncomingRequest.from_environ(environ, path, read_body_bytes(environ))
    return read_incoming(plan, incoming)


def read_body_bytes(environ: dict) -> bytes:
    """The whole request body, read even when unused so a kept-alive connection stays in step."""
    length_text = (environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length_text and not (length_text.isdigit() and length_text.isascii()):
        # A Content-Length that is not a number leaves no way to know where the next request starts.
        raise BadBody(f"Content-Length {length_text[:40]!r} is not a number of bytes")
    try:
        return _read_framed(environ, stream, length_text)
    except (OSError, ValueError) as exc:  # werkzeug's chunked reader: "Invalid chunk header" and the like
        raise BadBody(f"the request body is not framed correctly ({exc})") from None


def _read_framed(environ: dict, stream: Any, length_text: str) -> bytes:
    if length_text:
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge(length)
        return stream.read(length) if length else b""
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug ends the stream for us
        data = stream.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise BodyTooLarge(len(data))
        return data
    return b""


def parse_query(environ: dict) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


__all__ = [
    "MAX_BODY_BYTES",
    "BadBody",
    "BodyTooLarge",
    "Problem",
    "Reading",
    "parse_query",
    "read_body_bytes",
    "read_request",
]
