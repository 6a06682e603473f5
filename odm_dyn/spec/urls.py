"""Spec names that are URLs: what counts as one, which are read, how a ``$ref`` joins one.

Apart from :mod:`odm_dyn.spec.fetch` (which reads them), so that loading a spec from files,
or from the cache, never imports the fetcher and its dependencies (``logging``, ``threading``).

Layer: ``spec``; imports ``errors`` only.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from ..errors import SpecError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # a file name may hold a colon


def has_scheme(name: str) -> bool:
    """Whether a spec name is a URL of some scheme (``scheme://``; a drive letter is not one)."""
    return bool(_SCHEME.match(name)) and not re.match(r"^[A-Za-z]:", name)


def is_url(name: str) -> bool:
    return name.lower().startswith(("http://", "https://"))


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host; else a ``SpecError`` saying why not."""
    if not is_url(url):
        scheme = url.split(":", 1)[0]
        raise SpecError(f"only http and https spec URLs are read, not {scheme}:", file=url)
    parts = urlsplit(url)
    if not parts.hostname:
        raise SpecError("the spec URL names no host", file=url)
    if parts.username is not None or parts.password is not None:
        # Error messages and logs name spec URLs: a secret in one would be shown.
        bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        raise SpecError("a spec URL must not carry credentials; give the token and --spec-auth instead", file=bare)
    return url


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def join_url(base: str, ref: str) -> str:
    """A ``$ref``'s file part, against the URL of the document that holds it."""
    return urljoin(base, ref)
