"""The read models' database connection: the ledger's own database, with a write lock taken
at the start of every write transaction, and read snapshots that take none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import text as sql

if TYPE_CHECKING:
    from practice_es.infrastructure.ledger_store import LedgerStore

CACHE_KIB = 64 * 1024  # SQLite page cache of a read-model connection
_READING = "practice_reading"  # execution option: a read snapshot, no write lock


def build_engine(ledger: LedgerStore) -> Engine:
    location = ledger.location
    if location.backend == "sqlite":
        return _sqlite_engine(location.sqlalchemy_url())
    connect_args = {"connect_timeout": 5}
    if location.schema:
        connect_args["options"] = f"-csearch_path={location.schema}"  # type: ignore[assignment]
    return create_engine(location.sqlalchemy_url(), connect_args=connect_args)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        dbapi_conn.execute("PRAGMA busy_timeout = 30000")
        # Read models only: a commit needs no fsync of its own (WAL stays consistent on a
        # power cut; a lost page is re-applied, its position went with it), and a rebuild
        # writing a million rows keeps its indexes' pages in memory.
        dbapi_conn.execute("PRAGMA synchronous = NORMAL")
        dbapi_conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        # Copy the WAL into the file every 32 MB, not every 4 MB: each copy ends in an
        # fsync, and a rebuild's commits should not wait for the disk that often.
        dbapi_conn.execute("PRAGMA wal_autocheckpoint = 8192")
        # Read models hold personal text in clear when there is no master key: a row an
        # erasure rewrites must not leave its old bytes in a freed part of a page.
        dbapi_conn.execute("PRAGMA secure_delete = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READING):
            conn.exec_driver_sql("BEGIN")  # a snapshot from the first read, no lock
        else:
            # Take the write lock first, so two catch-ups never apply the same page.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the read models' write lock from its start."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sql("SELECT pg_advisory_xact_lock(7301)"))
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A transaction that sees one consistent state of the read models and locks nothing."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            conn.execution_options(**{_READING: True})
        with conn.begin():
            yield conn


def fold_wal(engine: Engine) -> None:
    """SQLite: copy the write-ahead log into the file and empty it, after a rebuild wrote a
    whole database's worth of pages through it (while two processes read and wrote at once
    it could not be emptied as it went). Waits a second at most for readers, else leaves it
    to SQLite's own checkpoints."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA busy_timeout = 1000")
        try:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.execute("PRAGMA busy_timeout = 30000")
