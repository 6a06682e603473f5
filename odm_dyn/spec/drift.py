"""Drift: a spec loaded from a URL that differs from the last one loaded from it says how.

The operations' fingerprints of the last document bundled from each URL are kept in the
cache; a document bundled anew from that URL is compared with them, and one log line counts
the operations added, removed and changed. The first load of a URL has nothing to compare.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from typing import Any

from .cache import cache_dir
from .changes import fingerprint_changes, operation_fingerprints
from .document import Document

log = logging.getLogger("odm_dyn.spec")


def note_drift(url: str, data: dict[str, Any]) -> None:
    """Log how the operations of ``url``'s document changed since its last load; remember them."""
    target = cache_dir() / "http" / f"ops-{hashlib.sha256(url.encode()).hexdigest()[:40]}.json"
    now = operation_fingerprints([Document(path=url, data=data)])
    try:
        before = json.loads(target.read_text())
    except (OSError, ValueError):
        before = None
    if isinstance(before, dict) and before != now:
        added, removed, changed = fingerprint_changes(before, now)
        log.warning(
            "the spec at %s changed since it was last loaded: %d operations added, %d removed, %d changed "
            "(odm-dyn spec diff shows how)",
            url,
            len(added),
            len(removed),
            len(changed),
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(now))
        os.replace(temporary, target)
    except OSError:
        pass
