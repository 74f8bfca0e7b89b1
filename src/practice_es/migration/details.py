"""Notes and measures from files joined to the visits (OpenEMR's SOAP notes, Synthea's
observations), kept in a temporary SQLite file, so a large export does not fill memory."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass

import orjson

FLUSH_EVERY = 5000


@dataclass(frozen=True)
class Detail:
    notes: str | None
    measures: dict[str, float]


class DetailIndex:
    """Rows by the visit they belong to; each row is taken once, by the first visit asking."""

    def __init__(self) -> None:
        handle, self.path = tempfile.mkstemp(prefix="practice-import-", suffix=".db")
        os.close(handle)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE details (key TEXT NOT NULL, row INTEGER NOT NULL, "
                        "notes TEXT, measures BLOB, used INTEGER NOT NULL DEFAULT 0)")
        self.db.execute("CREATE INDEX details_by_key ON details (key)")
        self._pending: list[tuple[str, int, str | None, bytes]] = []

    def add(self, key: str, row: int, detail: Detail) -> None:
        self._pending.append((key, row, detail.notes, orjson.dumps(detail.measures)))
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO details (key, row, notes, measures) VALUES (?, ?, ?, ?)",
                            self._pending)
        self.db.execute("COMMIT")
        self._pending = []

    def take(self, key: str) -> list[Detail]:
        """The rows for this visit not yet taken, in file order (and mark them taken)."""
        if self._pending:
            self._flush()
        rows = self.db.execute("SELECT rowid, notes, measures FROM details "
                               "WHERE key = ? AND used = 0 ORDER BY rowid", (key,)).fetchall()
        if rows:
            self.db.executemany("UPDATE details SET used = 1 WHERE rowid = ?",
                                [(r[0],) for r in rows])
        return [Detail(notes, orjson.loads(measures)) for _, notes, measures in rows]

    def unused(self) -> int:
        if self._pending:
            self._flush()
        return int(self.db.execute("SELECT count(*) FROM details WHERE used = 0").fetchone()[0])

    def close(self) -> None:
        self.db.close()
        os.unlink(self.path)


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
