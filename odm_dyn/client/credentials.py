"""Credentials: which header or query value carries each security scheme's secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

from ..api.plans import Api, CallPlan
from ..spec.read import spec_source
from ..wire.styles import check_header_text
from .options import with_scheme

if TYPE_CHECKING:
    from ..spec.fetch import FetchOptions

# --------------------------------------------------------------------------- credentials


def resolve_credentials(
    api: Api, token: str | None, access_token: str | None, credentials: Mapping[str, str] | None
) -> dict[str, str]:
    """Header (or query) values by security scheme name; secrets stay in this dict only."""
    resolved = {k: v for k, v in (credentials or {}).items() if v}
    for name, scheme in api.security_schemes.items():
        where = str(scheme.get("name", "")).lower()
        if token and scheme.get("type") == "apiKey" and where == "genestack-api-token":
            resolved.setdefault(name, token)
        if access_token and (
            (scheme.get("type") == "apiKey" and where == "authorization")
            or (scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer")
        ):
            resolved.setdefault(name, f"Bearer {access_token}")
    for name, value in resolved.items():
        check_header_text(name, value, "Client")
    return resolved


def outside_headers(api: Api, credentials: Mapping[str, str]) -> list[str]:
    """The credentials sent in a query or a cookie: values that must be kept out of logs."""
    return [
        value
        for name, value in credentials.items()
        if api.security_schemes.get(name, {}).get("in") in ("query", "cookie")
        and api.security_schemes[name].get("type") == "apiKey"
    ]


def auth_for(api: Api, plan: CallPlan, credentials: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The headers and query pieces that carry every credential the operation accepts."""

    headers: dict[str, str] = {}
    query: list[str] = []
    cookies: list[str] = []
    accepted = {name for requirement in plan.op.security for name in requirement}
    for name in sorted(accepted & credentials.keys()):
        scheme = api.security_schemes.get(name, {})
        value = credentials[name]
        if scheme.get("type") == "http" and not value.lower().startswith(str(scheme.get("scheme", "")).lower()):
            value = f"{str(scheme.get('scheme', 'bearer')).capitalize()} {value}"
        location = scheme.get("in", "header")
        if scheme.get("type") == "http":
            headers["Authorization"] = value
        elif location == "query":
            query.append(f"{quote(scheme['name'], safe='')}={quote(value, safe='')}")
        elif location == "cookie":
            cookies.append(f"{scheme['name']}={quote(value, safe='')}")
        else:
            headers[scheme.get("name", name)] = value
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    return headers, query


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Client settings from the environment: ``ODM_*`` first, then the ``PRED_SPOT_*`` names."""
    host = environ.get("ODM_HOST") or environ.get("PRED_SPOT_HOST")
    if host:
        host = with_scheme(host, environ.get("PRED_SPOT_SCHEME"))
    settings: dict[str, Any] = {"host": host}
    settings["token"] = environ.get("ODM_API_TOKEN") or environ.get("PRED_SPOT_TOKEN")
    settings["access_token"] = environ.get("ODM_ACCESS_TOKEN") or environ.get("PRED_SPOT_ACCESS_TOKEN")
    settings["spec"] = spec_source(None, environ)  # ODM_SPEC
    return {k: v for k, v in settings.items() if v}


def spec_fetch_options(
    *,
    token: str | None = None,
    access_token: str | None = None,
    spec_auth: bool = False,
    refresh: bool = False,
    **_: Any,
) -> FetchOptions | None:
    """How a spec given by URL is read: the tokens go to the spec's host only with ``spec_auth``."""
    if not spec_auth and not refresh:
        return None
    headers: dict[str, str] = {}
    if spec_auth and token:
        headers["Genestack-API-Token"] = token
    if spec_auth and access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    for name, value in headers.items():
        check_header_text(name, value, "spec fetch")  # before the value could reach an error message
    from ..spec.fetch import FetchOptions  # a spec read over HTTP only: a warm start never imports the fetcher

    return FetchOptions(refresh=refresh, headers=headers)
