"""The events table reached past the application, to tamper with it as an attacker could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

from practice_es.application import PracticeLedger


class RawLog:
    """The events table reached past the application, as someone with database access could."""

    def __init__(self, ledger: PracticeLedger) -> None:
        self.location = ledger.location
        self.postgres = ledger.location.backend == "postgres"
        table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
        if self.postgres:
            self.table = f'"{ledger.location.schema}"."{table}"'
            self.position = "notification_id"
        else:
            self.table, self.position = table, "rowid"

    @contextmanager
    def sql(self) -> Iterator[Any]:
        if self.postgres:
            from tests.conftest import _admin_connect

            with _admin_connect() as conn:
                yield conn
        else:
            import sqlite3

            conn = sqlite3.connect(str(self.location.path), isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()

    def execute(self, statement: str, *params: Any) -> list[Any]:
        mark = "%s" if self.postgres else "?"
        statement = statement.format(table=self.table, pos=self.position).replace("?", mark)
        with self.sql() as conn:
            cursor = conn.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []

    def edit_state(self, position: int) -> None:
        (state,), = self.execute("SELECT state FROM {table} WHERE {pos} = ?", position)
        stored = bytes(state)
        edited = stored[:-1] + bytes([stored[-1] ^ 1])  # one bit of the last byte
        self.execute("UPDATE {table} SET state = ? WHERE {pos} = ?", edited, position)

    def delete(self, position: int) -> None:
        self.execute("DELETE FROM {table} WHERE {pos} = ?", position)

    def forge(self) -> None:
        """Append an event for a new aggregate, copying a genuine event's topic and bytes."""
        (topic, state), = self.execute(
            "SELECT topic, state FROM {table} WHERE {pos} = 1")
        ident: Any = uuid4() if self.postgres else uuid4().hex
        self.execute("INSERT INTO {table} (originator_id, originator_version, topic, state) "
                     "VALUES (?, 1, ?, ?)", ident, topic, state)

    def swap(self, first: int, second: int) -> None:
        """Exchange the log positions of two rows (their content moves, the order changes)."""
        for old, new in ((first, -1), (second, first), (-1, second)):
            self.execute("UPDATE {table} SET {pos} = ? WHERE {pos} = ?", new, old)
