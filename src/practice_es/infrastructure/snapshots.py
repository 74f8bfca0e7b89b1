"""Snapshots and archives: a cache of each busy aggregate beside its events (ADR 16).

A snapshot is taken every `SNAPSHOT_EVERY` events of a client and replaces the older ones; a
client's past visits move out of it into an archive row of the same table once more than
`ARCHIVE_AFTER` are not archived. Both are caches: losing them only makes loading replay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.persistence import EventStore

from practice_es.domain.events import PracticeAggregate, PracticeSnapshot
from practice_es.infrastructure.chain import unsynced_transaction
from practice_es.infrastructure.transcoding import PydanticMapper

# Events of a client between snapshots: loading replays fewer than that after the latest.
SNAPSHOT_EVERY = 10
# Past visits not yet archived before they move to an archive of their own: a snapshot stays
# the size of a new client's, and the archive is written once per that many visits.
ARCHIVE_AFTER = 20
ARCHIVE_TOPIC = "practice:Archive"  # (no event's topic: a snapshot row's, never resolved)


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its `isinstance` check of each event
    against a runtime Protocol, which takes typing's slow path for every event replayed."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def archive_id(ident: UUID) -> UUID:
    """The id under which an aggregate's archive is kept in the snapshot table."""
    return uuid5(ident, "archive")


class CurrentSnapshots(EventStore[UUID]):
    """The snapshot store, giving only snapshots of the shape this code stores: an aggregate
    whose latest snapshot is older replays from its events (a snapshot is a cache, ADR 16).
    Each snapshot it gives can read the aggregate's archive (`read_archive`)."""

    def __init__(self, mapper: PydanticMapper, recorder: Any, events: EventStore[UUID]) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.events = events

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        found = super().get(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        reader = partial(self.read_archive, originator_id)
        for snapshot in cast(Iterator[PracticeSnapshot], found):
            if snapshot.is_current:
                snapshot.read_archives_with(reader)
                yield snapshot

    def read_archive(self, ident: UUID, version: int) -> str:
        """The text an aggregate archived at `version`. A newer archive may have replaced it
        since its snapshot was read (or the table was cleared: a cache): then the events up
        to that version say the same."""
        found = self.recorder.select_events(archive_id(ident), gt=version - 1, lte=version)
        if found:
            return str(cast(PydanticMapper, self.mapper).decode_state(found[0])["text"])
        replayed = project(None, self.events.get(ident, lte=version))
        return str(replayed.past_visits.all_text())

    def replace(self, aggregates: Sequence[PracticeAggregate], backend: str) -> None:
        """Store the aggregates' snapshots, with the archives due (`ARCHIVE_AFTER`), and drop
        their older ones, in one transaction: loading reads only the latest, so the rest was
        storage growing with the square of a busy client's history, and each commit costs."""
        if not aggregates:
            return
        recorder: Any = self.recorder
        mapper = cast(PydanticMapper, self.mapper)
        insert, drop = _snapshot_statements(recorder, backend)
        sqlite = backend == "sqlite"  # (its recorder stores ids as hex text)
        rows: list[tuple[Any, int, str, bytes]] = []
        for aggregate in aggregates:
            archived = aggregate.archive(ARCHIVE_AFTER)  # (before the snapshot: it names it)
            stored = mapper.to_stored_event(PracticeSnapshot.take(aggregate))
            ident, version = aggregate.id, aggregate.version
            rows.append((ident.hex if sqlite else ident, version, stored.topic, stored.state))
            if archived is not None:
                archive = archive_id(ident)
                rows.append((archive.hex if sqlite else archive, version, ARCHIVE_TOPIC,
                             mapper.encode_state({"text": archived})))
        with _unsynced(recorder.datastore, backend) as cursor:
            cursor.executemany(insert, rows)
            cursor.executemany(drop, [row[:2] for row in rows])


def _snapshot_statements(recorder: Any, backend: str) -> tuple[Any, Any]:
    """Insert a snapshot row; delete an aggregate's snapshots before a version."""
    if backend == "sqlite":
        table = recorder.events_table_name
        return (f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                f"DELETE FROM {table} WHERE originator_id = ? AND originator_version < ?")
    from psycopg.sql import SQL, Identifier

    name = SQL("{}.{}").format(Identifier(recorder.datastore.schema),
                               Identifier(recorder.events_table_name))
    return (SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)").format(name),
            SQL("DELETE FROM {} WHERE originator_id = %s AND originator_version < %s")
            .format(name))


@contextlib.contextmanager
def _unsynced(datastore: Any, backend: str) -> Iterator[Any]:
    """A transaction whose commit does not wait for the disk: a snapshot is a cache of events
    already committed and synced, so a machine crash may lose it (loading then replays those
    events), never corrupt the store, and a synced commit would cost most of an action."""
    if backend != "sqlite":
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield cursor
        return
    with unsynced_transaction(datastore) as cursor:
        yield cursor
