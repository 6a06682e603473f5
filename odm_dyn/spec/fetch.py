"""Spec documents by URL: fetched within limits, cached like a browser, used offline.

Every URL a load reads (the documents and the files their ``$ref``s name) goes through one
``Fetcher``, which holds the rules:

- only ``http`` and ``https``; every URL, redirects included, on the origin (scheme, host,
  port) of the first document, so a spec can never make the loader read another host;
- a size limit per file, a timeout per request and for the whole load, a limit on the number
  of files; TLS certificates are verified;
- the caller's headers (a token, with ``spec_auth``) go only to that origin;
- each fetched file is kept in the HTTP cache with its ``ETag`` and ``Last-Modified``; the next
  load revalidates it with a conditional GET, and a 304 answer reuses the cached bytes (so the
  bundled, checked document is found by content, as for files);
- when the server cannot be reached (or answers 5xx), the cached copy is used, and one warning
  per load names its age; with nothing cached, a ``SpecError`` says so.

Layer: ``spec``; imports ``errors`` only (and requests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urljoin

from ..errors import SpecError
from .cache import cache_dir
from .urls import check_url, has_scheme, is_url, join_url, origin_of  # noqa: F401 - named here before spec.urls

log = logging.getLogger("odm_dyn.spec")

_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Limits:
    """What one spec load may cost; a spec server past these is refused, not waited on."""

    max_bytes: int = 32 * 2**20  # per file (the merged ODM spec is about 1 MB)
    max_files: int = 2000  # per load (the ODM per-area files and schemas are about 110)
    timeout: float = 30.0  # per request, to connect and between bytes
    total_seconds: float = 300.0  # the whole load
    max_redirects: int = 5


DEFAULT_LIMITS = Limits()


@dataclass
class FetchOptions:
    """How a load reads URLs: ``refresh`` skips revalidation, ``headers`` go to the spec's origin."""

    refresh: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    limits: Limits | None = None  # None: DEFAULT_LIMITS as it is when the load starts


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} seconds"
    if seconds < 7200:
        return f"{int(seconds // 60)} minutes"
    if seconds < 172800:
        return f"{int(seconds // 3600)} hours"
    return f"{int(seconds // 86400)} days"


# --------------------------------------------------------------------------- the HTTP cache


def _entry_files(url: str) -> tuple[Path, Path]:
    key = hashlib.sha256(url.encode()).hexdigest()[:40]
    folder = cache_dir() / "http"
    return folder / f"{key}.json", folder / f"{key}.body"


@dataclass
class CachedFile:
    url: str
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched: float  # when the server last gave or confirmed these bytes (epoch seconds)


