"""A PostgreSQL practice's backup (ADR 20): its schema's log, hash chain and keys, read in
one snapshot while others record, written by the app itself into an SQLite ledger file that
`practice restore` verifies (and can restore on either backend). Snapshots and read models are
left out: both are rebuilt from the log."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from practice_es.application import PracticeLedger
from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure.keystore import KeyStore
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.store import StoreLocation

PAGE = 5000  # rows read and written at a time
_DESTROY = ("INSERT INTO {} AS k (owner_id, data_key, erased_at) VALUES (?, NULL, ?) "
            "ON CONFLICT (owner_id) DO UPDATE SET data_key = NULL, "
            "erased_at = COALESCE(k.erased_at, excluded.erased_at)")
# (PostgreSQL's table, the SQLite file's table, the columns both have, in order)
KEY_TABLES = (("practice_data_keys", ("owner_id", "data_key", "erased_at")),
              ("practice_key_check", ("id", "protected", "verifier")),
              ("practice_ledger_key", ("id", "ledger_key")))


def dump_postgres(ledger: PracticeLedger, destination: Path) -> None:
    """Write the ledger's log, chain and keys into a new SQLite ledger file."""
    _make_empty_ledger(destination)
    schema = ledger.recorder.datastore.schema  # type: ignore[attr-defined]
    events = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    with _connect(ledger.location) as source, closing(sqlite3.connect(destination)) as copy:
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
        source.read_only = True
        with source.transaction(), copy:
            query = sql.SQL("SELECT notification_id, originator_id, originator_version, "
                            "topic, state FROM {} ORDER BY notification_id")
            for page in _pages(source, query.format(_name(schema, events))):
                copy.executemany("INSERT INTO stored_events (rowid, originator_id, "
                                 "originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                                 [(n, UUID(str(o)).hex, v, t, bytes(s))
                                  for n, o, v, t, s in page])
            query = sql.SQL("SELECT position, link FROM {} ORDER BY position")
            for page in _pages(source, query.format(_name(schema, f"{events}_chain"))):
                copy.executemany("INSERT INTO stored_events_chain (position, link) "
                                 "VALUES (?, ?)", [(p, bytes(k)) for p, k in page])
            _dump_keys(source, copy, schema)


def _dump_keys(source: psycopg.Connection[Any], copy: sqlite3.Connection, schema: str) -> None:
    for table, columns in KEY_TABLES:
        if not _exists(source, schema, table):
            continue  # (no ledger key: a ledger from before ADR 19)
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), _name(schema, table))
        for page in _pages(source, query):
            copy.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                             f"({', '.join('?' * len(columns))})",
                             [tuple(_plain(v) for v in row) for row in page])


def restore_postgres(settings: Settings, backup: Path, force: bool) -> int:
    """Load a verified backup file into the practice's schema, in one transaction; the read
    models are reset to rebuild. The keys the replaced ledger had destroyed stay destroyed:
    returns how many."""
    from practice_es.infrastructure.backup import CopyRefused

    target = PracticeLedger(settings, check_key=False)  # makes the tables, opens no key
    try:
        KeyStore(target.recorder.datastore, "postgres", None).create_tables()  # type: ignore[attr-defined]
        if target.recorder.max_notification_id() and not force:
            raise CopyRefused("the practice's schema holds events: `practice restore "
                              "--force` replaces them with the copy")
        schema = target.recorder.datastore.schema  # type: ignore[attr-defined]
        events = target.recorder.events_table_name  # type: ignore[attr-defined]
        location = target.location
    finally:
        target.close()
    with _connect(location) as conn, conn.transaction(), \
            closing(sqlite3.connect(backup)) as copy:
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(_name(schema, events)))
        destroyed = conn.execute(sql.SQL("SELECT owner_id, erased_at FROM {} WHERE data_key "
                                         "IS NULL").format(_name(schema, "practice_data_keys"))
                                 ).fetchall()
        _empty(conn, schema, events)
        _load(conn, copy, schema, events)
        conn.cursor().executemany(sql.SQL(_DESTROY.replace("?", "%s")).format(
            _name(schema, "practice_data_keys")), destroyed)
    return len(destroyed)


def _load(conn: psycopg.Connection[Any], copy: sqlite3.Connection, schema: str,
          events: str) -> None:
    rows = copy.execute("SELECT rowid, originator_id, originator_version, topic, state "
                        "FROM stored_events ORDER BY rowid")
    statement = sql.SQL("COPY {} (notification_id, originator_id, originator_version, topic, "
                        "state) FROM STDIN").format(_name(schema, events))
    with conn.cursor().copy(statement) as load:
        for n, o, v, t, s in rows:
            load.write_row((n, UUID(o), v, t, s))
    with conn.cursor().copy(sql.SQL("COPY {} (position, link) FROM STDIN").format(
            _name(schema, f"{events}_chain"))) as load:
        for row in copy.execute("SELECT position, link FROM stored_events_chain"):
            load.write_row(row)
    for table, columns in KEY_TABLES:
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                _name(schema, table), names)) as load:
            for row in copy.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                load.write_row(row)
    conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'notification_id'), "
                         "GREATEST((SELECT max(notification_id) FROM {}), 1))").format(
        sql.Literal(f'"{schema}"."{events}"'), _name(schema, events)))


def _empty(conn: psycopg.Connection[Any], schema: str, events: str) -> None:
    """What a forced restore replaces: the log, chain, snapshots and keys; the read models'
    positions go, so each read model is rebuilt from the restored log."""
    tables = [events, f"{events}_chain", "practice_snapshots",
              *(table for table, _ in KEY_TABLES)]
    for table in tables:
        if _exists(conn, schema, table):
            conn.execute(sql.SQL("DELETE FROM {}").format(_name(schema, table)))
    if _exists(conn, schema, "rm_positions"):
        conn.execute(sql.SQL("DELETE FROM {}").format(_name(schema, "rm_positions")))


def _make_empty_ledger(path: Path) -> None:
    """An SQLite ledger file with its tables and nothing in them."""
    ledger = PracticeLedger(Settings(db_url=f"sqlite:///{path}", actor="backup"),
                            check_key=False)
    try:
        KeyStore(ledger.recorder.datastore, "sqlite", None).create_tables()  # type: ignore[attr-defined]
    finally:
        ledger.close()


@contextmanager
def _connect(location: StoreLocation) -> Iterator[psycopg.Connection[Any]]:
    env = location.env
    try:
        conn = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None, connect_timeout=5)
    except psycopg.Error as error:
        raise InvalidInput("db", f"cannot reach the database: {type(error).__name__}") from None
    with conn:
        yield conn


def _pages(conn: psycopg.Connection[Any], query: sql.Composed) -> Iterator[Sequence[Any]]:
    with conn.cursor(name="practice_backup") as cursor:
        cursor.execute(query)
        while page := cursor.fetchmany(PAGE):
            yield page


def _exists(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    found = conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                         "AND table_name = %s", (schema, table)).fetchone()
    return found is not None


def _name(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value
