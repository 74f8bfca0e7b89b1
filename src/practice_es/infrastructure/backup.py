"""Copies of a ledger as files (ADR 20): always an SQLite ledger file, made with SQLite's
online backup API (or, from PostgreSQL, `audit/backup_postgres`); `infrastructure/outputs`
writes them owner-only beside the target and renames them over it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from practice_es.domain.errors import InvalidInput, PracticeError


class CopyRefused(PracticeError):
    """The copy does not verify, or restoring it would replace recorded events (exit 1)."""


# Tables every practice ledger file holds, whatever wrote it.
PRACTICE_TABLES = ("stored_events", "stored_events_chain", "practice_key_check")
LOCK_TIMEOUT = 30.0  # seconds a copy waits for a writer's lock, as the ledger's own connections


@contextlib.contextmanager
def temporary_beside(target: Path) -> Iterator[Path]:
    """A new file beside `target`, owner-only (mkstemp: O_EXCL, mode 0600, never a link
    followed), removed with its SQLite companions when done."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    path = Path(name)
    with companions_removed(path):
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def companions_removed(path: Path) -> Iterator[Path]:
    """The SQLite files beside a database file opened in the block removed after it (the
    database file itself is left to its owner)."""
    try:
        yield path
    finally:
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy of an SQLite database while others write to it (the online backup
    API: one read transaction over the whole file, write-ahead log included)."""
    try:
        with closing(sqlite3.connect(source, timeout=LOCK_TIMEOUT)) as src, \
                closing(sqlite3.connect(destination, timeout=LOCK_TIMEOUT)) as dst:
            src.backup(dst)
    except sqlite3.DatabaseError as error:
        raise InvalidInput("FILE", f"{source} cannot be copied as a ledger ({error})") from None


def has_practice_tables(path: Path) -> bool:
    """Whether an SQLite file holds a practice ledger's tables (else it is no ledger)."""
    try:
        with closing(sqlite3.connect(_read_only(path), uri=True)) as conn:
            names = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        return False
    return all(table in names for table in PRACTICE_TABLES)


def holds_events(path: Path) -> bool:
    """Whether an SQLite ledger file exists and holds at least one event."""
    if not path.exists() or not has_practice_tables(path):
        return False
    with closing(sqlite3.connect(_read_only(path), uri=True)) as conn:
        return conn.execute("SELECT 1 FROM stored_events LIMIT 1").fetchone() is not None


def _read_only(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


# A destroyed key stays destroyed (ADR 9): the same upsert as KeyStore.destroy.
_DESTROY = ("INSERT INTO practice_data_keys AS k (owner_id, data_key, erased_at) "
            "VALUES (?, NULL, ?) ON CONFLICT (owner_id) DO UPDATE SET data_key = NULL, "
            "erased_at = COALESCE(k.erased_at, excluded.erased_at)")


def destroyed_keys(path: Path) -> list[tuple[str, str]]:
    """(owner id, erased at) of every data key an SQLite ledger file has destroyed."""
    if not path.exists() or not has_practice_tables(path):
        return []
    with closing(sqlite3.connect(_read_only(path), uri=True)) as conn:
        try:
            return list(conn.execute("SELECT owner_id, erased_at FROM practice_data_keys "
                                     "WHERE data_key IS NULL"))
        except sqlite3.OperationalError:
            return []  # no key table: nothing was ever erased


def keep_destroyed(path: Path, destroyed: list[tuple[str, str]]) -> None:
    """Destroy these keys in the ledger file too, and drop its read models (they hold what
    the keys opened; they are rebuilt from the log), leaving no freed byte behind."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA secure_delete = ON")
        with conn:
            conn.executemany(_DESTROY, destroyed)
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                         "'table' AND name LIKE 'rm\\_%' ESCAPE '\\'").fetchall():
                conn.execute(f'DROP TABLE "{table}"')
        conn.execute("VACUUM")
