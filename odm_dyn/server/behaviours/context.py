"""What every behaviour shares: the store, the task clock, the import folder, and Prefer."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..store import Store, accession_of, now_ms

_PREFER_STATUS = re.compile(r"(?:^|[\s,;])task-status\s*=\s*\"?([A-Za-z_]+)", re.IGNORECASE)
ENDINGS = ("FAILED", "KILLED")


@dataclass
class Context:
    store: Store
    task_seconds: float = 5.0
    import_root: Path | None = None
    # While a due publication is applied, readers wait for it: nobody reads half a version.
    _publishing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def duration_ms(self) -> int:
        return int(self.task_seconds * 1000)

    def now(self) -> int:
        """The time, after every publication whose task has finished by it is applied."""
        now = now_ms()
        objects = self.store.objects
        if not objects.pending:
            return now
        from .graph import reachable

        with self._publishing:
            for task_seq, scope, message, author, due_ms in objects.due_publications(now):
                task = self.store.task(accession_of(task_seq))
                if task is not None and task.outcome == "DONE":
                    wanted = None if scope is None else reachable(objects, scope, due_ms)
                    objects.publish(wanted, message, author, due_ms)
                objects.mark_applied(task_seq)
        return now


def preferred_ending(prefer: str) -> str | None:
    """``Prefer: task-status=FAILED`` (or KILLED): how the task or job started should end."""
    found = _PREFER_STATUS.search(prefer or "")
    if found and found.group(1).upper() in ENDINGS:
        return found.group(1).upper()
    return None


def bad_ending(prefer: str) -> str | None:
    """A task-status preference the server cannot honour, named; ``None`` when there is none."""
    found = _PREFER_STATUS.search(prefer or "")
    if found and found.group(1).upper() not in ENDINGS:
        return f"Prefer: task-status={found.group(1)} is not understood; use FAILED or KILLED"
    return None
