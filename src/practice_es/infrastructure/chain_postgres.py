"""The hash-chain-keeping recorder for PostgreSQL (ADR 0008); the hashing is in `chain`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from practice_es.infrastructure.chain import GENESIS, ChainBroken, chain_rows

DDL_LOCK = 7302  # an advisory lock id of our own (the projection runner uses 7301)


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
        curs.execute(self._last_link)
        last = curs.fetchone()
        if last is not None and positions and positions[0] <= last["position"]:
            raise ChainBroken(f"the event chain already covers position {positions[0]}; "
                              "run `practice audit verify`")
        previous = bytes(last["link"]) if last is not None else GENESIS
        curs.executemany(self._insert_links, chain_rows(previous, positions, stored_events))
        return positions

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
