"""The embedded server's state in SQLite: users with permissions, hashed tokens, tasks.

A database file is created readable by its owner only (0600: it holds token hashes), and token
hashes are HMAC-SHA-256 under a key made for each database and kept in it, so a hash from one
database cannot be checked against a list of guessed tokens made once for all databases.
Hashes of an older database (bare SHA-256) still match, and are re-keyed when their token is
next used. A file that cannot be opened as a database is a :class:`StoreError` naming it.

One connection guarded by a lock serves every request thread. SQLite statements here take
microseconds, so the lock costs less than a connection per thread would, and it is the one
way a ``:memory:`` database is shared between threads. File databases use WAL so that another
process (a second server, ``sqlite3`` in a shell) can read while this one writes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .objects import ObjectStore

MEMORY = ":memory:"
TASK_PREFIX = "GSF"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    permissions TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    auto INTEGER NOT NULL DEFAULT 0  -- 1: made by the server itself (serve with no --token)
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    application TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'DONE'  -- the status it ends in (Prefer: task-status=FAILED)
);
"""


@dataclass(frozen=True)
class User:
    name: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class TaskRow:
    """A task as stored: its status is not stored but derived from the clock (see tasks.py)."""

    seq: int
    name: str
    application: str
    created_by: str
    created_ms: int
    duration_ms: int
    outcome: str = "DONE"

    @property
    def accession(self) -> str:
        return accession_of(self.seq)


def accession_of(seq: int) -> str:
    return f"{TASK_PREFIX}{seq:06d}"


def seq_of(accession: str) -> int | None:
    """The row number behind ``GSF000042``; ``None`` for anything that is not one of ours."""
    digits = accession[len(TASK_PREFIX) :]
    if not accession.startswith(TASK_PREFIX) or not digits.isdigit() or not digits.isascii():
        return None
    if len(digits) > 18:  # beyond SQLite's 64-bit INTEGER: no task of ours, not a crash
        return None
    return int(digits)


class StoreError(Exception):
    """The database file cannot be opened or used (corrupt, read-only, a folder, no such place)."""


def hash_token(token: str, key: bytes) -> str:
    """The stored form of a token: only hashes are stored, so a leaked database file does not
    leak usable tokens, and they are keyed by the database's own secret (``key``)."""
    return token_hasher(key)(token)


