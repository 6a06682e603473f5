"""Loading a spec source: read, bundle, check, cache, in that order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError
from .bundle import _Bundler
from .cache import _read_cache, _sha, _write_cache
from .check import _check_operation_ids, check_document
from .document import TASKS_SPEC, Document, SpecSource
from .read import parse_text, spec_files

# --------------------------------------------------------------------------- loading


def load_document(path: Path, *, use_cache: bool = True) -> Document:
    """Read, bundle and check one document (from the cache when nothing changed)."""
    return _finish(_bundle_or_cached(path, use_cache), use_cache)


def load_documents(source: SpecSource = TASKS_SPEC, *, use_cache: bool = True) -> list[Document]:
    """Load every document a source names; operationIds must be unique across them.

    Duplicate operationIds are looked for before the (slow) document checks, so a wrong
    combination of files fails at once.
    """
    pending = [_bundle_or_cached(path, use_cache) for path in spec_files(source)]
    _check_operation_ids([item.document for item in pending])
    return [_finish(item, use_cache) for item in pending]


@dataclass
class _Pending:
    """A bundled document, and what its check (if it still needs one) and cache entry need."""

    document: Document
    root_text: bytes
    origins: dict[str, tuple[str, str]] | None  # None: came from the cache, already checked


def _bundle_or_cached(path: Path, use_cache: bool) -> _Pending:
    try:
        root_text = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if use_cache:
        cached = _read_cache(path, root_text)
        if cached is not None:
            return _Pending(cached, root_text, None)
    bundler = _Bundler(path)
    bundler.texts[str(path)] = root_text
    bundler.docs[str(path)] = parse_text(root_text, str(path))
    data = bundler.bundle()
    files = {file: _sha(text) for file, text in bundler.texts.items()}
    return _Pending(Document(path=str(path), data=data, files=files), root_text, bundler.origins)


def _finish(item: _Pending, use_cache: bool) -> Document:
    if item.origins is not None:
        check_document(item.document.data, item.document.path, item.origins)
        if use_cache:
            _write_cache(Path(item.document.path), item.root_text, item.document)
    return item.document
