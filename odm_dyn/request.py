"""Turn validated arguments into the bytes of a request, by the spec's serialisation rules.

Parameters follow OpenAPI's ``style``/``explode`` (path: simple, label, matrix; query: form,
spaceDelimited, pipeDelimited, deepObject; header: simple; cookie: form). Every value is
percent-encoded so that it can never change the request target: a path parameter of
``../x`` or ``a/b?c#d`` stays one path segment.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any
from urllib.parse import quote

from .errors import RequestValidationError
from .operations import Parameter, base_media, is_json_media

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


# --------------------------------------------------------------------------- bodies


def encode_body(media: str, body: Any, operation: str) -> tuple[bytes, str]:
    """The bytes of a request body and the Content-Type header to send with them."""
    base = base_media(media)
    if is_json_media(base):
        try:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise RequestValidationError(
                f"{operation}: body cannot be sent as JSON: {exc}", operation=operation, parameter="body", rule="json"
            ) from None
        return data.encode("utf-8"), media
    if base == "application/x-www-form-urlencoded":
        return encode_form(body or {}), media
    if base == "multipart/form-data":
        return encode_multipart(body or {})
    if isinstance(body, str):
        wants_charset = base.startswith("text/") and "charset" not in media
        return body.encode("utf-8"), f"{media}; charset=utf-8" if wants_charset else media
    return _raw_bytes(body), media


def encode_form(fields: dict[str, Any]) -> bytes:
    """application/x-www-form-urlencoded by OpenAPI's default encoding (style form, explode):
    an array repeats its key, an object's properties become pairs of their own."""
    pieces = []
    for key, value in fields.items():
        if isinstance(value, dict):
            pairs = [(str(k), v) for k, v in value.items()]
        else:
            pairs = [(str(key), v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        pieces += [f"{quote(k, safe=_QUERY_SAFE)}={quote(scalar_text(v), safe=_QUERY_SAFE)}" for k, v in pairs]
    return "&".join(pieces).encode("ascii")


def _raw_bytes(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    if isinstance(body, os.PathLike):
        with open(body, "rb") as handle:
            return handle.read()
    raise TypeError(f"a raw body must be bytes, a str, a path or an open file, not {type(body).__name__}")


def encode_multipart(fields: dict[str, Any], boundary: str | None = None) -> tuple[bytes, str]:
    """multipart/form-data: text parts for strings and numbers, JSON parts for objects and
    arrays, file parts for bytes, a ``pathlib.Path``, an open file or a ``(filename, content
    [, content_type])`` tuple; a list of files is one part per file under the same name."""
    boundary = boundary or uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) and value and _is_file_list(value) else [value]:
            chunks.append(_multipart_part(boundary, name, item))
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _is_file_list(values: list) -> bool:
    return all(is_file(v) for v in values)


def is_file(value: Any) -> bool:
    """Whether a body value is file content: bytes, a path, an open file or a file tuple."""
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str):
        return is_file(value[1])
    return isinstance(value, (bytes, bytearray, memoryview, os.PathLike)) or hasattr(value, "read")


def _multipart_part(boundary: str, name: str, value: Any) -> bytes:
    header = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote_field(name)}"'
    if is_file(value):
        filename, content, content_type = _file_parts(value)
        header += f'; filename="{_quote_field(filename)}"\r\nContent-Type: {content_type}'
    elif isinstance(value, (dict, list)):
        header += "\r\nContent-Type: application/json"
        content = json.dumps(value, separators=(",", ":")).encode()
    else:
        content = scalar_text(value).encode("utf-8")
    return header.encode("utf-8") + b"\r\n\r\n" + content + b"\r\n"


def _file_parts(value: Any) -> tuple[str, bytes, str]:
    """(filename, bytes, content type) of a file value; OpenAPI's default type for binary."""
    if isinstance(value, tuple):
        filename, content = value[0], _raw_bytes(value[1])
        return filename, content, value[2] if len(value) == 3 else "application/octet-stream"
    return _file_name(value), _raw_bytes(value), "application/octet-stream"


def _file_name(value: Any) -> str:
    if isinstance(value, os.PathLike):
        return os.path.basename(os.fspath(value))
    name = getattr(value, "name", None)
    return os.path.basename(name) if isinstance(name, str) else "file"


def _quote_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def validation_view(value: Any) -> Any:
    """A non-JSON body as its schema sees it: file content is a (binary) string."""
    if is_file(value):
        return ""
    if isinstance(value, dict):
        return {k: validation_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [validation_view(v) for v in value]
    return value
