"""Loading a spec source: read, bundle, check, cache, in that order.

Every document and ``$ref``'d file is read through one ``DocumentSource`` per load, so files
and URLs take the same path; a document read from a URL and bundled anew (its content
changed) is compared with the last one loaded from that URL, and the drift is logged.
"""

from __future__ import annotations

import contextlib
import gc
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import SpecError
from .cache import _read_cache, _sha, _write_cache
from .document import TASKS_SPEC, Document, SpecSource
from .pointers import pointer_of
from .read import spec_names
from .source import DocumentSource
from .urls import is_url

if TYPE_CHECKING:
    from .fetch import FetchOptions

# --------------------------------------------------------------------------- loading


def load_document(path: Path | str, *, use_cache: bool = True, fetch: FetchOptions | None = None) -> Document:
    """Read, bundle and check one document (from the cache when nothing changed)."""
    return load_documents([path], use_cache=use_cache, fetch=fetch)[0]


def load_documents(
    source: SpecSource = TASKS_SPEC,
    *,
    use_cache: bool = True,
    fetch: FetchOptions | None = None,
    cache_after_compile: bool = False,
) -> list[Document]:
    """Load every document a source names; operationIds must be unique across them.

    Duplicate operationIds are looked for before the (slow) document checks, so a wrong
    combination of files fails at once. ``fetch`` says how URLs are read (refresh, headers).
    With ``cache_after_compile`` (the Api's load), a document whose entry does not yet say an
    Api compiled from it is cached by ``spec.cache.save_compiled`` once one has, not here.
    """
    with without_cyclic_gc():
        reader = DocumentSource(fetch)
        try:
            pending = [_bundle_or_cached(name, reader, use_cache) for name in spec_names(source)]
        finally:
            reader.finish()
        _check_operation_ids_unique([item.document for item in pending])
        return [_finish(item, use_cache, cache_after_compile) for item in pending]


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while a spec is loaded (then as before).

    A load allocates millions of containers and frees almost none, so the collector's full
    passes (each one over every object alive, and triggered by allocation counts) made a large
    spec's load grow faster than its size. Nothing a load makes is garbage in a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Pending:  # a plain class: ``dataclasses`` is not imported on a client's start
    """A bundled document, and what its check (if it still needs one) and cache entry need."""

    __slots__ = ("document", "started_ns", "origins")

    def __init__(self, document: Document, started_ns: int, origins: dict[str, tuple[str, str]] | None) -> None:
        self.document = document
        self.started_ns = started_ns  # when the load began reading its files (what the cache's stamps are judged by)
        self.origins = origins  # None: came from the cache, already checked


def _bundle_or_cached(name: str, reader: DocumentSource, use_cache: bool) -> _Pending:
    started_ns = time.time_ns()
    if use_cache:
        cached = _read_cache(name, reader.read)  # the entry, and only changed files (or URLs) read
        if cached is not None:
            return _Pending(cached, started_ns, None)
    # The first load's modules (bundling, the OpenAPI check and its screen), imported only
    # when a document is not in the cache: a warm start never needs them.
    from .bundle import _Bundler
    from .read import parse_text

    root_text = reader.read(name)
    bundler = _Bundler(name, reader)
    bundler.texts[name] = root_text
    bundler.docs[name] = parse_text(root_text, name)
    data = bundler.bundle()
    files = {file: _sha(text) for file, text in bundler.texts.items()}
    return _Pending(Document(path=name, data=data, files=files), started_ns, bundler.origins)


def _finish(item: _Pending, use_cache: bool, cache_after_compile: bool) -> Document:
    document = item.document
    if use_cache and cache_after_compile and not document.compiled:
        document.cache_pending_ns = item.started_ns  # fresh, or an entry a spec-only load wrote
    if item.origins is not None:
        from .check import check_document  # a fresh bundle only (see _bundle_or_cached)

        check_document(document.data, document.path, item.origins)
        if use_cache and not cache_after_compile:
            _write_cache(document, item.started_ns)
        if is_url(item.document.path):
            from .drift import note_drift  # only a URL's fresh load: the differ stays out of a cached start

            note_drift(item.document.path, item.document.data)
    return item.document


def _check_operation_ids_unique(documents: list[Document]) -> None:
    """operationIds are unique across all the documents of one load (cached or not)."""
    seen: dict[str, str] = {}
    for document in documents:
        for path, item in (document.data.get("paths") or {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                op_id = operation["operationId"]
                pointer = pointer_of(["paths", path, method, "operationId"])
                if op_id in seen:
                    raise SpecError(
                        f"duplicate operationId {op_id!r} (also in {seen[op_id]})",
                        file=document.path,
                        pointer=pointer,
                    )
                seen[op_id] = f"{document.path}#{pointer}"
