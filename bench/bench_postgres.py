"""The same import and rebuild on PostgreSQL, beside raw COPY and raw reads of the same events.

Used by `python -m bench.run` when a server answers (default 127.0.0.1:5432, user postgres;
PRACTICE_BENCH_POSTGRES overrides the maintenance URL). Everything happens in a scratch
database made for the run and dropped after it, whatever happens.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from bench.common import Figure

ADMIN_URL = os.environ.get("PRACTICE_BENCH_POSTGRES",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
PAGE = 2000  # the runner's page size
EVENTS_TABLE = "practice_events"  # eventsourcing names it after the application (PracticeLedger)
Shapes = tuple[list[tuple[str, int, str]], dict[str, bytes]]


def server_answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database for this run; yields its plain libpq URL. Dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"practice_bench_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


def ledger_url(plain: str) -> str:
    return plain.replace("postgresql://", "postgresql+psycopg://", 1)


def raw_copy_seconds(url: str, shapes: Shapes, count: int) -> float:
    """The first `count` events (same ids, versions, topics, bytes per topic) through one binary
    COPY into a table shaped like the ledger's, in one transaction: the physical limit."""
    import psycopg

    keys, states = shapes
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_events")
        conn.execute("CREATE TABLE raw_events (originator_id uuid NOT NULL, "
                     "originator_version bigint NOT NULL, topic text, state bytea, "
                     "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        ids = {ident: UUID(ident) for ident, _, _ in keys[:count]}  # made before the clock
        start = time.perf_counter()
        with conn.cursor().copy("COPY raw_events (originator_id, originator_version, topic, "
                                "state) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for ident, version, topic in keys[:count]:
                copy.write_row((ids[ident], version, topic, states[topic]))
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE raw_events")
        conn.commit()
    return seconds


def raw_read_seconds(url: str, events: int) -> float:
    """The ledger's first `events` stored events, every column, page by page, by position."""
    import psycopg

    query = ("SELECT notification_id, originator_id, originator_version, topic, state "
             f"FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s")
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        last = read = 0
        while read < events:
            rows: list[Any] = conn.execute(query, (last, min(PAGE, events - read))).fetchall()
            if not rows:
                break
            last, read = rows[-1][0], read + len(rows)
        return time.perf_counter() - start


def versus_sqlite(name: str, postgres: float, sqlite: float | None,
                  extra: dict[str, Any]) -> Figure:
    """A PostgreSQL figure (seconds per 1M events) beside the same figure on SQLite."""
    return Figure(name, postgres, "s/1M ev", "the same on sqlite", sqlite,
                  target="≤ 2× sqlite", extra=extra,
                  met=None if not sqlite else postgres <= 2 * sqlite)