def token_hasher(key: bytes) -> Callable[[str], str]:
    """:func:`hash_token` with ``key`` bound, for every request: the keyed HMAC state is made once
    and copied per token (a fresh ``hmac.new`` re-derives it from the key and looks SHA-256 up
    again: about 2.4 µs a token against 0.9 µs)."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hashed(token: str) -> str:
        state = keyed.copy()
        state.update(token.encode("utf-8"))
        return state.hexdigest()

    return hashed


def legacy_hash(token: str) -> str:
    """How databases made before keyed hashes stored a token: bare SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/odm_dyn/server.db`` (``~/.local/share`` without it; LOCALAPPDATA on Windows)."""
    base = os.environ.get("XDG_DATA_HOME") or os.environ.get("LOCALAPPDATA")
    root = Path(base) if base else Path.home() / ".local" / "share"
    return root / "odm_dyn" / "server.db"


def _create_private(path: str) -> None:
    """Create the database file readable and writable by its owner only, when it is new
    (SQLite gives its WAL and shared-memory files the database file's permissions)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


_TASKS_KEPT = 10_000  # task rows kept in memory; past this the cache starts again


class Store:
    """Users, tokens and tasks; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str] = MEMORY):
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = self._connect(self.path)
        # Every request reads its token's user and most read one task, and with one connection
        # behind one lock those reads queued up behind each other. Users change only through
        # add_token (which empties this cache) and a task's row never changes once made (its
        # status follows the clock), so both are kept in memory once read. Another process on
        # the same file may change the tokens too: for a file, every look-up first asks SQLite
        # whether another connection has committed since (_forget_if_changed), one cheap PRAGMA;
        # an in-memory database has no other connection.
        self._users: dict[str, User] = {}
        self._shared = self.path != MEMORY
        self._data_version: int | None = None
        self._tasks: dict[int, TaskRow] = {}
        try:
            self._key, self._legacy = self._migrate()
            self._hash = token_hasher(self._key)
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"cannot use the database {self.path}: {exc}") from None
        # ODM's objects, links, jobs and SCIM resources share this connection and its lock.
        self.objects = ObjectStore(self._db, self._lock)

    def _migrate(self) -> tuple[bytes, bool]:
        """The schema made or brought up to date; the database's token key, and whether it still
        holds hashes of the older, unkeyed kind."""
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(tokens)")}
            if "auto" not in columns:  # a database made before tokens were marked
                self._db.execute("ALTER TABLE tokens ADD COLUMN auto INTEGER NOT NULL DEFAULT 0")
            if "keyed" not in columns:  # a database made before hashes were keyed: all its hashes are bare
                self._db.execute("ALTER TABLE tokens ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0")
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
            if "outcome" not in columns:  # a database made before tasks could end otherwise than DONE
                self._db.execute("ALTER TABLE tasks ADD COLUMN outcome TEXT NOT NULL DEFAULT 'DONE'")
            self._db.execute(
                "INSERT OR IGNORE INTO settings(name, value) VALUES ('token_key', ?)", (secrets.token_hex(32),)
            )
            key = self._db.execute("SELECT value FROM settings WHERE name = 'token_key'").fetchone()[0]
            legacy = self._db.execute("SELECT 1 FROM tokens WHERE keyed = 0 LIMIT 1").fetchone() is not None
        return bytes.fromhex(key), legacy

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        try:
            if path != MEMORY:
                path = os.fspath(Path(path).expanduser())
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                _create_private(path)
            # check_same_thread=False: the lock, not the creating thread, owns the connection.
            db = sqlite3.connect(path, check_same_thread=False, timeout=10.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            if path != MEMORY:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"cannot use the database {path}: {exc}") from None
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ users and tokens

    def add_token(self, token: str, user: str, permissions: Iterable[str] = (), *, auto: bool = False) -> None:
        """Make (or update) ``user`` with exactly ``permissions`` and let ``token`` act as them.

        ``auto``: a token the server made for itself. It replaces every earlier auto-made token,
        so restarts of a server with a kept database do not pile up valid tokens nobody knows.
        """
        if not token:
            raise ValueError("a token must not be empty")
        perms = ",".join(sorted(set(permissions)))
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO users(name, permissions) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions",
                (user, perms),
            )
            if auto:
                self._db.execute("DELETE FROM tokens WHERE auto = 1")
            self._db.execute("DELETE FROM tokens WHERE token_hash = ?", (legacy_hash(token),))
            self._db.execute(
                "INSERT OR REPLACE INTO tokens(token_hash, user_name, auto, keyed) VALUES (?, ?, ?, 1)",
                (self._hash(token), user, int(auto)),
            )
            self._users.clear()  # permissions may have changed, earlier auto-made tokens are gone

    def user_for_token(self, token: str) -> User | None:
        wanted = self._hash(token)
        if self._shared:
            with self._lock:
                self._forget_if_changed()
                known = self._users.get(wanted)
        else:
            known = self._users.get(wanted)
        if known is not None:
            return known
        with self._lock:
            if self._shared:
                self._forget_if_changed()
            row = self._db.execute(
                "SELECT t.token_hash, u.name, u.permissions FROM tokens t JOIN users u ON u.name = t.user_name "
                "WHERE t.token_hash = ?",
                (wanted,),
            ).fetchone()
            if row is None and self._legacy:
                row = self._rekey(token, wanted)
            # The index finds the row; the final comparison is constant-time all the same, so the
            # answer's timing never depends on how much of a guessed token was right.
            if row is None or not hmac.compare_digest(row[0], wanted):
                return None  # refused tokens are not remembered: guesses must not fill the cache
            # Remembered under the lock that checked the data version: a change committed by
            # another process after that check is seen, and the cache emptied, by the next one.
            user = self._users[wanted] = User(row[1], frozenset(p for p in row[2].split(",") if p))
        return user

    def _forget_if_changed(self) -> None:
        """Empty the users cache when another connection (another process on this file) has
        committed since the last look: SQLite's data_version changes exactly then, so a token it
        revoked stops working at the next request (the caller holds the lock)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._users.clear()
            self._data_version = version

    def _rekey(self, token: str, keyed: str) -> tuple[str, str, str] | None:
        """A token of an older database, found by its bare hash and stored keyed from now on
        (the caller holds the lock)."""
        with self._db:
            updated = self._db.execute(
                "UPDATE tokens SET token_hash = ?, keyed = 1 WHERE token_hash = ? AND keyed = 0",
                (keyed, legacy_hash(token)),
            ).rowcount
            if not updated:
                return None
            return self._db.execute(
                "SELECT t.token_hash, u.name, u.permissions FROM tokens t JOIN users u ON u.name = t.user_name "
                "WHERE t.token_hash = ?",
                (keyed,),
            ).fetchone()

    def has_tokens(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM tokens LIMIT 1").fetchone() is not None

    # ------------------------------------------------------------------ tasks

    def create_task(
        self, name: str, application: str, created_by: str, duration_ms: int, outcome: str = "DONE"
    ) -> TaskRow:
        created = now_ms()
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO tasks(name, application, created_by, created_ms, duration_ms, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, application, created_by, created, duration_ms, outcome),
            )
            seq = int(cursor.lastrowid or 0)
        return self._remember(TaskRow(seq, name, application, created_by, created, duration_ms, outcome))

    def task(self, accession: str) -> TaskRow | None:
        seq = seq_of(accession)
        if seq is None:
            return None
        known = self._tasks.get(seq)
        if known is not None:
            return known
        with self._lock:
            row = self._db.execute(
                "SELECT seq, name, application, created_by, created_ms, duration_ms, outcome FROM tasks WHERE seq = ?",
                (seq,),
            ).fetchone()
        return self._remember(TaskRow(*row)) if row else None

    def _remember(self, row: TaskRow) -> TaskRow:
        if len(self._tasks) >= _TASKS_KEPT:
            self._tasks.clear()
        self._tasks[row.seq] = row
        return row

    def task_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])
