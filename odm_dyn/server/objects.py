"""ODM's objects in SQLite: metadata with a curator's draft and published versions, links, jobs.

Invariants: ``draft`` is what as-curator paths read, ``published`` (``NULL`` until a first
version) what as-user paths read; every published state is also a row of ``versions``. An
object made by an import is hidden (``visible_ms`` in the future or ``NULL``) until its job
completes by the task clock, so a stopped job's objects never appear. Links are stored once,
in the direction the link endpoint names them, and read in both.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any, Iterable

OBJECT_PREFIX = "GSF"
FIRST_OBJECT = 1_000_000  # object accessions never look like a task's (GSF000042)

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    accession TEXT UNIQUE,
    kind TEXT NOT NULL,
    grp TEXT,
    job INTEGER,
    visible_ms INTEGER,
    draft TEXT NOT NULL,
    published TEXT,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS objects_kind ON objects(kind, seq);
CREATE INDEX IF NOT EXISTS objects_grp ON objects(grp);
CREATE TABLE IF NOT EXISTS versions (
    accession TEXT NOT NULL,
    version INTEGER NOT NULL,
    message TEXT NOT NULL,
    author TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (accession, version)
);
CREATE TABLE IF NOT EXISTS links (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (source, target)
);
CREATE INDEX IF NOT EXISTS links_target ON links(target);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    started_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '{}',
    errors TEXT NOT NULL DEFAULT '[]',
    stopped_ms INTEGER,
    request TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS publications (
    task_seq INTEGER PRIMARY KEY,
    scope TEXT,
    message TEXT NOT NULL,
    author TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS scim (
    id TEXT PRIMARY KEY,
    resource TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (resource, name)
);
"""


@dataclass(frozen=True)
class Obj:
    accession: str
    kind: str
    group: str | None
    draft: dict[str, Any]
    published: dict[str, Any] | None
    version: int


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    kind: str
    started_by: str
    created_ms: int
    duration_ms: int
    outcome: str
    result: dict[str, Any]
    errors: list[Any]
    stopped_ms: int | None
    request: dict[str, Any]


_OBJ = "accession, kind, grp, draft, published, version"
_JOB = "id, name, kind, started_by, created_ms, duration_ms, outcome, result, errors, stopped_ms, request"


def _obj(row: tuple) -> Obj:
    return Obj(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]) if row[4] else None, row[5])


def _job(row: tuple) -> Job:
    id_, name, kind, started_by, created_ms, duration_ms, outcome, result, errors, stopped_ms, request = row
    return Job(
        id_,
        name,
        kind,
        started_by,
        created_ms,
        duration_ms,
        outcome,
        json.loads(result),
        json.loads(errors),
        stopped_ms,
        json.loads(request),
    )


class _Links:
    """Links between objects, stored once in the direction they were made, read in both."""

    _db: sqlite3.Connection
    _lock: threading.Lock

    def link(self, source: str, target: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO links VALUES (?, ?)", (source, target))

    def unlink(self, source: str, target: str) -> bool:
        with self._lock, self._db:
            gone = self._db.execute(
                "DELETE FROM links WHERE (source = ? AND target = ?) OR (source = ? AND target = ?)",
                (source, target, target, source),
            ).rowcount
        return bool(gone)

    def linked(self, accession: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT target FROM links WHERE source = ? UNION SELECT source FROM links WHERE target = ?",
                (accession, accession),
            ).fetchall()
        return [r[0] for r in rows]


class _Jobs:
    """Import jobs: who started them, their clock, and how they ended."""

    _db: sqlite3.Connection
    _lock: threading.Lock

    def create_job(self, name: str, kind: str, user: str, created: int, duration: int, request: dict[str, Any]) -> int:
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO jobs(name, kind, started_by, created_ms, duration_ms, outcome, request) "
                "VALUES (?, ?, ?, ?, ?, 'RUNNING', ?)",
                (name, kind, user, created, duration, json.dumps(request)),
            )
        return int(cursor.lastrowid or 0)

    def finish_job(self, job: int, outcome: str, result: dict[str, Any], errors: list[Any]) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE jobs SET outcome = ?, result = ?, errors = ? WHERE id = ?",
                (outcome, json.dumps(result), json.dumps(errors), job),
            )

    def job(self, job: int) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_JOB} FROM jobs WHERE id = ?", (job,)).fetchone()
        return _job(row) if row else None

    def set_job_clock(self, job: int, created_ms: int, stopped_ms: int | None) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE jobs SET created_ms = ?, stopped_ms = ? WHERE id = ?", (created_ms, stopped_ms, job)
            )


