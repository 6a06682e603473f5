"""Read an operation's parameters and body from a WSGI request and check them.

Values arrive as text; each is turned into the type its schema names (``"5"`` → 5 for an
integer) and then run through the operation's precompiled check, the same checks the client
runs before sending. What cannot be converted stays text, so the check names the type rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.http import parse_cookie

from ..api.operations import Parameter
from ..api.plans import CallPlan
from ..spec.media import base_media, is_json_media

MAX_BODY_BYTES = 10 * 1024 * 1024
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass
class Problem:
    """One reason a request is refused; becomes an entry of the 400 body's ``errors``."""

    location: str
    name: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"in": self.location, "name": self.name, "rule": self.rule, "message": self.message}


@dataclass
class Parsed:
    params: dict[str, Any] = field(default_factory=dict)  # wire name → value
    body: Any = None
    has_body: bool = False
    problems: list[Problem] = field(default_factory=list)


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    """The body cannot be read as framed (bad Content-Length, broken chunks): the stream is out of step."""


def read_request(plan: CallPlan, environ: dict, path_params: dict[str, str], query: dict[str, list[str]]) -> Parsed:
    """Every declared parameter and the body, converted and checked."""
    parsed = Parsed()
    cookies: dict[str, str] | None = None
    for python_name, param in plan.params.items():
        if param.location == "cookie" and cookies is None:
            cookies = dict(parse_cookie(environ.get("HTTP_COOKIE", "")))
        raw = _raw_value(param, environ, path_params, query, cookies or {})
        if raw is None:
            if param.required:
                parsed.problems.append(
                    Problem(
                        param.location, param.name, "required", f"the required {param.location} parameter is missing"
                    )
                )
            continue
        if isinstance(raw, list) and len(raw) > 1 and not _repeats(param):
            # ?versionMessage=a&versionMessage=b: which one was meant is a guess; refuse it
            message = f"the query parameter is given {len(raw)} times; it takes one value"
            parsed.problems.append(Problem(param.location, param.name, "repeated", message))
            continue
        value = convert(param, raw)
        check = plan.checks.get(python_name)
        for violation in check.violations(value, f"{param.location}.{param.name}") if check else []:
            parsed.problems.append(Problem(param.location, param.name, violation.rule, str(violation)))
        parsed.params[param.name] = value
    _read_body(plan, environ, parsed)
    return parsed


def _raw_value(
    param: Parameter, environ: dict, path: dict[str, str], query: dict[str, list[str]], cookies: dict[str, str]
) -> str | list[str] | None:
    if param.location == "path":
        return path.get(param.name)
    if param.location == "query":
        return query.get(param.name)
    if param.location == "header":
        return environ.get("HTTP_" + param.name.upper().replace("-", "_"))
    return cookies.get(param.name)


def convert(param: Parameter, raw: str | list[str]) -> Any:
    """Text → the schema's type, by the parameter's style."""
    schema = param.schema or {}
    if param.media_type and is_json_media(param.media_type):
        text = raw[-1] if isinstance(raw, list) else raw
        try:
            return json.loads(text)
        except ValueError:
            return text
    if _kind(schema) == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [_scalar(piece, items) for piece in _pieces(param, raw)]
    return _scalar(raw[-1] if isinstance(raw, list) else raw, schema)


def _repeats(param: Parameter) -> bool:
    """Whether the parameter may be given more than once: an array in ``form`` style, exploded."""
    return not param.media_type and _kind(param.schema or {}) == "array" and param.style == "form" and param.explode


def _pieces(param: Parameter, raw: str | list[str]) -> list[str]:
    values = raw if isinstance(raw, list) else [raw]
    if param.location == "query" and param.explode and param.style == "form":
        return values
    separator = _DELIMITERS.get(param.style, ",")
    return [piece for value in values for piece in value.split(separator)] if values != [""] else []


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if kinds else None
    if kind is None and "items" in schema:
        return "array"
    return kind


def _scalar(text: str, schema: dict[str, Any]) -> Any:
    kind = _kind(schema)
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind == "null" and text == "":
        return None
    return text


# --------------------------------------------------------------------------- body


def _read_body(plan: CallPlan, environ: dict, parsed: Parsed) -> None:
    data = read_body_bytes(environ)
    body = plan.op.body
    if body is None:
        return
    if not data:
        if body.required:
            parsed.problems.append(Problem("body", "body", "required", "the request body is required"))
        return
    media = base_media(environ.get("CONTENT_TYPE") or "")
    declared = _declared_media(media, plan.body_checks)
    if declared is None:
        offered = ", ".join(plan.body_checks) or "none"
        parsed.problems.append(
            Problem(
                "header", "Content-Type", "media-type", f"{media or 'no media type'} is not accepted; send {offered}"
            )
        )
        return
    parsed.has_body = True
    if not is_json_media(declared):
        parsed.body = data
        return
    try:
        parsed.body = json.loads(data)
    except (ValueError, RecursionError):
        parsed.problems.append(Problem("body", "body", "json", "the request body is not valid JSON"))
        return
    check = plan.body_checks.get(declared)
    for violation in check.violations(parsed.body, "body") if check else []:
        parsed.problems.append(Problem("body", "body", violation.rule, str(violation)))


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


def _declared_media(media: str, declared: dict[str, Any]) -> str | None:
    for candidate in declared:
        base = base_media(candidate)
        if base == media or base == "*/*" or (base.endswith("/*") and media.startswith(base[:-1])):
            return candidate
    if not media and len(declared) == 1:
        return next(iter(declared))  # no Content-Type: read it as the one media type declared
    return None


def parse_query(environ: dict) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
