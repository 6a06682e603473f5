"""The spec files the server was started with, served as ODM serves its own: ``/swagger/yaml/``.

Each file a loaded document was read from (the documents and every file their ``$ref``s
named, the schemas too) is served at ``/swagger/yaml/`` + its path relative to the first
document's folder, so a client can load the server's spec by URL with its relative ``$ref``s
(``Client(server.url, spec=f"{server.url}/swagger/yaml/odmApi.yaml")``). Only those files:
the name in the request is looked up, never joined to a folder, so no path reaches any other
file. The file is read when asked for, so an edited spec is served as it is now; its
``ETag`` is a hash of its content, and a matching ``If-None-Match`` gets a 304. No token is
needed (ODM's own spec pages are public).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from ..spec.document import Document
from ..spec.urls import has_scheme

SPEC_PREFIX = "/swagger/yaml/"
_MEDIA = {".json": "application/json", ".yaml": "application/yaml", ".yml": "application/yaml"}


class SpecFiles:
    """The served spec files by their path under ``SPEC_PREFIX``."""

    def __init__(self, documents: Iterable[Document]):
        documents = [d for d in documents if not has_scheme(d.path)]
        self.files: dict[str, Path] = {}
        if not documents:
            return
        base = Path(documents[0].path).parent
        for document in documents:
            for name in document.files:
                path = Path(name)
                try:
                    relative = path.relative_to(base)
                except ValueError:
                    continue  # outside the first document's folder: it has no URL under the prefix
                self.files[relative.as_posix()] = path

    def url_paths(self) -> list[str]:
        return [SPEC_PREFIX + name for name in self.files]

    def answer(self, method: str, path: str, if_none_match: str | None) -> tuple[int, object, str, tuple]:
        """``(status, body, media type, headers)`` for a request under ``SPEC_PREFIX``."""
        file = self.files.get(unquote(path[len(SPEC_PREFIX) :]))
        if file is None:
            return 404, {"message": f"no spec file at {path}"}, "application/json", ()
        if method not in ("GET", "HEAD"):
            return (
                405,
                {"message": f"{method} is not allowed for spec files"},
                "application/json",
                (("Allow", "GET, HEAD"),),
            )
        try:
            content = file.read_bytes()
        except OSError:
            return 404, {"message": f"no spec file at {path}"}, "application/json", ()
        etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
        headers = (("ETag", etag), ("Cache-Control", "no-cache"))
        if _matches(if_none_match, etag):
            return 304, None, "application/json", headers
        media = _MEDIA.get(os.path.splitext(file.name)[1].lower(), "application/octet-stream")
        return 200, b"" if method == "HEAD" else content, media, headers


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags
