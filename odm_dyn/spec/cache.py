"""The on-disk cache of bundled, checked documents, keyed by the content of every file read."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from .document import CACHE_FORMAT, Document

# --------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """Where users expect caches: ``$ODM_DYN_CACHE_DIR``, else the platform's cache folder."""
    override = os.environ.get("ODM_DYN_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "odm_dyn"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "odm_dyn" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "odm_dyn"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_file(name: str) -> bytes:
    with open(name, "rb") as handle:
        return handle.read()


# A file changed this recently may change again within its timestamp's resolution unseen: its
# stamp is trusted only when it is older than this before the load that read the file began.
RACY_NS = 2_000_000_000


def _cache_file(root: Path | str) -> Path:
    """The entry of the document at ``root``: one per document, found without reading the document."""
    key = _sha(f"{CACHE_FORMAT}\0{root}".encode())
    return cache_dir() / f"spec-{key[:40]}.json"


def _stamp(file: str) -> list[int] | None:
    """What changes whenever a file's content does: size, modification and change times, inode."""
    try:
        stat = os.stat(file)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _read_cache(root: Path | str, read: Callable[[str], bytes] = _read_file) -> Document | None:
    """The cached document, if every file it was made from is unchanged; else ``None``.

    A warm load reads one file, the entry: a local file whose stamp (:func:`_stamp`) is the one
    recorded, and was not racy then, is taken as unchanged without reading it; any other file
    (a stamp that moved, a URL: a 304 costs one small request) is read through ``read`` and its
    content compared with the digest recorded."""
    try:
        with open(_cache_file(root), "rb") as handle:
            entry = json.loads(handle.read())
        if entry.get("format") != CACHE_FORMAT or entry.get("path") != str(root):
            return None
        started_ns, stamps, compared = time.time_ns(), entry["stamps"], []
        for file, digest in entry["files"].items():
            stamp = stamps.get(file)
            if stamp is not None and _stamp(file) == stamp:
                continue  # unchanged since a load that read it long enough after it was written
            if _sha(read(file)) != digest:
                return None
            compared.append(file)
        compiled = entry.get("compiled") is True
        document = Document(str(root), entry["data"], entry["files"], from_cache=True, compiled=compiled)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no cache, or a corrupt one: load from the files (a missing file says so there)
    if _trusted_stamps(compared, started_ns):
        _write_cache(document, started_ns)  # a file edited just before the last load: stamped now, once
    return document


def _write_cache(document: Document, started_ns: int) -> None:
    """Write the entry of a freshly loaded document whose files were read from ``started_ns`` on.

    A file modified less than ``RACY_NS`` before that gets no stamp (its content is compared on
    every warm load): a change within its timestamp's resolution would leave the stamp as it was.
    """
    target = _cache_file(document.path)
    entry = {
        "format": CACHE_FORMAT,
        "path": document.path,
        "files": document.files,
        "stamps": _trusted_stamps(document.files, started_ns),
        "compiled": document.compiled,
        "data": document.data,
    }
    _write_entry(target, entry)


def _write_entry(target: Path, entry: dict[str, Any]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry, separators=(",", ":")))
        os.replace(temporary, target)
    except OSError:
        pass  # a read-only home is no reason to fail: the cache only saves time


def save_compiled(document: Document) -> None:
    """Write the entry of a document an Api has just compiled from (every schema compiled), so a
    later load may compile its schemas on first use; a document whose load asked for no entry,
    or whose entry says so already, is left alone. Written after the compile, never before: a
    spec whose schemas do not compile leaves no entry that could pass for one that did."""
    started_ns = document.cache_pending_ns
    if started_ns is None:
        return
    document.compiled, document.cache_pending_ns = True, None
    _write_cache(document, started_ns)


def _trusted_stamps(files: Iterable[str], started_ns: int) -> dict[str, list[int]]:
    stamps = {}
    for file in files:
        stamp = None if "://" in file else _stamp(file)
        # Modified long enough before the load, and not touched at all since it began (a content
        # change after the read moves the mtime; a utime put back moves the ctime).
        if stamp is not None and stamp[1] < started_ns - RACY_NS and stamp[2] < started_ns:
            stamps[file] = stamp
    return stamps
