"""Request bodies as bytes by media type: JSON, form, multipart, text and raw content."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from ..errors import RequestValidationError
from ..spec.media import base_media, is_json_media
from ..types import is_file
from .media import concrete
from .styles import _QUERY_SAFE, scalar_text

# --------------------------------------------------------------------------- bodies


def encode_body(media: str, body: Any, operation: str) -> tuple[bytes, str]:
    """The bytes of a request body and the Content-Type header to send with them. A body declared
    as a range (``application/*``) is sent as the concrete type that fits it (JSON for data)."""
    media = concrete(media, body)
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
    if not boundary:
        import uuid  # multipart bodies only: uuid imports platform, not worth it for every client

        boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) and value and _is_file_list(value) else [value]:
            chunks.append(_multipart_part(boundary, name, item))
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _is_file_list(values: list) -> bool:
    return all(is_file(v) for v in values)


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
