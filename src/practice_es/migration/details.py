"""Notes and measures from files joined to the visits (OpenEMR's SOAP notes, Synthea's
observations), kept in a scratch SQLite file, so a large export does not fill memory.

The scratch file is health data: it lives beside an SQLite ledger (in its folder, owner-only),
in memory for a PostgreSQL one, and every note is sealed under a key that exists only in the
importing process, so a file a crash left behind is unreadable; the next import removes it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from practice_es.infrastructure.store import parse_store_url

FLUSH_EVERY = 5000
SCRATCH_PREFIX = ".practice-import-"
_NONCE = 12


@dataclass(frozen=True)
class Detail:
    notes: str | None
    measures: dict[str, float]


class DetailIndex:
    """Rows by the visit they belong to; each row is taken once, by the first visit asking."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path: str | None = None
        self._lock: int | None = None
        if folder is not None:
            self._lock, self.path = tempfile.mkstemp(prefix=SCRATCH_PREFIX, suffix=".db",
                                                     dir=folder)  # created 0600
            fcntl.flock(self._lock, fcntl.LOCK_EX)  # ours while we run: not a leftover
        self._cipher = AESGCM(AESGCM.generate_key(bit_length=256))
        self.db = sqlite3.connect(self.path or ":memory:", isolation_level=None)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE details (key TEXT NOT NULL, row INTEGER NOT NULL, "
                        "sealed BLOB NOT NULL, used INTEGER NOT NULL DEFAULT 0)")
        self.db.execute("CREATE INDEX details_by_key ON details (key)")
        self._pending: list[tuple[str, int, bytes]] = []

    def add(self, key: str, row: int, detail: Detail) -> None:
        self._pending.append((key, row, self._seal(detail)))
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO details (key, row, sealed) VALUES (?, ?, ?)",
                            self._pending)
        self.db.execute("COMMIT")
        self._pending = []

    def take(self, key: str) -> list[Detail]:
        """The rows for this visit not yet taken, in file order (and mark them taken)."""
        if self._pending:
            self._flush()
        rows = self.db.execute("SELECT rowid, sealed FROM details "
                               "WHERE key = ? AND used = 0 ORDER BY rowid", (key,)).fetchall()
        if rows:
            self.db.executemany("UPDATE details SET used = 1 WHERE rowid = ?",
                                [(r[0],) for r in rows])
        return [self._open(sealed) for _, sealed in rows]

    def _seal(self, detail: Detail) -> bytes:
        nonce = os.urandom(_NONCE)
        plain = orjson.dumps([detail.notes, detail.measures])
        return nonce + self._cipher.encrypt(nonce, plain, None)

    def _open(self, sealed: bytes) -> Detail:
        notes, measures = orjson.loads(self._cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:],
                                                            None))
        return Detail(notes, measures)

    def unused(self) -> int:
        if self._pending:
            self._flush()
        return int(self.db.execute("SELECT count(*) FROM details WHERE used = 0").fetchone()[0])

    def close(self) -> None:
        self.db.close()
        if self.path is not None:
            os.unlink(self.path)
        if self._lock is not None:
            os.close(self._lock)


def remove_leftovers(folder: Path) -> None:
    """Remove the scratch files an import killed in this folder left (no process holds
    their lock); a running import's file is locked, and kept."""
    for path in folder.glob(f"{SCRATCH_PREFIX}*.db"):
        try:
            handle = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink()
        except OSError:
            pass  # in use by another import
        finally:
            os.close(handle)


def combine(details: list[Detail], notes: str | None,
            measures: dict[str, float]) -> tuple[str | None, dict[str, float]]:
    """A visit's notes and measures with its joined rows' (the visit's own measures win)."""
    if not details:
        return notes or None, measures  # most visits: nothing joined to them
    parts = [notes, *(d.notes for d in details)]
    joined = "; ".join(p for p in parts if p)
    merged: dict[str, float] = {}
    for detail in details:
        merged.update(detail.measures)
    merged.update(measures)
    return joined or None, merged


def scratch_folder(db_url: str) -> Path | None:
    """Where an import keeps its scratch file: the SQLite ledger's folder (None: in memory)."""
    location = parse_store_url(db_url)
    if location.path is None:
        return None
    return location.path.resolve().parent
