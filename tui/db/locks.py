"""Locks another process sees: one ThesisApp action per app across every process.

On PostgreSQL a session-level advisory lock, held on a connection of its own for as long as
the work lasts (the server drops it when that process dies). On SQLite, which lives on one
machine, an exclusive `flock` on a small file beside the database (the kernel drops it when
the process dies). Either way a crashed holder never leaves a lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from tui.db.session import Database


def _key(name: str) -> int:
    """A signed 64-bit key for `name` (PostgreSQL's advisory lock keys are bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def try_lock(db: Database, name: str) -> Iterator[bool]:
    """Hold the lock `name` for the block if no other process holds it; yields whether it
    was taken (the block runs either way, so the caller can say who is busy)."""
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            key = _key(name)
            taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield taken
            finally:
                if taken:
                    with contextlib.suppress(Exception):
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        conn.commit()
        return
    folder = _lock_folder(db)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = True
        except BlockingIOError:
            taken = False
        try:
            yield taken
        finally:
            if taken:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_folder(db: Database) -> Path:
    database = db.engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return Path(tempfile.gettempdir(), f"thesis-locks-{os.getuid()}")
    path = Path(database)
    return path.with_name(f".{path.name}.locks")
