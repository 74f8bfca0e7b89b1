"""Recording units in batches, and knowing what the ledger already holds (idempotency).

A batch is one transaction and holds whole units (a row's events are never split), and batches
are committed in the export's order, so the store always holds a prefix of a clean run. A re-run
reads each touched aggregate back (version and recorded facts), skips the units already there
and appends the rest at the same versions a clean run gives.

Two writers record the same events: `FastWriter` encodes each event's state straight from its
fields (no pydantic event object: the import's hot path) and inserts through the ledger's own
recorder; `DomainWriter` goes through the aggregates and `ledger.save`. A test decodes what
both stored and compares them.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Container, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from practice_es.domain.client import Client
from practice_es.domain.errors import ConcurrentChange
from practice_es.domain.events import PracticeAggregate
from practice_es.infrastructure.transcoding import PydanticMapper, Recorded
from practice_es.migration.encoding import StateEncoder
from practice_es.migration.facts import CREATED, Unit, presence_key
from practice_es.migration.recorder_process import DEPTH, RecorderProcess, Row, insert_rows

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger

CAPACITY = 250_000  # recorded facts kept in memory; past that, committed streams are dropped
_CREATED_ONLY = frozenset({CREATED})


@dataclass
class Stream:
    """What the ledger holds of one aggregate: its version and the facts recorded in it."""

    version: int = 0
    keys: set[Hashable] = field(default_factory=set)


class Streams:
    """An LRU cache over the store: a stream dropped after its events were committed is read
    back from the store when touched again, so memory stays flat however long the export.
    One that held no fact but its creation is kept as its version: nothing to read back
    (a client's intake is recorded long before its visits, and is the oldest stream)."""

    def __init__(self, ledger: PracticeLedger, capacity: int = CAPACITY) -> None:
        self.ledger = ledger
        self.capacity = capacity
        self._cache: OrderedDict[UUID, Stream] = OrderedDict()
        self._held = 0
        self._dropped: dict[UUID, int | None] = {}  # the version of a created-only one
        self._last: tuple[UUID | None, Stream] = (None, Stream())  # the most recent `get`
        self._store_was_empty = not ledger.recorder.max_notification_id()

    def get(self, ident: UUID) -> Stream:
        last = self._last
        if last[0] is ident:
            return last[1]  # the most recent already (a client's rows come together)
        stream = self._cache.get(ident)
        if stream is None:
            stream = self._load(ident)
            self._cache[ident] = stream
            self._held += len(stream.keys)
        else:
            self._cache.move_to_end(ident)
        self._last = (ident, stream)
        return stream

    def note(self, stream: Stream, events: int, key: Hashable) -> None:
        """The stream's next `events` are recorded (in this run), with the fact `key`."""
        stream.version += events
        stream.keys.add(key)
        self._held += 1

    def committed(self, busy: Callable[[], Container[UUID]] = tuple) -> None:
        """After a commit: drop the least recently used streams beyond the capacity, but none
        of the `busy()` ones (their last batch is still being recorded: read back now, they
        would miss it)."""
        recording: Container[UUID] | None = None  # asked for only if there is a drop to make
        self._last = (None, Stream())  # (it may be dropped)
        while self._held > self.capacity and len(self._cache) > 1:
            ident = next(iter(self._cache))
            if recording is None:
                recording = busy()
            if ident in recording:
                break  # the rest are as recent; they go after a later batch
            stream = self._cache.pop(ident)
            self._held -= len(stream.keys)
            self._dropped[ident] = stream.version if stream.keys == _CREATED_ONLY else None

    def _load(self, ident: UUID) -> Stream:
        if ident not in self._dropped:
            if self._store_was_empty:
                return Stream()  # nothing was in the ledger, and this run committed none of it
        elif (version := self._dropped[ident]) is not None:
            return Stream(version, set(_CREATED_ONLY))
        stream = Stream()
        for stored in self.ledger.recorder.select_events(ident):
            event = self.ledger.mapper.to_domain_event(stored)
            key = presence_key(type(event), dict(event))  # type: ignore[call-overload]
            if key is not None:
                stream.keys.add(key)
            stream.version = stored.originator_version
        return stream


class Writer(Protocol):
    def add(self, unit: Unit, version: int) -> None:
        """Record the unit's events from `version` + 1 on (in the next flush)."""

    def flush(self) -> None:
        """Commit what was added, in one transaction (perhaps still under way on return:
        see `busy` and `sync`)."""

    def sync(self) -> None:
        """Until every flushed batch is committed; the error of one that failed."""

    def close(self) -> None: ...

    @property
    def pending(self) -> int: ...

    @property
    def busy(self) -> Container[UUID]:
        """The aggregates of the batch still being committed."""


@contextmanager
def committing() -> Iterator[None]:
    """A batch that conflicts with another writer is a ConcurrentChange (exit 3)."""
    try:
        yield
    except IntegrityError:
        raise ConcurrentChange(
            "another process recorded events for the same clients during the import; nothing "
            "of the last batch was recorded. Run the import again: it resumes where it stopped"
        ) from None


class FastWriter:
    """Encodes a batch at flush time: first the data keys of the batch's new clients, in one
    transaction (sealing would otherwise make one per client), then every event's state.
    With `use_process`, a second process records each batch while the next is read."""

    def __init__(self, ledger: PracticeLedger, recorded: Recorded | None = None) -> None:
        self.ledger = ledger
        self.encoder = StateEncoder(ledger.mapper)  # type: ignore[arg-type]
        self._units: list[tuple[Unit, int, datetime]] = []
        self._count = 0
        self._process: RecorderProcess | None = None
        self._every_batch = False
        self._busy: deque[list[UUID]] = deque(maxlen=DEPTH)  # the batches maybe in flight
        self._recorded = recorded
        self._sent: deque[list[tuple[str, bytes]]] = deque()  # their plain states, in order

    def use_process(self, every_batch: bool) -> None:
        """Record in a second process: as soon as it is up, or (`every_batch`) from the
        first batch on."""
        self._process = RecorderProcess(self.ledger.settings)
        self._every_batch = every_batch

    @property
    def pending(self) -> int:
        return self._count

    @property
    def busy(self) -> Container[UUID]:
        return set().union(*self._busy)

    def add(self, unit: Unit, version: int) -> None:
        self._units.append((unit, version, datetime.now(UTC)))
        self._count += len(unit.changes)

    def flush(self) -> None:
        if not self._units:
            return
        self._make_keys()
        rows, plain = self._encoded()
        units, self._units, self._count = self._units, [], 0
        with committing():
            if self._process is not None and self._process.ready(wait=self._every_batch):
                self._process.insert(rows)
                self._busy.append([unit.aggregate_id for unit, _, _ in units])
                self._sent.append(plain)
                self._pass_on(self._process)
            else:
                self._pass(insert_rows(self.ledger.recorder, rows), plain)

    def _encoded(self) -> tuple[list[Row], list[tuple[str, bytes]]]:
        """The batch's rows to store, and (for `recorded`) each event's topic and plain state."""
        encode = self.encoder.encode_both
        keep = self._recorded is not None
        rows: list[Row] = []
        plain: list[tuple[str, bytes]] = []
        append, remember = rows.append, plain.append
        for unit, version, now in self._units:
            ident = unit.aggregate_id
            oid = ident.bytes
            for change in unit.changes:
                version += 1
                topic, stored, opened = encode(change.event_class, ident, version,
                                               change.fields, now, keep)
                append((oid, version, topic, stored))
                remember((topic, opened))
        return rows, plain if keep else []

    def _pass_on(self, process: RecorderProcess) -> None:
        """Hand the batches the second process has committed to `recorded`, in order."""
        for positions in process.committed:
            self._pass(positions, self._sent.popleft())
        process.committed.clear()

    def _pass(self, positions: Sequence[int], plain: list[tuple[str, bytes]]) -> None:
        if self._recorded is not None and plain and len(positions) == len(plain):
            self._recorded(positions, plain)

    def sync(self) -> None:
        if self._process is not None:
            with committing():
                self._process.wait()
            self._pass_on(self._process)
        self._busy.clear()
        end_bulk = getattr(self.ledger.recorder, "end_bulk", None)
        if end_bulk is not None:  # (the second process's ends as it closes the ledger)
            end_bulk()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()

    def _make_keys(self) -> None:
        create = getattr(getattr(self.ledger, "keys", None), "create_data_keys", None)
        if create is not None:
            create([u.aggregate_id for u, _, _ in self._units
                    if u.creates and u.aggregate_class is Client])


class DomainWriter:
    """The reference path: each unit through its aggregate (`_create`/`trigger_event`, no
    decision checks), saved by `ledger.save` (snapshots and all)."""

    def __init__(self, ledger: PracticeLedger) -> None:
        self.ledger = ledger
        self._aggregates: dict[UUID, PracticeAggregate] = {}
        self._count = 0

    @property
    def pending(self) -> int:
        return self._count

    @property
    def busy(self) -> Container[UUID]:
        return ()  # each flush is committed on return

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass

    def add(self, unit: Unit, version: int) -> None:
        changes = list(unit.changes)
        if unit.creates:
            first = changes.pop(0)
            fields = {k: v for k, v in first.fields.items() if k != "originator_topic"}
            aggregate = unit.aggregate_class._create(
                first.event_class, id=unit.aggregate_id, **fields)  # type: ignore[arg-type]
            self._aggregates[unit.aggregate_id] = aggregate
        else:
            aggregate = self._aggregate(unit.aggregate_id)
        for change in changes:
            aggregate.trigger_event(change.event_class, **change.fields)  # type: ignore[arg-type]
        if aggregate.version != version + len(unit.changes):
            raise AssertionError(f"{unit.aggregate_id} is at {aggregate.version}, "
                                 f"expected {version + len(unit.changes)}")
        self._count += len(unit.changes)

    def _aggregate(self, ident: UUID) -> PracticeAggregate:
        if ident not in self._aggregates:
            self._aggregates[ident] = self.ledger.repository.get(ident)
        return self._aggregates[ident]

    def flush(self) -> None:
        if not self._aggregates:
            return
        with committing():
            self.ledger.save(*self._aggregates.values())
        self._aggregates.clear()
        self._count = 0


class DryRun:
    """Records nothing: a dry run validates everything and counts what it would record."""

    pending = 0
    busy: tuple[UUID, ...] = ()

    def add(self, unit: Unit, version: int) -> None:
        pass

    def flush(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


def writer_for(ledger: PracticeLedger, fast: bool = True,
               recorded: Recorded | None = None) -> Writer:
    """The fast path where the ledger stores events as `StateEncoder` knows how; else the
    aggregates' own path (any other mapper, e.g. one a later change brings in; nothing is
    passed to `recorded` then: the read models read the log)."""
    if fast and type(ledger.mapper) is PydanticMapper:
        return FastWriter(ledger, recorded)
    return DomainWriter(ledger)
