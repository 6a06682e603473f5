"""Turn validated arguments into the bytes of a request, by the spec's serialisation rules.

Parameters follow OpenAPI's ``style``/``explode`` (path: simple, label, matrix; query: form,
spaceDelimited, pipeDelimited, deepObject; header: simple; cookie: form). Every value is
percent-encoded so that it can never change the request target: a path parameter of
``../x`` or ``a/b?c#d`` stays one path segment.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from ..api.operations import Parameter
from ..errors import RequestValidationError
from ..spec.media import is_json_media

_QUERY_SAFE = "-._~"
# spaceDelimited and pipeDelimited join with a percent-encoded delimiter; form joins with ",".
_DELIMITERS = {"spaceDelimited": "%20", "pipeDelimited": "%7C"}
_RESERVED_SAFE = ":/?#[]@!$&'()*+,;="


def scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _pairs(value: dict) -> list[tuple[str, str]]:
    return [(str(k), scalar_text(v)) for k, v in value.items()]


# --------------------------------------------------------------------------- path


def path_segment(param: Parameter, value: Any) -> str:
    """One path parameter, styled and percent-encoded (``/``, ``?``, ``#``, ``%`` included)."""
    enc = _encode_path_text
    name = param.name
    if param.style == "label":
        sep = "." if param.explode else ","
        if isinstance(value, dict):
            inner = sep.join(f"{enc(k)}={enc(v)}" if param.explode else f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
        elif isinstance(value, (list, tuple)):
            inner = sep.join(enc(scalar_text(v)) for v in value)
        else:
            inner = enc(scalar_text(value))
        return "." + inner
    if param.style == "matrix":
        if isinstance(value, dict):
            if param.explode:
                return "".join(f";{enc(k)}={enc(v)}" for k, v in _pairs(value))
            return f";{name}=" + ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
        if isinstance(value, (list, tuple)):
            if param.explode:
                return "".join(f";{name}={enc(scalar_text(v))}" for v in value)
            return f";{name}=" + ",".join(enc(scalar_text(v)) for v in value)
        return f";{name}={enc(scalar_text(value))}"
    return _simple(value, param.explode, enc)


def _encode_path_text(text: str) -> str:
    encoded = quote(text, safe="")
    if encoded in (".", ".."):  # dot segments would be collapsed by URL normalisation
        encoded = encoded.replace(".", "%2E")
    return encoded


def _simple(value: Any, explode: bool, enc: Any) -> str:
    if isinstance(value, dict):
        if explode:
            return ",".join(f"{enc(k)}={enc(v)}" for k, v in _pairs(value))
        return ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
    if isinstance(value, (list, tuple)):
        return ",".join(enc(scalar_text(v)) for v in value)
    return enc(scalar_text(value))


def render_path(template: str, segments: dict[str, str]) -> str:
    for name, segment in segments.items():
        template = template.replace("{" + name + "}", segment)
    return template


# --------------------------------------------------------------------------- query


def query_pairs(param: Parameter, value: Any) -> list[str]:
    """The ``name=value`` pieces of one query parameter, already percent-encoded."""
    safe = _QUERY_SAFE + (
        _RESERVED_SAFE.replace("&", "").replace("=", "").replace("#", "") if param.allow_reserved else ""
    )

    def enc(text: Any) -> str:
        return quote(scalar_text(text), safe=safe)

    name = quote(param.name, safe=_QUERY_SAFE)
    style = param.style
    if param.media_type and is_json_media(param.media_type):
        return [f"{name}={enc(json.dumps(value, separators=(',', ':')))}"]
    if style == "deepObject" and isinstance(value, dict):
        return [f"{name}%5B{enc(k)}%5D={enc(v)}" for k, v in _pairs(value)]
    joiner = _DELIMITERS.get(style, ",")
    if isinstance(value, (list, tuple)):
        if param.explode:  # form's default; OpenAPI reads exploded space/pipe-delimited as form
            return [f"{name}={enc(v)}" for v in value]
        return [f"{name}=" + joiner.join(enc(v) for v in value)]
    if isinstance(value, dict):
        if style == "form" and param.explode:
            return [f"{enc(k)}={enc(v)}" for k, v in _pairs(value)]
        return [f"{name}=" + joiner.join(f"{enc(k)}{joiner}{enc(v)}" for k, v in _pairs(value))]
    return [f"{name}={enc(value)}"]


# --------------------------------------------------------------------------- headers


def header_value(param: Parameter, value: Any) -> str:
    if param.media_type and is_json_media(param.media_type):
        return json.dumps(value, separators=(",", ":"))
    return _simple(value, param.explode, lambda text: scalar_text(text))


def cookie_value(param: Parameter, value: Any) -> str:
    """One cookie parameter as ``name=value`` pairs (``; ``-joined), by style ``form``.

    ``explode: false`` joins array items and object keys/values with ``,``; ``explode: true``
    (the default) sends one ``name=item`` pair per array item and ``key=value`` per object
    property, as OpenAPI 3.2's ``cookie`` style spells out. Each value is percent-encoded so
    that it can never end the pair or the header.
    """

    def enc(text: Any) -> str:
        return quote(scalar_text(text), safe=_QUERY_SAFE)

    name = param.name
    if isinstance(value, (list, tuple)):
        if param.explode:
            return "; ".join(f"{name}={enc(v)}" for v in value)
        return f"{name}=" + ",".join(enc(v) for v in value)
    if isinstance(value, dict):
        if param.explode:
            return "; ".join(f"{enc(k)}={enc(v)}" for k, v in _pairs(value))
        return f"{name}=" + ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))
    return f"{name}={enc(value)}"


def check_header_text(name: str, value: str, operation: str) -> None:
    """Refuse values that would split or end the header block (response splitting), and what
    HTTP cannot carry at all: a name that is not a token, a value beyond Latin-1."""
    if any(ch in value for ch in "\r\n\0"):
        raise RequestValidationError(
            f"{operation}: header {name!r} contains CR, LF or NUL; such a value could inject headers",
            operation=operation,
            parameter=name,
            rule="header-characters",
        )
    if not _HEADER_NAME.fullmatch(name) or not value.isascii() and not _latin1(value):
        raise RequestValidationError(
            f"{operation}: header {name[:60]!r} cannot be sent: a header name must be a token and its value "
            "Latin-1 text (encode other text first, for example as percent-encoded UTF-8)",
            operation=operation,
            parameter=name,
            rule="header-characters",
        )


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
