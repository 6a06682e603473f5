"""One verdict on an answer: decoded by its media type and held to the declared response."""

from __future__ import annotations

import json
from typing import Any

from ..api.plans import CallPlan, ResponsePlan
from ..api.schemas import Violation
from ..spec.media import base_media, is_json_media
from .media import decodes_as_json, match_declared
from .messages import RawResponse


def check_answer(plan: CallPlan, raw: RawResponse) -> tuple[ResponsePlan | None, Any, list[Violation]]:
    """An answer held to the spec: the response declared for its status, the decoded body, and
    how the answer breaks the spec (empty when it keeps to it). Error answers included."""
    declared = plan.response_for(raw.status)
    if declared is None or raw.status < 200:
        declared_list = ", ".join(plan.responses) or "none"
        problem = f"status {raw.status} is not declared for {plan.op.operation_id} (declared: {declared_list})"
        return None, _decode_loosely(raw), [Violation("$", "status", problem)]
    if raw.status >= 400 and not raw.content:
        return declared, None, []  # an error without a body is fine even where the spec shows one
    data, violations = decode(declared, raw)
    return declared, data, violations


_MEDIA_KEYS_KEPT = 32  # distinct Content-Type texts remembered per response (a server sends one or two)


def media_of(declared: ResponsePlan, raw: RawResponse) -> tuple[str, str | None, bool]:
    """The answer's media type, the declared type or range it falls in (``None``: none), and
    whether its body is read as JSON; worked out once per Content-Type text and response."""
    header = raw.headers.get("Content-Type") or ""
    found = declared.media_keys.get(header)
    if found is None:
        media = base_media(header)
        key = match_declared(media, declared.checks)
        found = (media, key, key is not None and decodes_as_json(key, media))
        if len(declared.media_keys) < _MEDIA_KEYS_KEPT:
            declared.media_keys[header] = found
    return found


def decode(declared: ResponsePlan, raw: RawResponse, check: bool = True) -> tuple[Any, list[Violation]]:
    """Decode the body by the media type the server named; check it against the schema
    (unless ``check`` is false: then only what decoding itself finds is reported)."""
    checks = declared.checks
    if not checks:
        return _decode_loosely(raw), []
    media, key, as_json = media_of(declared, raw)
    if key is None:
        if not raw.content and not media:
            return None, [Violation("$", "content", f"no body; the spec declares {', '.join(checks)}")]
        what = media or "no Content-Type"
        return _decode_loosely(raw), [
            Violation("$", "content-type", f"answered {what}; the spec declares {', '.join(checks)}")
        ]
    if as_json:
        try:
            data = json.loads(raw.content)
        except (ValueError, RecursionError) as exc:
            return raw.content, [Violation("$", "json", f"the body is not valid JSON ({type(exc).__name__})")]
    elif key.startswith("text/") or key.endswith("/csv") or key.endswith("tab-separated-values"):
        data = _text(raw)
    else:
        data = raw.content
    schema_check = checks[key] if check else None
    return data, (schema_check.violations(data, "$") if schema_check is not None and as_json else [])


# The one media-range rule (client/response.py reads it under this name too).
_match_media = match_declared


def _charset(raw: RawResponse) -> str:
    content_type = raw.headers.get("Content-Type") or ""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def _text(raw: RawResponse) -> str:
    """The body as text by the server's charset; a bogus or non-text codec name falls back to UTF-8."""
    try:
        return raw.content.decode(_charset(raw), "replace")
    except (LookupError, ValueError):  # "nope", "base64", "zlib": not text encodings
        return raw.content.decode("utf-8", "replace")


def _decode_loosely(raw: RawResponse) -> Any:
    """Best effort for undeclared answers: JSON if it parses, text if text, else bytes."""
    if not raw.content:
        return None
    if is_json_media(raw.media_type):
        try:
            return json.loads(raw.content)
        except (ValueError, RecursionError):
            return raw.content
    if raw.media_type.startswith("text/"):
        return _text(raw)
    return raw.content
