"""The tamper-evident hash chain over the stored events, kept by the recorder itself (ADR 0008).

Each stored event gets one chain row, written in the same transaction that inserts the event:
`link(p) = sha256(link(p-1) ‖ position ‖ version ‖ originator id ‖ topic ‖ state)`, over the
bytes exactly as stored (ciphertext when encryption at rest is on). Rows are (position, link),
nothing more, so keeping the chain costs one small insert per event.

This module holds the hashing and the SQLite recorder; `chain_postgres` holds the PostgreSQL
one (kept apart so an SQLite run never imports psycopg).
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from collections.abc import Iterator, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

GENESIS = hashlib.sha256(b"practice-es event chain v1").digest()  # the link before position 1
BULK_CHECKPOINT_PAGES = 20_000  # 80 MB of write-ahead log between checkpoints (see insert_rows)
LINK_SIZE = len(GENESIS)  # a sha256 digest

RECORDER_TOPICS = {
    "sqlite": "practice_es.infrastructure.chain:ChainedSQLiteRecorder",
    "postgres": "practice_es.infrastructure.chain_postgres:ChainedPostgresRecorder",
}


class ChainBroken(PersistenceError):
    """The chain and the log disagree where a new event would go: the log was altered."""


def chain_link(previous: bytes, position: int, event: StoredEvent) -> bytes:
    """The link of the event stored at `position`, following the link `previous`.

    Every variable-length part is length-prefixed, so no two different events hash alike by
    moving bytes from one field to the next.
    """
    ident = event.originator_id
    oid = ident.bytes if isinstance(ident, UUID) else str(ident).encode()
    return link_of(previous, position, event.originator_version, oid, event.topic, event.state)


def link_of(previous: bytes, position: int, version: int, oid: bytes, topic: str,
            state: bytes) -> bytes:
    """`chain_link` of an event given by its parts (the id as hashed: a UUID's 16 bytes)."""
    named = _NAMED.get(topic)
    if named is None:
        name = topic.encode()
        named = _NAMED[topic] = _LENGTH.pack(len(name)) + name
    digest = hashlib.sha256(previous)
    digest.update(_HEAD.pack(position, version, len(oid)) + oid + named
                  + _SIZE.pack(len(state)))
    digest.update(state)
    return digest.digest()


# The parts of a link's input (the same bytes whether hashed in one piece or several).
_HEAD, _LENGTH, _SIZE = struct.Struct(">qqI"), struct.Struct(">I"), struct.Struct(">Q")
_NAMED: dict[str, bytes] = {}  # a topic, length-prefixed: topics are few and repeat


def chain_rows(previous: bytes, positions: Sequence[int],
               events: Sequence[StoredEvent]) -> list[tuple[int, bytes]]:
    rows = []
    for position, event in zip(positions, events, strict=True):
        previous = chain_link(previous, position, event)
        rows.append((position, previous))
    return rows


class ChainedRecorder(Protocol):
    """What the audit needs of the ledger's recorder, on either backend."""

    def max_notification_id(self) -> int | None: ...

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None,
        topics: Sequence[str] = (), *, inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...

    def chain_head(self) -> tuple[int, bytes]:
        """The last chain row as stored: (position, link), or (0, GENESIS) if none."""
        ...

    def select_links(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]:
        """Chain rows with after < position <= stop, in position order."""
        ...

    def select_positioned(self, originator_ids: Sequence[UUID]) -> list[Notification]:
        """Every stored event of these aggregates, with its log position, in log order
        (an index lookup per aggregate: never a scan of the log)."""
        ...


def as_chained(recorder: Any) -> ChainedRecorder:
    if not hasattr(recorder, "select_links"):
        raise TypeError(f"{type(recorder).__name__} keeps no hash chain")
    return recorder  # type: ignore[no-any-return]


# An event as the SQLite recorder stores it (its id as stored: a UUID's hex), and as the chain
# hashes it (its id as hashed: a UUID's 16 bytes); then its version, topic and stored state.
_Row = tuple[str, int, str, bytes]
_Hashed = tuple[bytes, int, str, bytes]


@contextlib.contextmanager
def unsynced_transaction(datastore: SQLiteDatastore,
                         checkpoint_pages: int | None = None) -> Iterator[Any]:
    """A transaction on one of the pool's connections whose commit is not synced to disk
    (`synchronous = NORMAL`: WAL mode syncs the log at each checkpoint instead), checkpointed
    every `checkpoint_pages` if given. Both are per connection and can only be set outside a
    transaction (SQLite ignores them within): they are read first and put back after, so the
    pool's connection is handed back as it was lent. A crash of the machine, not of the
    process, may lose such a commit, never corrupt the file."""
    with datastore.get_connection(commit=True) as connection:
        settings = connection.cursor()
        saved = [_pragma(settings, "synchronous")]
        settings.execute("PRAGMA synchronous = NORMAL")
        if checkpoint_pages is not None:
            saved.append(_pragma(settings, "wal_autocheckpoint"))
            settings.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        try:
            with connection.transaction(commit=True) as cursor:
                yield cursor
        finally:
            for statement in saved:
                settings.execute(statement)


def _pragma(cursor: Any, name: str) -> str:
    """The statement that sets the connection's `name` back to what it is now."""
    cursor.execute(f"PRAGMA {name}")
    return f"PRAGMA {name} = {int(cursor.fetchone()[0])}"


def _key(ident: Any) -> str:
    """An originator id as the SQLite recorder stores it."""
    return ident.hex if isinstance(ident, UUID) else str(ident)


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, plus a chain row per event in the insert transaction."""

    def __init__(self, datastore: SQLiteDatastore,
                 events_table_name: str = "stored_events") -> None:
        # Set before super().__init__, which builds the CREATE TABLE statements.
        self.chain_table_name = f"{events_table_name}_chain"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} "
                "(position INTEGER PRIMARY KEY, link BLOB NOT NULL)"]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        hashed = [(s.originator_id.bytes, s.originator_version, s.topic, s.state)
                  if isinstance(s.originator_id, UUID) else
                  (str(s.originator_id).encode(), s.originator_version, s.topic, s.state)
                  for s in stored_events]
        return self._record(c, [(_key(s.originator_id), s.originator_version, s.topic, s.state)
                                for s in stored_events], hashed)

    def insert_rows(self, rows: Sequence[tuple[bytes, int, str, bytes]]) -> list[int]:
        """`insert_events` of events given as (UUID's 16 bytes, version, topic, stored state),
        what a large import sends: no object per event to make.

        A bulk insert, one batch after another: the write-ahead log is checkpointed every
        80 MB rather than every 4 MB (each checkpoint copies the index pages the batches
        touched into the database and syncs it), and a batch's commit is not synced to disk
        (`synchronous = NORMAL`: the log is synced at each checkpoint instead, so a batch
        waits for no disk). A crash
        of the machine, not of the process, may then lose the batches since the last
        checkpoint, never corrupt the file or the chain: a re-run of the import puts them
        back (ADR 6). Each batch hands the connection back with the settings it had
        (`unsynced_transaction`); `end_bulk` checkpoints the rest and syncs it."""
        with unsynced_transaction(self.datastore, BULK_CHECKPOINT_PAGES) as c:
            return self._record(c, [(oid.hex(), version, topic, state)
                                    for oid, version, topic, state in rows], rows)

    def end_bulk(self) -> None:
        """After `insert_rows`: the log checkpointed, and with it synced (a checkpoint syncs
        the log and the database: the import is durable)."""
        with self.datastore.get_connection(commit=True) as conn:
            conn.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _record(self, c: SQLiteCursor, rows: Sequence[_Row],
                hashed: Sequence[_Hashed]) -> list[int]:
        """Insert the events (`rows`, as stored) and their chain links (of `hashed`, the same
        events with their ids as hashed), in the transaction of `c`."""
        if not rows:
            return []
        positions = self._insert_rows(c, rows)
        # Read the last link after inserting: the write lock is held from the first INSERT,
        # so no other writer can append between this read and the commit.
        c.execute(f"SELECT position, link FROM {self.chain_table_name} "
                  "ORDER BY position DESC LIMIT 1")
        last = c.fetchone()
        if last is not None and positions[0] <= last["position"]:
            raise ChainBroken(
                f"the event chain already covers position {positions[0]}: rows were deleted "
                "from the log; run `practice audit verify`")
        previous = bytes(last["link"]) if last is not None else GENESIS
        links = []
        for position, (oid, version, topic, state) in zip(positions, hashed, strict=True):
            previous = link_of(previous, position, version, oid, topic, state)
            links.append(previous)
        # The positions run without a gap (see `_insert_rows`): one statement cuts the links
        # out of one blob, rather than an `executemany` binding each link separately.
        c.execute(f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
                  f"WHERE i + 1 < ?3) INSERT INTO {self.chain_table_name} (position, link) "
                  f"SELECT ?1 + i, substr(?2, i * {LINK_SIZE} + 1, {LINK_SIZE}) FROM n",
                  (positions[0], b"".join(links), len(links)))
        return positions

    def _insert_rows(self, c: SQLiteCursor, rows: Sequence[_Row]) -> list[int]:
        """Insert the events with one `executemany` (eventsourcing's recorder makes one
        `execute` per event, to read each rowid) and work their rowids out: with no
        AUTOINCREMENT each new row gets the largest rowid + 1, and the write lock taken by the
        first INSERT keeps other writers out until the commit, so the rowids run without a gap
        up to last_insert_rowid(). The first event's own rowid confirms it."""
        c.executemany(self.insert_events_statement, rows)
        key, version, _, _ = rows[0]
        c.execute(f"SELECT last_insert_rowid(), rowid FROM {self.events_table_name} "
                  "WHERE originator_id = ? AND originator_version = ?", (key, version))
        last, start = c.fetchone()
        if last - start + 1 != len(rows):
            raise PersistenceError(f"the log's rowids {start}..{last} are not one per event "
                                   f"of the {len(rows)} just inserted")
        return list(range(start, last + 1))

    def chain_head(self) -> tuple[int, bytes]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, link FROM {self.chain_table_name} "
                      "ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
        return (row["position"], bytes(row["link"])) if row is not None else (0, GENESIS)

    def select_links(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, link FROM {self.chain_table_name} "
                      "WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
                      (after, stop, limit))
            return [(row["position"], bytes(row["link"])) for row in c.fetchall()]

    def select_positioned(self, originator_ids: Sequence[UUID]) -> list[Notification]:
        if not originator_ids:
            return []
        marks = ",".join("?" * len(originator_ids))
        with self.datastore.transaction(commit=False) as c:
            # The primary key (originator_id, originator_version) serves each id of the IN list.
            c.execute(f"SELECT rowid, * FROM {self.events_table_name} "
                      f"WHERE originator_id IN ({marks}) ORDER BY rowid",
                      [ident.hex for ident in originator_ids])
            return [
                Notification(id=row["rowid"],
                             originator_id=self.convert_originator_id(row["originator_id"]),
                             originator_version=row["originator_version"],
                             topic=row["topic"], state=row["state"])
                for row in c.fetchall()
            ]
