"""The one check of an incoming request: what the embedded server and ``validate_exchange`` both run.

An :class:`IncomingRequest` is a request as it arrived (method, raw path, raw query string,
headers, cookies, body bytes), made from a WSGI environ or from a URL and headers.
:func:`read_incoming` reads it against one operation's plan: every declared parameter decoded
by its style (:mod:`odm_dyn.wire.styles`) into typed values and run through the plan's compiled
check, required parameters present, the body's media type among the declared ranges
(:mod:`odm_dyn.wire.media`), the body decoded by that media type and checked. The server answers
400 when the reading holds problems; ``validate_exchange`` reports the same problems as
violations. One function gives both verdicts, so they cannot disagree.

What depends on the plan alone (the path's pattern, each parameter's :class:`~.styles.Shape`)
is worked out once per plan and kept.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping
from urllib.parse import unquote_plus, urlsplit

from ..api.plans import CallPlan
from ..api.schemas import Violation
from ..spec.pointers import resolve_pointer
from .media import concrete, decodes_as_json, match_declared
from .routing import make_route
from .styles import MISSING, Shape, StyleError, WireText, decode_param, shape_of

# --------------------------------------------------------------------------- the request as it came


@dataclass(frozen=True)
class IncomingRequest:
    """A request as received, nothing decoded: the input of :func:`check_incoming`."""

    method: str
    path: str  # as sent, still percent-encoded; relative to the API's base path
    query: str = ""  # the raw query string, without "?"
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case name → value
    cookies: tuple[tuple[str, str], ...] = ()  # (name, raw value), in order
    body: bytes = b""

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any], path: str, body: bytes) -> IncomingRequest:
        """From a WSGI environ, its raw path (see :func:`~.routing.raw_path_of`) and its body."""
        cookie = environ.get("HTTP_COOKIE")
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            query=str(environ.get("QUERY_STRING", "")),
            headers=EnvironHeaders(environ),
            cookies=cookie_pairs(cookie) if cookie else (),
            body=body,
        )

    @classmethod
    def from_url(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes = b"", path: str | None = None
    ) -> IncomingRequest:
        """From a full URL (or a target) and headers, as a client sent them; ``path`` overrides
        the URL's path (for a path without the server URL's base path)."""
        parts = urlsplit(url)
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        return cls(
            method=method.upper(),
            path=path if path is not None else parts.path or "/",
            query=parts.query,
            headers=lowered,
            cookies=cookie_pairs(lowered.get("cookie", "")),
            body=body,
        )


class EnvironHeaders(Mapping[str, str]):
    """A WSGI environ's headers by lower-case name, looked up when asked for: a request
    reads only the few its operation declares, so none is copied."""

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]):
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        key = name.upper().replace("-", "_")
        value = self._environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key)
        if value is None:
            raise KeyError(name)
        return str(value)

    def __iter__(self) -> Iterator[str]:
        for key in self._environ:
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield key.removeprefix("HTTP_").lower().replace("_", "-")

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"<EnvironHeaders {sorted(self)}>"  # names only: values may be credentials


def cookie_pairs(header: str) -> tuple[tuple[str, str], ...]:
    """The ``name=value`` pairs of a ``Cookie`` header, in order, values as sent (quotes removed)."""
    pairs = []
    for piece in header.split(";"):
        name, sep, value = piece.strip().partition("=")
        if sep and name:
            value = value.strip()
            pairs.append((name.strip(), value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value))
    return tuple(pairs)


def query_pairs_of(query: str) -> tuple[tuple[str, str], ...]:
    """``(name, raw value)`` pairs of a query string: names decoded, values left as sent, so a
    style's decoder can split on its delimiters before percent-decoding."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((unquote_plus(name), value))
    return tuple(pairs)


# --------------------------------------------------------------------------- the verdict


@dataclass
class Problem:
    """One reason a request breaks the spec; an entry of the server's 400 ``errors``."""

    location: str  # path, query, header, cookie or body
    name: str
    rule: str
    message: str  # what the server's 400 says: the place, then what is wrong
    path: str = "$"  # where inside the value (a JSON path whose root names the parameter)
    detail: str = ""  # what is wrong without the place (``validate_exchange`` shows the path apart)

    def __post_init__(self) -> None:
        self.detail = self.detail or self.message

    @classmethod
    def of(cls, location: str, name: str, violation: Violation, shown: str) -> Problem:
        """A schema check's violation; ``shown`` is the path as the server's message names it."""
        return cls(location, name, violation.rule, f"{shown}: {violation.message}", violation.path, violation.message)

    def to_dict(self) -> dict[str, str]:
        return {"in": self.location, "name": self.name, "rule": self.rule, "message": self.message}


