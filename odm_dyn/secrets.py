"""Credentials kept out of every text that leaves the process: logs, messages, reports.

The one place of both rules that hide a secret:

- **by value**: :func:`scrubber` takes known credential values out of any text (as sent,
  without a ``Bearer``-style prefix, percent-encoded); :class:`LogFilter` does it to the records
  of urllib3's loggers, registered by the transport that sends the values and removed by its
  ``close()``, so a closed client's values are no longer held anywhere;
- **by name**: :func:`is_secret_name` says which header or query parameter may carry a
  credential; :func:`redact_headers` and :func:`redact_target` replace their values.

:func:`shown_url` is a URL without its user part and query, :func:`cut` shortens a text after
hiding credentials in it (never before: a cut through a value leaves a fragment no scrubber
finds). :func:`hide_queries` takes every URL's query out of a text (a query may hold credentials or
values the caller passed), for messages made from a library's exception.

Layer: the bottom; imports nothing of odm_dyn.
"""

from __future__ import annotations

import logging
import re
from typing import AbstractSet, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus

REDACTED = "[redacted]"

Hide = Callable[[str], str]

# --------------------------------------------------------------------------- by value


def secret_forms(values: Iterable[str | None]) -> tuple[str, ...]:
    """Every form a credential value can take in a text: as given, without its ``Bearer``-style
    prefix, percent-encoded (path and form style); longest first, so none is left half hidden."""
    forms: set[str] = set()
    for value in values:
        if not value:
            continue
        words = str(value).split()
        for text in {str(value), words[-1] if words else ""} - {""}:
            forms |= {text, quote(text, safe=""), quote_plus(text, safe="")}
    return tuple(sorted(forms, key=len, reverse=True))


def scrub(text: str, forms: Iterable[str]) -> str:
    """``text`` with every one of ``forms`` (from :func:`secret_forms`) replaced."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def scrubber(values: Iterable[str | None]) -> Hide:
    """A function that takes these credential values, in every form, out of a text."""
    forms = secret_forms(values)
    return lambda text: scrub(text, forms)


class LogFilter(logging.Filter):
    """Replaces credential values in the records of urllib3's loggers, while installed.

    urllib3 logs each request line at DEBUG, query included, so a credential sent in the query
    (an ``apiKey`` scheme ``in: query``) would reach every handler that shows DEBUG records.
    Each transport installs its own filter for the values it sends and removes it on close.
    """

    LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.util.retry")
    # httpx logs each request's URL at INFO, httpcore the answer's headers at DEBUG (AsyncClient).
    HTTPX_LOGGERS = (
        "httpx",
        "httpcore.connection",
        "httpcore.http11",
        "httpcore.http2",
        "httpcore.proxy",
        "httpcore.socks",
    )

    def __init__(self, values: Iterable[str | None], loggers: Iterable[str] = LOGGERS) -> None:
        super().__init__()
        self.forms = secret_forms(values)
        self.loggers = tuple(loggers)

    def install(self) -> LogFilter:
        if self.forms:
            for name in self.loggers:
                logging.getLogger(name).addFilter(self)
        return self

    def remove(self) -> None:
        """Off the loggers, and the values forgotten: nothing of a closed client stays held."""
        for name in self.loggers:
            logging.getLogger(name).removeFilter(self)
        self.forms = ()

    def hide(self, text: str) -> str:
        return scrub(text, self.forms)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.forms:
            message = record.getMessage()
            hidden = self.hide(message)
            if hidden != message:
                record.msg, record.args = hidden, None
        return True


_URL_QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\")]*")


def hide_queries(text: str) -> str:
    """``text`` with the query of every URL (or path) in it taken out."""
    return _URL_QUERY.sub(r"\1", text)


def shown_url(url: str) -> str:
    """A URL as it may be shown: its user part (``user:pass@``) redacted, its query and
    fragment left out (either may hold credentials, ``?token=…``)."""
    scheme, sep, rest = str(url).partition("://")
    if not sep:
        scheme, rest = "", scheme
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = REDACTED + "@" + authority.rsplit("@", 1)[1]
    if not slash:
        authority = re.split(r"[?#]", authority, maxsplit=1)[0]
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    return f"{scheme}{sep}{authority}{slash}{path}"


def cut(text: str, limit: int, hide: Hide | None = None) -> str:
    """At most ``limit`` characters of ``text``, credentials hidden *before* the cut, so no
    fragment of one is left at the edge ("…" marks a cut)."""
    hidden = hide(text) if hide else text
    return hidden if len(hidden) <= limit else hidden[:limit] + "…"


# --------------------------------------------------------------------------- by name

# Headers that carry credentials by name; any other whose name mentions a token or key too.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "genestack-api-token", "x-api-key"}
)
_SECRET_WORDS = ("token", "key", "secret", "password")


def is_secret_name(name: str, declared: AbstractSet[str] = frozenset()) -> bool:
    """Whether a header or query parameter name may carry a credential: by its name, or because
    a security scheme sends one in it (``declared``: lowercase names, ``Api.secret_names``)."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or lowered in declared or any(word in lowered for word in _SECRET_WORDS)


def redact_headers(headers: Mapping[str, str], declared: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """A copy with every credential-bearing header's value replaced."""
    return {name: (REDACTED if is_secret_name(name, declared) else str(value)) for name, value in headers.items()}


class RedactedHeaders(dict):
    """Headers as sent, whose ``repr`` (a traceback's locals under ``--showlocals``, a debugger,
    a log of the object) hides the values of credential-bearing headers, by name."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_headers(self))


class Credentials(dict):
    """Values that are all credentials (a scheme's headers, by name): the ``repr`` shows names only."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(dict.fromkeys(self, REDACTED))


class CredentialPairs(list):
    """Query pairs (``name=value``) that carry credentials: the ``repr`` shows how many only."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"[{len(self)} credential pair(s) {REDACTED}]"


def redact_target(target: str, declared: AbstractSet[str] = frozenset()) -> str:
    """A path and query with the values of credential-bearing query parameters replaced."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(name, declared) for name, _ in pairs):
        return target
    shown = [
        f"{quote(name, safe='')}={REDACTED if is_secret_name(name, declared) else quote(value, safe='')}"
        for name, value in pairs
    ]
    return path + "?" + "&".join(shown)
