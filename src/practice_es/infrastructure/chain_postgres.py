"""The hash-chain-keeping recorder for PostgreSQL (ADR 0008); the hashing is in `chain`.

A bulk insert (`insert_rows`, what an import sends) goes by binary COPY (ADR 0018).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

from practice_es.infrastructure.chain import GENESIS, ChainBroken, chain_rows, link_of

DDL_LOCK = 7302  # an advisory lock id of our own (the projection runner uses 7301)
# An event as an import sends it: its UUID's 16 bytes, its version, topic and stored state.
Row = tuple[bytes, int, str, bytes]
# The COPY columns' types as the rows are dumped. The id goes as `bytea`: in a binary COPY
# each field is only a length and bytes, and a uuid's binary form is its 16 bytes, so the
# server reads them as the uuid they are, with no UUID object made per event.
_EVENT_TYPES = ("int8", "bytea", "int8", "text", "bytea")
_LINK_TYPES = ("int8", "bytea")


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, plus a chain row per event in the insert
    transaction. The chain is appended after the insert, still under the recorder's
    EXCLUSIVE lock on the events table, so chain order is notification-id order."""

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # The stored function path inserts without our hook: the chain would fall behind.
        self.datastore.enable_db_functions = False
        chain = f"{events_table_name}_chain"
        self.check_identifier_length(chain)
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(chain))
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, link bytea NOT NULL)"
        ).format(table))
        self._last_link = SQL("SELECT position, link FROM {0} ORDER BY position DESC LIMIT 1"
                              ).format(table)
        self._insert_links = SQL("INSERT INTO {0} (position, link) VALUES (%s, %s)"
                                 ).format(table)
        self._select_links = SQL("SELECT position, link FROM {0} WHERE position > %s AND "
                                 "position <= %s ORDER BY position LIMIT %s").format(table)
        self._reserve = SQL(
            "SELECT setval(pg_get_serial_sequence({0}, 'notification_id'), "
            "nextval(pg_get_serial_sequence({0}, 'notification_id')) + %s - 1) AS last"
        ).format(Literal(f"{Identifier(self.datastore.schema).as_string()}."
                         f"{Identifier(self.events_table_name).as_string()}"))
        self._copy_events = SQL(
            "COPY {0} (notification_id, originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)").format(events)
        self._copy_links = SQL("COPY {0} (position, link) FROM STDIN (FORMAT BINARY)"
                               ).format(table)
        self._analyze = SQL("ANALYZE {0}, {1}").format(events, table)
        self._select_positioned = SQL("SELECT * FROM {0} WHERE originator_id = ANY(%s) "
                                      "ORDER BY notification_id").format(events)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Two processes opening a new schema at once would otherwise race on the DDL
        # ("tuple concurrently updated" from CREATE OR REPLACE FUNCTION): take turns.
        curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (DDL_LOCK,))
        super()._create_table(curs)

    def _fetch_ids_after_insert_events(self, curs: Cursor[DictRow],
                                       stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        if positions:
            previous = self._link_before(curs, positions[0])
            curs.executemany(self._insert_links, chain_rows(previous, positions, stored_events))
        return positions

    def insert_rows(self, rows: Sequence[Row]) -> list[int]:
        """`insert_events` of events given as (UUID's 16 bytes, version, topic, stored state),
        what a large import sends, by binary COPY into the events table and then the chain
        table, in one transaction (eventsourcing's insert sends each event as a composite
        value dumped as text in Python, and reads back each notification id).

        The positions are given, not left to the column's default: under the recorder's
        EXCLUSIVE lock no other writer can append, so the sequence is moved past the batch
        in one statement and the batch takes the positions before it, without a gap and in
        the rows' order, which is the order of the chain."""
        if not rows:
            return []
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)  # held to the commit: commit order is position order
            self._notify_channel(curs)
            curs.execute(self._reserve, (len(rows),))
            reserved = curs.fetchone()
            assert reserved is not None
            start = reserved["last"] - len(rows) + 1
            self._copy(curs, start, self._link_before(curs, start), rows)
        return list(range(start, start + len(rows)))

    def _copy(self, curs: Cursor[DictRow], start: int, previous: bytes,
              rows: Sequence[Row]) -> None:
        """The events at `start` on, then their links following `previous`, each table by
        one binary COPY."""
        links = []
        with curs.copy(self._copy_events) as copy:
            copy.set_types(_EVENT_TYPES)
            for position, (oid, version, topic, state) in enumerate(rows, start):
                copy.write_row((position, oid, version, topic, state))
                previous = link_of(previous, position, version, oid, topic, state)
                links.append(previous)
        with curs.copy(self._copy_links) as copy:
            copy.set_types(_LINK_TYPES)
            for position, link in enumerate(links, start):
                copy.write_row((position, link))

    def end_bulk(self) -> None:
        """After an import's `insert_rows`: the planner's statistics of the events and the
        chain brought up to date. Without them, right after a large import (before
        autovacuum's next round), a page of the log (`select_notifications`: a position
        range, topics, ORDER BY, LIMIT) was planned as a bitmap scan of the whole rest of the
        log and a sort, for every page: a rebuild's reading grew with the square of the log."""
        with self.datastore.get_connection() as conn:
            conn.execute(self._analyze)

    def _link_before(self, curs: Cursor[DictRow], first: int) -> bytes:
        """The last link, which the event at `first` follows; under the table lock."""
        curs.execute(self._last_link)
        last = curs.fetchone()
        if last is not None and first <= last["position"]:
            raise ChainBroken(f"the event chain already covers position {first}; "
                              "run `practice audit verify`")
        return bytes(last["link"]) if last is not None else GENESIS

    def chain_head(self) -> tuple[int, bytes]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._last_link)
            row = curs.fetchone()
        return (row["position"], bytes(row["link"])) if row is not None else (0, GENESIS)

    def select_links(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_links, (after, stop, limit))
            return [(row["position"], bytes(row["link"])) for row in curs.fetchall()]

    def select_positioned(self, originator_ids: Sequence[UUID]) -> list[Notification]:
        if not originator_ids:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_positioned, (list(originator_ids),), prepare=True)
            return [
                Notification(id=row["notification_id"], originator_id=row["originator_id"],
                             originator_version=row["originator_version"],
                             topic=row["topic"], state=bytes(row["state"]))
                for row in curs.fetchall()
            ]