class _Publications:
    """Publications waiting for their task to finish; their count kept in memory."""

    _db: sqlite3.Connection
    _lock: threading.Lock
    _pending: int

    def add_publication(self, task_seq: int, scope: str | None, message: str, author: str, due_ms: int) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO publications(task_seq, scope, message, author, due_ms) VALUES (?, ?, ?, ?, ?)",
                (task_seq, scope, message, author, due_ms),
            )
            self._pending += 1

    @property
    def pending(self) -> int:
        """How many publications wait for their task (read without a query on every request)."""
        return self._pending

    def due_publications(self, now: int) -> list[tuple[int, str | None, str, str, int]]:
        """Publications whose task's time has come and that are not applied yet."""
        with self._lock:
            return self._db.execute(
                "SELECT task_seq, scope, message, author, due_ms FROM publications "
                "WHERE applied = 0 AND due_ms <= ? ORDER BY due_ms",
                (now,),
            ).fetchall()

    def mark_applied(self, task_seq: int) -> None:
        with self._lock, self._db:
            if self._db.execute("UPDATE publications SET applied = 1 WHERE task_seq = ?", (task_seq,)).rowcount:
                self._pending -= 1


class _Scim:
    """SCIM users and groups, as the bodies they were stored with."""

    _db: sqlite3.Connection
    _lock: threading.Lock

    def scim_put(self, resource: str, id_: str, name: str, body: dict[str, Any], *, new: bool) -> bool:
        """Store a SCIM resource; ``False`` when its name is taken by another."""
        try:
            with self._lock, self._db:
                if new:
                    self._db.execute("INSERT INTO scim VALUES (?, ?, ?, ?)", (id_, resource, name, json.dumps(body)))
                else:
                    self._db.execute("UPDATE scim SET name = ?, body = ? WHERE id = ?", (name, json.dumps(body), id_))
        except sqlite3.IntegrityError:
            return False
        return True

    def scim_get(self, resource: str, id_: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM scim WHERE resource = ? AND id = ?", (resource, id_)).fetchone()
        return json.loads(row[0]) if row else None

    def scim_all(self, resource: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM scim WHERE resource = ? ORDER BY rowid", (resource,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def scim_delete(self, resource: str, id_: str) -> bool:
        with self._lock, self._db:
            return bool(self._db.execute("DELETE FROM scim WHERE resource = ? AND id = ?", (resource, id_)).rowcount)


class ObjectStore(_Links, _Jobs, _Publications, _Scim):
    """Objects, versions, links, jobs, pending publications and SCIM resources; thread-safe.

    One connection and one lock; each concern of the tables is a class of its own mixed in here."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock):
        self._db, self._lock = db, lock
        with lock, db:
            db.executescript(SCHEMA)
            if db.execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 0:
                db.execute("INSERT OR IGNORE INTO sqlite_sequence(name, seq) VALUES ('objects', ?)", (FIRST_OBJECT,))
            self._pending = db.execute("SELECT COUNT(*) FROM publications WHERE applied = 0").fetchone()[0]

    # ------------------------------------------------------------------ objects

    def create(
        self,
        kind: str,
        metadata: dict[str, Any],
        *,
        group: str | None = None,
        job: int | None = None,
        visible_ms: int | None = 0,
        author: str = "odm-dyn",
        message: str = "Imported",
        now: int = 0,
        accession: str | None = None,
    ) -> str:
        """A new object, published as version 1; its accession."""
        text = json.dumps(metadata, sort_keys=True)
        with self._lock, self._db:
            seq = self._db.execute(
                "INSERT INTO objects(accession, kind, grp, job, visible_ms, draft, published, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (accession, kind, group, job, visible_ms, text, text),
            ).lastrowid
            accession = accession or f"{OBJECT_PREFIX}{seq}"
            self._db.execute("UPDATE objects SET accession = ? WHERE seq = ?", (accession, seq))
            self._db.execute("INSERT INTO versions VALUES (?, 1, ?, ?, ?, ?)", (accession, message, author, now, text))
        return accession

    def exists(self, accession: str) -> bool:
        """Whether any object (visible or not yet) holds this accession: accessions are unique."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM objects WHERE accession = ?", (accession,)).fetchone() is not None

    def get(self, accession: str, now: int) -> Obj | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_OBJ} FROM objects WHERE accession = ? AND visible_ms IS NOT NULL AND visible_ms <= ?",
                (accession, now),
            ).fetchone()
        return _obj(row) if row else None

    def of_kind(self, kind: str, now: int, group: str | None = None) -> list[Obj]:
        sql = f"SELECT {_OBJ} FROM objects WHERE kind = ? AND visible_ms IS NOT NULL AND visible_ms <= ?"
        args: list[Any] = [kind, now]
        if group is not None:
            sql += " AND grp = ?"
            args.append(group)
        with self._lock:
            return [_obj(r) for r in self._db.execute(sql + " ORDER BY seq", args)]

    def members(self, group: str, now: int) -> list[Obj]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_OBJ} FROM objects WHERE grp = ? AND visible_ms IS NOT NULL AND visible_ms <= ? ORDER BY seq",
                (group, now),
            ).fetchall()
        return [_obj(r) for r in rows]

    def patch(self, accession: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Merge ``changes`` into the draft (a ``None`` value removes the key); the new draft."""
        with self._lock, self._db:
            row = self._db.execute("SELECT draft FROM objects WHERE accession = ?", (accession,)).fetchone()
            if row is None:
                return None
            draft = json.loads(row[0])
            for key, value in changes.items():
                if value is None:
                    draft.pop(key, None)
                else:
                    draft[key] = value
            self._db.execute(
                "UPDATE objects SET draft = ? WHERE accession = ?", (json.dumps(draft, sort_keys=True), accession)
            )
        return draft

    def delete(self, accessions: Iterable[str]) -> list[str]:
        gone = []
        with self._lock, self._db:
            for accession in accessions:
                if self._db.execute(
                    "DELETE FROM objects WHERE accession = ? OR grp = ?", (accession, accession)
                ).rowcount:
                    self._db.execute("DELETE FROM links WHERE source = ? OR target = ?", (accession, accession))
                    gone.append(accession)
        return gone

    def versions(self, accession: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT version, message, author, timestamp_ms FROM versions WHERE accession = ? ORDER BY version",
                (accession,),
            ).fetchall()
        return [{"version": str(v), "message": m, "author": a, "timestamp": t} for v, m, a, t in rows]

    def version(self, accession: str, version: str) -> dict[str, Any] | None:
        if not version.isdigit():
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT metadata FROM versions WHERE accession = ? AND version = ?", (accession, int(version))
            ).fetchone()
        return json.loads(row[0]) if row else None

    def publish(self, accessions: Iterable[str] | None, message: str, author: str, now: int) -> int:
        """Each draft that differs from its published state becomes a new version; how many did."""
        sql = "SELECT accession, draft, published, version FROM objects WHERE visible_ms IS NOT NULL"
        with self._lock, self._db:
            rows = self._db.execute(sql).fetchall()
            wanted = None if accessions is None else set(accessions)
            count = 0
            for accession, draft, published, version in rows:
                if (wanted is not None and accession not in wanted) or draft == published:
                    continue
                self._db.execute(
                    "UPDATE objects SET published = draft, version = ? WHERE accession = ?", (version + 1, accession)
                )
                self._db.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?)",
                    (accession, version + 1, message, author, now, draft),
                )
                count += 1
        return count

    def hide_job(self, job: int, visible_ms: int | None) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE objects SET visible_ms = ? WHERE job = ?", (visible_ms, job))
