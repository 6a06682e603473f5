"""Turn validated arguments into the bytes of a request, by the spec's serialisation rules.

Parameters follow OpenAPI's ``style``/``explode`` (path: simple, label, matrix; query: form,
spaceDelimited, pipeDelimited, deepObject; header: simple; cookie: form). Every value is
percent-encoded so that it can never change the request target: a path parameter of
``../x`` or ``a/b?c#d`` stays one path segment.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import IO, Any, Iterable
from urllib.parse import quote

from .errors import RequestValidationError
from .operations import Parameter

JSON_TYPES = ("application/json",)
_QUERY_SAFE = "-._~"
_RESERVED_SAFE = ":/?#[]@!$&'()*+,;="


@dataclass
class Encoded:
    """What one call puts on the wire, before the transport adds the base URL."""

    path: str
    query: str
    headers: dict[str, str]
    body: bytes | None


def is_json_media(media: str) -> bool:
    media = media.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or media.endswith("+json")


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
    if isinstance(value, (list, tuple)):
        if style == "form" and param.explode:
            return [f"{name}={enc(v)}" for v in value]
        joiner = {"spaceDelimited": "%20", "pipeDelimited": "%7C"}.get(style, ",")
        return [f"{name}=" + joiner.join(enc(v) for v in value)]
    if isinstance(value, dict):
        if param.explode:
            return [f"{enc(k)}={enc(v)}" for k, v in _pairs(value)]
        return [f"{name}=" + ",".join(f"{enc(k)},{enc(v)}" for k, v in _pairs(value))]
    return [f"{name}={enc(value)}"]


# --------------------------------------------------------------------------- headers


def header_value(param: Parameter, value: Any) -> str:
    if param.media_type and is_json_media(param.media_type):
        return json.dumps(value, separators=(",", ":"))
    return _simple(value, param.explode, lambda text: scalar_text(text))


def cookie_value(param: Parameter, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        text = ",".join(scalar_text(v) for v in value)
    elif isinstance(value, dict):
        text = ",".join(f"{k},{scalar_text(v)}" for k, v in value.items())
    else:
        text = scalar_text(value)
    return f"{param.name}={quote(text, safe=_QUERY_SAFE)}"


def check_header_text(name: str, value: str, operation: str) -> None:
    """Refuse values that would split or end the header block (response splitting)."""
    if any(ch in value for ch in "\r\n\0"):
        raise RequestValidationError(
            f"{operation}: header {name!r} contains CR, LF or NUL; such a value could inject headers",
            operation=operation,
            parameter=name,
            rule="header-characters",
        )


# --------------------------------------------------------------------------- bodies


def encode_body(media: str, body: Any, operation: str) -> tuple[bytes, str]:
    """The bytes of a request body and the Content-Type header to send with them."""
    base = media.split(";", 1)[0].strip().lower()
    if is_json_media(base):
        try:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise RequestValidationError(
                f"{operation}: body cannot be sent as JSON: {exc}", operation=operation, parameter="body", rule="json"
            ) from None
        return data.encode("utf-8"), media
    if base == "application/x-www-form-urlencoded":
        pieces = []
        for key, value in (body or {}).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            pieces += [f"{quote(str(key), safe=_QUERY_SAFE)}={quote(scalar_text(v), safe=_QUERY_SAFE)}" for v in values]
        return "&".join(pieces).encode("ascii"), media
    if base == "multipart/form-data":
        return encode_multipart(body or {})
    if isinstance(body, str):
        return body.encode("utf-8"), media if "charset" in media or not base.startswith(
            "text/"
        ) else f"{media}; charset=utf-8"
    return _raw_bytes(body), media


def _raw_bytes(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        return body.read()
    if isinstance(body, os.PathLike):
        with open(body, "rb") as handle:
            return handle.read()
    raise TypeError(f"a raw body must be bytes, a str, a path or an open file, not {type(body).__name__}")


def encode_multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """multipart/form-data: strings and JSON values as text parts, files as file parts."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) and _is_file_list(value) else [value]:
            chunks.append(_multipart_part(boundary, name, item))
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _is_file_list(values: list) -> bool:
    return all(_is_file(v) for v in values)


def _is_file(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, os.PathLike)) or hasattr(value, "read")


def _multipart_part(boundary: str, name: str, value: Any) -> bytes:
    header = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote_field(name)}"'
    if _is_file(value):
        filename = _file_name(value)
        header += f'; filename="{_quote_field(filename)}"\r\nContent-Type: application/octet-stream'
        content = _raw_bytes(value)
    elif isinstance(value, (dict, list)):
        header += "\r\nContent-Type: application/json"
        content = json.dumps(value, separators=(",", ":")).encode()
    else:
        content = scalar_text(value).encode("utf-8")
    return header.encode("utf-8") + b"\r\n\r\n" + content + b"\r\n"


def _file_name(value: Any) -> str:
    if isinstance(value, os.PathLike):
        return os.path.basename(os.fspath(value))
    name = getattr(value, "name", None)
    return os.path.basename(name) if isinstance(name, str) else "file"


def _quote_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def join_query(pieces: Iterable[str]) -> str:
    return "&".join(pieces)


FileLike = IO[bytes]