def read_cached(url: str) -> CachedFile | None:
    meta_file, body_file = _entry_files(url)
    try:
        meta = json.loads(meta_file.read_text())
        body = body_file.read_bytes()
        if meta.get("url") != url or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        return CachedFile(url, body, meta.get("etag"), meta.get("last_modified"), float(meta["fetched"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cached(entry: CachedFile) -> None:
    meta_file, body_file = _entry_files(entry.url)
    meta = {
        "url": entry.url,
        "etag": entry.etag,
        "last_modified": entry.last_modified,
        "fetched": entry.fetched,
        "sha256": hashlib.sha256(entry.body).hexdigest(),
    }
    try:
        meta_file.parent.mkdir(parents=True, exist_ok=True)
        for target, data in ((body_file, entry.body), (meta_file, json.dumps(meta).encode())):
            temporary = target.with_suffix(f"{target.suffix}.{os.getpid()}.{threading.get_ident()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, target)
    except OSError:
        pass  # a read-only cache only costs the next load a full fetch


# --------------------------------------------------------------------------- fetching


class Fetcher:
    """Reads the URLs of one load, under its rules (see the module docstring)."""

    def __init__(self, options: FetchOptions | None = None):
        self.options = options or FetchOptions()
        self.limits = self.options.limits or DEFAULT_LIMITS
        self.origin: tuple[str, str, int] | None = None
        self.count = 0
        self.started = time.monotonic()
        self.unreachable: str | None = None  # why the server could not be reached, once it could not
        self.oldest_used: float | None = None  # fetch time of the oldest cached copy used offline
        self._session: Any = None

    def get(self, url: str) -> bytes:
        check_url(url)
        self._check_origin(url, url)
        self.count += 1
        if self.count > self.limits.max_files:
            raise SpecError(f"the spec needs more than {self.limits.max_files} files; refused", file=url)
        cached = read_cached(url)
        if self.unreachable is None:
            try:
                return self._fetch(url, cached)
            except _Unreachable as why:
                self.unreachable = str(why)
        if cached is None:
            raise SpecError(f"cannot fetch the spec ({self.unreachable}) and no copy of it is cached", file=url)
        self.oldest_used = min(self.oldest_used or cached.fetched, cached.fetched)
        return cached.body

    def warn_if_offline(self) -> None:
        """One warning for the load, when it used cached copies the server could not confirm."""
        if self.oldest_used is not None:
            age = _age(max(0.0, time.time() - self.oldest_used))
            where = "{}://{}:{}".format(*self.origin) if self.origin else "the spec server"
            log.warning(
                "cannot reach %s (%s); using the cached copy of its spec, fetched %s ago",
                where,
                self.unreachable,
                age,
            )

    def _check_origin(self, url: str, referrer: str) -> None:
        origin = origin_of(url)
        if self.origin is None:
            self.origin = origin
        elif origin != self.origin:
            raise SpecError(
                f"{url} is on another origin than the spec ({'{}://{}:{}'.format(*self.origin)}); refused",
                file=referrer,
            )

    def _fetch(self, url: str, cached: CachedFile | None) -> bytes:
        headers = dict(self.options.headers)
        if cached is not None and not self.options.refresh:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response, final = self._follow(url, headers)
        with response:
            if response.status_code == 304 and cached is not None:
                cached.fetched = time.time()
                write_cached(cached)
                return cached.body
            if response.status_code >= 500:
                raise _Unreachable(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise SpecError(f"the spec server answered HTTP {response.status_code}", file=final)
            body = self._read_body(response, final)
        entry = CachedFile(url, body, response.headers.get("ETag"), response.headers.get("Last-Modified"), time.time())
        write_cached(entry)
        return body

    def _follow(self, url: str, headers: dict[str, str]) -> tuple[Any, str]:
        """GET, following redirects by hand: each must stay on the spec's origin."""
        for _ in range(self.limits.max_redirects + 1):
            response = self._request(url, headers)
            if response.status_code not in _REDIRECTS:
                return response, url
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise SpecError(f"HTTP {response.status_code} without a Location", file=url)
            target = urljoin(url, location)
            check_url(target)
            self._check_origin(target, url)
            url = target
        raise SpecError(f"more than {self.limits.max_redirects} redirects; refused", file=url)

    def _request(self, url: str, headers: dict[str, str]) -> Any:
        import requests

        remaining = self.limits.total_seconds - (time.monotonic() - self.started)
        if remaining <= 0:
            raise SpecError(f"loading the spec took more than {self.limits.total_seconds:g} s; stopped", file=url)
        if self._session is None:
            self._session = requests.Session()  # the environment's proxies and CA bundle apply, as for calls
        try:
            return self._session.get(
                url,
                headers=headers,
                timeout=min(self.limits.timeout, remaining),
                allow_redirects=False,
                stream=True,
                verify=True,
            )
        except requests.exceptions.SSLError as error:
            raise SpecError(f"TLS verification failed: {error}", file=url) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise _Unreachable(_reason(error)) from None
        except requests.exceptions.RequestException as error:
            raise SpecError(f"cannot fetch the spec: {error}", file=url) from None

    def _read_body(self, response: Any, url: str) -> bytes:
        import requests

        limit = self.limits.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise SpecError(f"the spec file is larger than the limit of {limit} bytes; refused", file=url)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > limit:
                    raise SpecError(f"the spec file is larger than the limit of {limit} bytes; refused", file=url)
                chunks.append(chunk)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise _Unreachable(_reason(error)) from None
        return b"".join(chunks)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class _Unreachable(Exception):
    """The spec server could not be reached: the cached copy may stand in."""


def _reason(error: Exception) -> str:
    import requests

    if isinstance(error, requests.exceptions.Timeout):
        return "no answer in time"
    return "connection failed"