@dataclass
class Reading:
    """A request read against an operation: decoded values, and its problems (empty: it keeps to the spec)."""

    params: dict[str, Any] = field(default_factory=dict)  # wire name → typed value
    body: Any = None
    has_body: bool = False
    problems: list[Problem] = field(default_factory=list)


def check_incoming(plan: CallPlan, incoming: IncomingRequest) -> list[Problem]:
    """Every way ``incoming`` breaks the operation's spec; an empty list when it keeps to it."""
    return read_incoming(plan, incoming).problems


def read_incoming(plan: CallPlan, incoming: IncomingRequest) -> Reading:
    """The request's parameters and body, decoded and checked against ``plan``."""
    reader = _reader(plan)
    reading = Reading()
    wire = WireText(
        reader.path_params(incoming.path), query_pairs_of(incoming.query), incoming.headers, incoming.cookies
    )
    for python_name, param in plan.params.items():
        where = f"{param.location}.{param.name}"
        try:
            value = decode_param(param, reader.shapes[python_name], wire, reader.others[param.location])
        except StyleError as error:
            reading.problems.append(Problem(param.location, param.name, error.rule, str(error), where))
            continue
        if value is MISSING:
            if param.required:
                message = f"the required {param.location} parameter {param.name!r} is missing"
                reading.problems.append(Problem(param.location, param.name, "required", message, where))
            continue
        check = plan.checks.get(python_name)
        for violation in check.violations(value, where) if check is not None else []:
            reading.problems.append(Problem.of(param.location, param.name, violation, violation.path))
        reading.params[param.name] = value
    _read_body(plan, incoming, reading)
    return reading


def check_body(plan: CallPlan, content_type: str, body: bytes) -> list[Problem]:
    """The body's part of :func:`check_incoming` alone: media type, JSON, schema."""
    reading = Reading()
    _read_body(plan, IncomingRequest("POST", "/", headers={"content-type": content_type}, body=body), reading)
    return reading.problems


def _read_body(plan: CallPlan, incoming: IncomingRequest, reading: Reading) -> None:
    declared_body = plan.op.body
    if declared_body is None:
        return
    if not incoming.body:
        if declared_body.required:
            reading.problems.append(Problem("body", "body", "required", "the request body is required"))
        return
    sent = incoming.headers.get("content-type", "")
    declared = match_declared(sent, plan.body_checks)
    if declared is None and not sent.strip() and len(plan.body_checks) == 1:
        declared = next(iter(plan.body_checks))  # no Content-Type: read it as the one type declared
    if declared is None:
        offered = ", ".join(plan.body_checks) or "none"
        message = f"{sent.split(';')[0].strip() or 'no media type'} is not accepted; send {offered}"
        reading.problems.append(Problem("header", "Content-Type", "media-type", message))
        return
    reading.has_body = True
    if not decodes_as_json(declared, sent or concrete(declared)):
        reading.body = incoming.body
        return
    try:
        reading.body = json.loads(incoming.body)
    except (ValueError, RecursionError):
        reading.problems.append(Problem("body", "body", "json", "the request body is not valid JSON"))
        return
    check = plan.body_checks.get(declared)
    for violation in check.violations(reading.body, "$") if check is not None else []:
        reading.problems.append(Problem.of("body", "body", violation, "body" + violation.path[1:]))


# --------------------------------------------------------------------------- per plan, once


class _PlanReader:
    """What reading a request for one plan needs, worked out from the spec once."""

    def __init__(self, plan: CallPlan):
        document = plan.op.document.data

        def resolve(ref: str) -> Any:
            try:
                return resolve_pointer(document, ref[1:]) if ref.startswith("#") else {}
            except KeyError:
                return {}

        self.shapes: dict[str, Shape] = {n: shape_of(p.schema, resolve) for n, p in plan.params.items()}
        self.others: dict[str, frozenset[str]] = {
            location: frozenset(p.name for p in plan.params.values() if p.location == location)
            for location in ("path", "query", "header", "cookie")
        }
        self.route = make_route(plan.op.path)

    def path_params(self, path: str) -> dict[str, str]:
        """The raw (still percent-encoded) path parameters of a path of this operation."""
        found = self.route.regex.fullmatch(path) if self.route.regex is not None else None
        return dict(zip(self.route.names, found.groups())) if found else {}


_readers: dict[int, tuple[CallPlan, _PlanReader]] = {}
_lock = threading.Lock()


def _reader(plan: CallPlan) -> _PlanReader:
    found = _readers.get(id(plan))
    if found is not None and found[0] is plan:
        return found[1]
    reader = _PlanReader(plan)
    with _lock:
        if len(_readers) > 4096:  # plans of many loaded specs: start again rather than grow
            _readers.clear()
        _readers[id(plan)] = (plan, reader)
    return reader


__all__ = ["IncomingRequest", "Problem", "Reading", "check_body", "check_incoming", "cookie_pairs", "read_incoming"]
