"""Routes from the spec's path templates, compiled once when the app is built.

OpenAPI says a concrete path wins over a templated one (``/tasks/publish-versions`` over
``/tasks/{id}``), so literal paths are looked up in a dict first and templates are tried
from the most specific (fewest parameters, longest literal text) down. Matching runs on the
raw, still percent-encoded path: an encoded ``/`` inside a parameter stays inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import unquote

from ..api.plans import CallPlan

_PARAM = re.compile(r"{([^}/]+)}")


@dataclass
class Route:
    template: str
    regex: re.Pattern[str] | None  # None for a path without parameters
    names: tuple[str, ...]
    plans: dict[str, CallPlan] = field(default_factory=dict)  # "GET" → plan

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.plans))

    def specificity(self) -> tuple[int, int]:
        literal = len(_PARAM.sub("", self.template))
        return (len(self.names), -literal)


class Router:
    """Finds the route of a raw request path; built once from every operation's plan."""

    def __init__(self, plans: Iterable[CallPlan]):
        routes: dict[str, Route] = {}
        for plan in plans:
            template = plan.op.path
            route = routes.get(template)
            if route is None:
                route = routes[template] = make_route(template)
            route.plans[plan.op.method.upper()] = plan
        self.literal = {r.template: r for r in routes.values() if r.regex is None}
        self.templated = sorted((r for r in routes.values() if r.regex is not None), key=Route.specificity)

    def match(self, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters (percent-decoded, by wire name), or ``None``."""
        route = self.literal.get(raw_path)
        if route is None and "%" in raw_path:  # only an encoded path decodes to another literal
            route = self.literal.get(unquote(raw_path))
        if route is not None:
            return route, {}
        for route in self.templated:
            found = route.regex.fullmatch(raw_path) if route.regex else None
            if found:
                groups = found.groups()
                return route, {
                    name: unquote(value) if "%" in value else value for name, value in zip(route.names, groups)
                }
        return None


def make_route(template: str) -> Route:
    """A route for one path template: a pattern whose groups are the raw parameter segments."""
    names = tuple(_PARAM.findall(template))
    if not names:
        return Route(template, None, ())
    pattern, last = "", 0
    for found in _PARAM.finditer(template):
        pattern += re.escape(template[last : found.start()]) + "([^/]+)"
        last = found.end()
    pattern += re.escape(template[last:])
    return Route(template, re.compile(pattern), names)


def raw_path_of(environ: dict) -> str:
    """The request path as sent, before WSGI's percent-decoding (which would merge ``%2F`` and ``/``)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        from urllib.parse import quote

        return quote(environ.get("PATH_INFO", "") or "/", safe="/;=,:@!$&'()*+~")
    path = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:  # absolute-form request target (sent to proxies)
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path or "/"
