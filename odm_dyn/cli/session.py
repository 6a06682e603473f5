"""The client a command calls with: settings from the flags, then the environment.

Credentials go as a set: when a token flag is given, no token is taken from the environment.

Layer: cli; imports ``client`` lazily.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from ..spec.read import spec_source
from .output import UsageError

if TYPE_CHECKING:
    from ..api.plans import Api


def make_client(api: Api, options: dict[str, Any]) -> Any:
    """A client of the Api the command was parsed with (its spec source, so both agree)."""
    from ..client.classes import client_class

    return client_class(api)(**options)


def client_options(ns: argparse.Namespace) -> dict[str, Any]:
    """The client's keyword arguments from the flags and the environment (tokens read once)."""
    options: dict[str, Any] = {"spec": spec_source(ns.spec)}
    options.update(connection_settings(ns, os.environ))
    if ns.request_timeout is not None:
        options["timeout"] = ns.request_timeout
    if ns.retries is not None:
        options["retries"] = ns.retries
    if ns.no_validate:
        options["validate_requests"] = options["validate_responses"] = "off"
    return options


def connection_settings(ns: argparse.Namespace, environ: Any) -> dict[str, Any]:
    """Flags, then the environment: host by itself, the tokens as one set."""
    from ..client.credentials import settings_from_env

    env = settings_from_env(environ)
    token, access_token = read_tokens(ns.token, ns.access_token)
    settings: dict[str, Any] = {"host": ns.host or env.get("host")}
    if token or access_token:
        settings.update(token=token, access_token=access_token)
    else:
        settings.update(token=env.get("token"), access_token=env.get("access_token"))
    return {key: value for key, value in settings.items() if value}


def read_tokens(token: str | None, access_token: str | None) -> tuple[str | None, str | None]:
    """``-`` reads a token from stdin (a pipe, or typed without echo), so it stays out of shell
    history and ``ps``."""
    if token == "-" and access_token == "-":
        raise UsageError("only one of --token and --access-token can be read from stdin")
    if "-" not in (token, access_token):
        return token, access_token
    if sys.stdin.isatty():  # typed by hand: prompt, and do not echo it
        import getpass

        secret = getpass.getpass("odm-dyn: token: ").strip()
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise UsageError("no token on standard input")
    return (secret, access_token) if token == "-" else (token, secret)
