"""Who is calling: the operation's security requirements, checked against stored tokens.

A requirement is met when each of its schemes carries a token the store knows; any one met
requirement lets the call through (OpenAPI's rule). An ``Authorization`` value is accepted with
or without its ``Bearer`` prefix, in any case, as the real ODM does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.http import parse_cookie

from .params import parse_query
from .store import Store, User

ANONYMOUS = User("anonymous", frozenset())
DEFAULT_GUIDANCE = "The user is not authenticated: send a valid token."


@dataclass(frozen=True)
class Credential:
    """Where one security scheme's token travels."""

    scheme: str
    location: str  # "header", "query" or "cookie"
    name: str
    bearer: bool  # the value may carry a "Bearer " prefix
    # The WSGI environ's key of a header credential (Genestack-API-Token: HTTP_GENESTACK_API_TOKEN),
    # made once here rather than on every request.
    environ_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "environ_key", "HTTP_" + self.name.upper().replace("-", "_"))


def credentials_of(schemes: dict[str, dict[str, Any]], requirements: list[dict[str, Any]]) -> list[list[Credential]]:
    """Each requirement as the credentials it needs; ``[]`` inside means anyone may call."""
    return [[_credential(name, schemes.get(name) or {}) for name in requirement] for requirement in requirements]


def _credential(name: str, scheme: dict[str, Any]) -> Credential:
    kind = scheme.get("type")
    if kind == "apiKey":
        where, header = scheme.get("in", "header"), scheme.get("name", name)
        return Credential(name, where, header, bearer=header.lower() == "authorization")
    # http bearer, oauth2 and openIdConnect all carry their token in Authorization.
    usable = kind in ("oauth2", "openIdConnect") or str(scheme.get("scheme", "")).lower() == "bearer"
    return Credential(name, "header" if usable else "unsupported", "Authorization", bearer=True)


def authenticate(requirements: list[list[Credential]], environ: dict, store: Store) -> User | None:
    """The calling user, ``ANONYMOUS`` when the operation needs nobody, ``None`` when refused."""
    if not requirements or [] in requirements:  # no requirement, or an empty one: anyone may call
        return ANONYMOUS
    # When Authorization is sent beside another token, Authorization decides (as ODM documents):
    # a bad access token is a 401 even with a good Genestack-API-Token next to it.
    if environ.get("HTTP_AUTHORIZATION"):
        chosen = [r for r in requirements if any(c.name.lower() == "authorization" for c in r)]
        requirements = chosen or requirements
    sources = _Sources(environ)
    for requirement in requirements:
        user = _user_for(requirement, sources, store)
        if user is not None:
            return user
    return None


class _Sources:
    """Where tokens are read from: the environ's headers, and the query string and cookies
    parsed only when a credential travels there (most travel in a header)."""

    __slots__ = ("environ", "_query", "_cookies")

    def __init__(self, environ: dict):
        self.environ = environ
        self._query: dict[str, list[str]] | None = None
        self._cookies: dict[str, str] | None = None

    def value(self, credential: Credential) -> str | None:
        if credential.location == "header":
            return self.environ.get(credential.environ_key)
        if credential.location == "query":
            if self._query is None:
                self._query = parse_query(self.environ)
            values = self._query.get(credential.name)
            return values[-1] if values else None
        if self._cookies is None:
            self._cookies = parse_cookie(self.environ.get("HTTP_COOKIE", ""))
        return self._cookies.get(credential.name)


def _user_for(requirement: list[Credential], sources: _Sources, store: Store) -> User | None:
    user = None
    for credential in requirement:
        token = token_in(credential, sources)
        found = store.user_for_token(token) if token else None
        if found is None:
            return None
        user = user or found
    return user


def token_in(credential: Credential, sources: _Sources) -> str | None:
    if credential.location == "unsupported":
        return None
    value = (sources.value(credential) or "").strip()
    if credential.bearer and value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def guidance(descriptions: list[str]) -> str:
    """The 401 text: the spec's own description of the 401 answer, which says what to send."""
    for text in descriptions:
        if text.strip():
            return " ".join(text.split())
    return DEFAULT_GUIDANCE
