"""The on-disk cache of bundled, checked documents, keyed by the content of every file read."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Callable

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


def _cache_file(root: Path | str, root_text: bytes) -> Path:
    key = _sha(f"{CACHE_FORMAT}\0{root}\0".encode() + root_text)
    return cache_dir() / f"spec-{key[:40]}.json"


def _read_cache(root: Path | str, root_text: bytes, read: Callable[[str], bytes] = _read_file) -> Document | None:
    """The cached document, if every file it was made from is unchanged; else ``None``.

    ``read`` reads the other files (a URL revalidates: a 304 costs one small request)."""
    try:
        with open(_cache_file(root, root_text), "rb") as handle:
            entry = json.loads(handle.read())
        if entry.get("format") != CACHE_FORMAT or entry.get("path") != str(root):
            return None
        for file, digest in entry["files"].items():
            text = root_text if file == str(root) else read(file)
            if _sha(text) != digest:
                return None
        return Document(path=str(root), data=entry["data"], files=entry["files"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no cache, or a corrupt one: load from the files


def _write_cache(root: Path | str, root_text: bytes, document: Document) -> None:
    target = _cache_file(root, root_text)
    entry = {"format": CACHE_FORMAT, "path": document.path, "files": document.files, "data": document.data}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry, separators=(",", ":")))
        os.replace(temporary, target)
    except OSError:
        pass  # a read-only home is no reason to fail: the cache only saves time
