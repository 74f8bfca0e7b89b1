"""What a thief with the database would see: every stored byte, read around the ledger.

SQLite: the database file and its -wal and -shm files, byte for byte. PostgreSQL: every value
of every table of the ledger's schema (what a dump would hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import _admin_connect

SQLITE_PREFIX = "sqlite:///"


def sqlite_files(db_url: str) -> list[Path]:
    path = Path(db_url[len(SQLITE_PREFIX):])
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def events_table(db_url: str) -> str:
    """eventsourcing names the events table after the backend's convention."""
    return "stored_events" if db_url.startswith(SQLITE_PREFIX) else "practice_events"


def stored_bytes(db_url: str) -> bytes:
    if db_url.startswith(SQLITE_PREFIX):
        return b"".join(p.read_bytes() for p in sqlite_files(db_url))
    return b"\n".join(_value_bytes(v) for row in _postgres_rows(db_url) for v in row)


def _schema(db_url: str) -> str:
    return parse_qs(urlsplit(db_url).query)["schema"][0]


def _postgres_rows(db_url: str) -> list[tuple[Any, ...]]:
    schema = _schema(db_url)
    rows: list[tuple[Any, ...]] = []
    with _admin_connect() as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))]
        for table in tables:
            rows.extend(conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
    return rows


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def execute(db_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run one SQL statement on the ledger's database, around the ledger (`?` placeholders)."""
    if db_url.startswith(SQLITE_PREFIX):
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(db_url[len(SQLITE_PREFIX):])) as conn, conn:
            return conn.execute(statement, params).fetchall()
    with _admin_connect() as conn:
        conn.execute(f'SET search_path TO "{_schema(db_url)}"')
        cursor = conn.execute(statement.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []
