"""Who is calling: the operation's security requirements, checked against stored tokens.

A requirement is met when each of its schemes carries a token the store knows; any one met
requirement lets the call through (OpenAPI's rule). An ``Authorization`` value is accepted with
or without its ``Bearer`` prefix, in any case, as the real ODM does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

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


def authenticate(
    requirements: list[list[Credential]], environ: dict, lookup: Callable[[str], str | None], store: Store
) -> User | None:
    """The calling user, ``ANONYMOUS`` when the operation needs nobody, ``None`` when refused."""
    if not requirements:
        return ANONYMOUS
    # When Authorization is sent beside another token, Authorization decides (as ODM documents):
    # a bad access token is a 401 even with a good Genestack-API-Token next to it.
    if any(not r for r in requirements):
        return ANONYMOUS
    if lookup("header:Authorization"):
        chosen = [r for r in requirements if any(c.name.lower() == "authorization" for c in r)]
        requirements = chosen or requirements
    for requirement in requirements:
        user = _user_for(requirement, lookup, store)
        if user is not None:
            return user
    return None


def _user_for(requirement: list[Credential], lookup: Callable[[str], str | None], store: Store) -> User | None:
    user = None
    for credential in requirement:
        token = token_in(credential, lookup)
        found = store.user_for_token(token) if token else None
        if found is None:
            return None
        user = user or found
    return user


def token_in(credential: Credential, lookup: Callable[[str], str | None]) -> str | None:
    if credential.location == "unsupported":
        return None
    value = (lookup(f"{credential.location}:{credential.name}") or "").strip()
    if credential.bearer and value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def guidance(descriptions: list[str]) -> str:
    """The 401 text: the spec's own description of the 401 answer, which says what to send."""
    for text in descriptions:
        if text.strip():
            return " ".join(text.split())
    return DEFAULT_GUIDANCE
