"""Catch-up and rebuild: pull the event log, page by page, into every read model.

Pull-based (not eventsourcing's ProjectionRunner, whose `subscribe()` the SQLite recorder
lacks), so the same code runs on both backends. Each page is one transaction that applies the
events and moves each projection's position together: exactly once, even when two processes
catch up at the same moment (they serialise on a lock and re-read the positions).

A page can also be worked out outside the lock (`optimistic`): read the positions, the events
and the rows the page changes from one snapshot, then take the lock, check the positions have
not moved, and write. Two processes rebuilding different projections (parallel.py) so use both
cores and only take turns to write. Rows at a position are a function of the log up to it, so
an unmoved position means the snapshot's rows are still the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import Column, Connection, Engine, Integer, String, Table, bindparam
from sqlalchemy.exc import DBAPIError

from practice_es.domain.events import DomainEvent
from practice_es.infrastructure.processes import rare_collections
from practice_es.projections import indexes, parallel
from practice_es.projections.base import Projection, Write, read_models
from practice_es.projections.decoding import EventDecoder, LogReader, RawEvent
from practice_es.projections.engine import build_engine, fold_wal, reading, writing
from practice_es.projections.personal import attach_cells

if TYPE_CHECKING:
    from practice_es.infrastructure.ledger_store import LedgerStore

# Events per transaction: big enough that a rebuild's per-page statements and commits are
# noise, small enough that a page's decoded events stay a few tens of MB.
PAGE_SIZE = 10_000
PAGES_PER_TRANSACTION = 5  # a catch-up of one action is one page; a rebuild, 50,000 events
Progress = Callable[[int, int], None]  # (events done, events in all)
Positions = dict[str, tuple[int, int]]  # projection name -> (version, position)

positions = Table(
    "rm_positions",
    read_models,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
)


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    version: int
    position: int
    head: int
    rows: int

    @property
    def behind(self) -> int:
        return max(self.head - self.position, 0)


@dataclass(frozen=True)
class Lag:
    """How far the read models are behind the log: the events not yet applied, and how long
    ago the first of them was recorded (0 when caught up)."""

    events: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.events} events ({self.seconds:.0f} s) behind the log"


@dataclass
class Page:
    """One page worked out: the writes to make, and where each projection then stands."""

    start: int
    last: int
    writes: list[Write] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # projections whose position becomes last

    def write(self, conn: Connection) -> None:
        for write in self.writes:
            write(conn)
        if self.moved:
            conn.execute(positions.update().where(positions.c.name == bindparam("_name"))
                         .values(position=self.last),
                         [{"_name": name} for name in self.moved])


class ProjectionRunner:
    def __init__(
        self, ledger: LedgerStore, projections: Sequence[Projection],
        engine: Engine | None = None, keep: Callable[[DomainEvent], bool] | None = None,
    ) -> None:
        """By default the read models live in the ledger's own database. A scratch `engine`
        and a `keep` filter build them elsewhere from part of the log (reports as known at a
        past moment: only the events recorded by then)."""
        self.ledger = ledger
        self.projections = {p.name: p for p in projections}
        self.engine = engine if engine is not None else build_engine(ledger)
        attach_cells(self.engine, ledger.keys.cells)  # personal text sealed at rest (ADR 5)
        self.keep = keep
        self.own_database = engine is None
        self.reader = LogReader(ledger)
        self.decoder = EventDecoder(ledger.mapper)  # type: ignore[arg-type]
        self.decoder.opened = _opened(projections)
        self._ready = False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with writing(self.engine) as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- positions -----------------------------------------------------------------------

    def _positions(self, conn: Connection) -> Positions:
        rows = conn.execute(positions.select()).all()
        return {row.name: (row.version, row.position) for row in rows
                if row.name in self.projections}

    def ensure(self) -> None:
        """Create the tables; a projection whose definition changed is reset to rebuild; an
        index a rebuild left out (it died before the end) is built."""
        if self._ready:
            return
        if self.read_only:
            self._ready = True  # as they were stored: nothing can be written
            return
        with self.transaction() as conn:
            read_models.create_all(conn)
            known = self._positions(conn)
            for name, projection in self.projections.items():
                if known.get(name, (None, 0))[0] != projection.version:
                    self._reset(conn, projection)
            indexes.restore(conn, self.projections.values())
        self._ready = True

    def _reset(self, conn: Connection, projection: Projection) -> None:
        for table in projection.tables:
            table.drop(conn, checkfirst=True)
            table.create(conn)
        conn.execute(positions.delete().where(positions.c.name == projection.name))
        conn.execute(positions.insert().values(
            name=projection.name, version=projection.version, position=0))

    def rebuild(self, names: Sequence[str] = (), progress: Progress | None = None) -> int:
        """Empty the named projections (all if none named) and replay the log into them,
        their secondary indexes left out until the rows are written (indexes.py); in two
        processes if asked for (parallel.py)."""
        self.ensure()
        chosen = [self.projection(n) for n in names] or list(self.projections.values())
        deferred = indexes.deferrable(chosen)
        with self.transaction() as conn:
            for projection in chosen:
                self._reset(conn, projection)
            indexes.drop(conn, deferred)
        try:
            return self._replay(chosen, progress)
        finally:
            with self.transaction() as conn:
                indexes.restore(conn, chosen)
            if self.own_database:
                fold_wal(self.engine)

    def _replay(self, chosen: Sequence[Projection], progress: Progress | None) -> int:
        """Catch every projection up; the chosen ones (just emptied) in two processes if
        worth it. Returns how many log positions were replayed."""
        head = self.ledger.recorder.max_notification_id() or 0
        if not (self.own_database and self.keep is None and parallel.worth_it(chosen, head)):
            return self.catch_up(progress)
        here, there = parallel.split(chosen)
        with parallel.alongside(parallel.start_child(self.ledger.settings, there)):
            applied = self.subset(here).catch_up(progress, optimistic=True)
        return applied + self.catch_up(progress)  # what the child left, and any new events

    def subset(self, projections: Sequence[Projection]) -> ProjectionRunner:
        """A runner of some of these projections on the same engine (ensured already)."""
        runner = ProjectionRunner(self.ledger, projections, self.engine, self.keep)
        runner.own_database = self.own_database
        runner._ready = True
        return runner

    def projection(self, name: str) -> Projection:
        from practice_es.domain.errors import InvalidInput

        if name not in self.projections:
            known = ", ".join(sorted(self.projections))
            raise InvalidInput("projection", f"'{name}' is not a projection ({known})")
        return self.projections[name]

    @property
    def read_only(self) -> bool:
        """The read models live in a ledger this process cannot write (a read-only copy), or
        are read as they are on a standby (PRACTICE_CATCH_UP=off): never created, reset or
        caught up (a scratch engine, as `--as-known-at` uses, is written as ever)."""
        return self.own_database and (self.ledger.location.read_only
                                      or self.ledger.settings.catch_up == "off")

    def behind_by(self) -> int:
        """How many events the furthest-behind read model has not applied."""
        head = self.ledger.recorder.max_notification_id() or 0
        with self.engine.connect() as conn:
            known = self._positions(conn)
        return max((head - known.get(name, (0, 0))[1] for name in self.projections), default=0)

    def status(self) -> list[ProjectionStatus]:
        self.ensure()
        head = self.ledger.recorder.max_notification_id() or 0
        with self.engine.connect() as conn:
            known = self._positions(conn)
            return [
                ProjectionStatus(name, p.version, known.get(name, (0, 0))[1], head,
                                 p.row_count(conn))
                for name, p in self.projections.items()
            ]

    def lag(self, now: datetime | None = None) -> Lag:
        """How far the furthest-behind projection is from the log's head (reads only)."""
        head = self.ledger.recorder.max_notification_id() or 0
        try:
            with self.engine.connect() as conn:
                known = self._positions(conn)
        except DBAPIError:  # no read models yet: every event is still to apply
            known = {}
        position = min((known.get(name, (0, 0))[1] for name in self.projections), default=head)
        if position >= head:
            return Lag(0, 0.0)
        first = self.ledger.recorder.select_notifications(start=position + 1, limit=1)
        event = cast(DomainEvent, self.ledger.mapper.to_domain_event(first[0])) if first else None
        recorded = event.timestamp if event is not None else None
        moment = now or datetime.now(UTC)
        seconds = (moment - recorded).total_seconds() if recorded is not None else 0.0
        return Lag(head - position, max(seconds, 0.0))

    # -- catching up ---------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None, optimistic: bool = False,
                 until: int | None = None) -> int:
        """Apply every event recorded since each projection's position, up to `until` if
        given; returns how many. `optimistic`: see the module's notes."""
        self.ensure()
        if self.read_only:
            return 0  # `behind_by` and `lag` say how far they lag
        head = min(self.ledger.recorder.max_notification_id() or 0, until or 1 << 62)
        step = self._optimistic_page if optimistic else self._locked_page
        applied = 0
        with rare_collections(young=20_000):
            while (page := step(head)) is not None:
                applied += page.last - page.start
                if progress is not None:
                    progress(page.last, head)
        return applied

    def _locked_page(self, head: int) -> Page | None:
        """Up to PAGES_PER_TRANSACTION pages in one transaction (each sees the rows the one
        before wrote): a commit rewrites every index page the transaction touched, so fewer
        commits write much less."""
        with self.transaction() as conn:
            first = last = None
            for _ in range(PAGES_PER_TRANSACTION):
                page = self._work_out(conn, self._positions(conn), head)
                if page is None:
                    break
                page.write(conn)
                first, last = first or page, page
            return None if first is None or last is None else Page(first.start, last.last)

    def _optimistic_page(self, head: int) -> Page | None:
        while True:
            with reading(self.engine) as conn:
                known = self._positions(conn)
                page = self._work_out(conn, known, head)
            if page is None:
                return None
            with self.transaction() as conn:
                if self._positions(conn) == known:
                    page.write(conn)
                    return page
            # Another process applied these events meanwhile: work the page out again.

    def _work_out(self, conn: Connection, known: Positions, head: int) -> Page | None:
        """Read the next page of events and prepare every projection that is behind."""
        current = {name: known.get(name, (0, 0))[1] for name in self.projections}
        behind = [p for p in self.projections.values() if current[p.name] < head]
        if not behind:
            return None
        start = min(current[p.name] for p in behind)
        raw = self.reader.page(start, head, PAGE_SIZE, _topics(behind))
        last = raw[-1].position if len(raw) == PAGE_SIZE else head
        decoded = self._decode(raw, behind, current)
        page = Page(start, last, moved=[p.name for p in behind if current[p.name] < last])
        for projection, batch in _batches(decoded, behind, current):
            page.writes.append(projection.prepare(conn, batch))
        return page

    def _decode(self, raw: Sequence[RawEvent], behind: Sequence[Projection],
                current: dict[str, int]) -> list[tuple[int, str, DomainEvent]]:
        """The page's events that some projection still needs, decoded."""
        needed = raw  # (a rebuild: every projection is before the page, none is skipped)
        if raw and any(current[p.name] >= raw[0].position for p in behind):
            after, default = _needed_after(behind, current)
            needed = [r for r in raw if r.position > after.get(r.topic, default)]
        events = self.decoder.decode_page(needed)
        decoded = [(r.position, r.topic, e) for r, e in zip(needed, events, strict=True)]
        if self.keep is not None:
            decoded = [d for d in decoded if self.keep(d[2])]
        return decoded


def _batches(decoded: Sequence[tuple[int, str, DomainEvent]], behind: Sequence[Projection],
             current: dict[str, int]) -> list[tuple[Projection, list[tuple[int, DomainEvent]]]]:
    """Each projection's events of the page: those it reads (no topics: every one), after
    its position."""
    wanted = [frozenset(p.topics) for p in behind]
    batches: list[list[tuple[int, DomainEvent]]] = [[] for _ in behind]
    if decoded and all(current[p.name] < decoded[0][0] for p in behind):
        # The usual case, every projection needs all of the page it reads: one pass.
        targets: dict[str, list[Callable[[tuple[int, DomainEvent]], None]]] = {}
        for position, topic, event in decoded:
            appends = targets.get(topic)
            if appends is None:
                appends = targets[topic] = [
                    batch.append for batch, topics in zip(batches, wanted, strict=True)
                    if not topics or topic in topics]
            pair = (position, event)
            for append in appends:
                append(pair)
    else:  # some have part of the page already (one rebuilt alone, a catch-up racing)
        for batch, topics, projection in zip(batches, wanted, behind, strict=True):
            after = current[projection.name]
            batch.extend((n, e) for n, t, e in decoded
                         if n > after and (not topics or t in topics))
    return [(p, batch) for p, batch in zip(behind, batches, strict=True) if batch]


def _opened(projections: Sequence[Projection]) -> frozenset[str] | None:
    """The topics whose personal fields the projections read (None: any topic's)."""
    opened: set[str] = set()
    for projection in projections:
        if projection.reads_personal_of is None:
            return None
        opened |= projection.reads_personal_of
    return frozenset(opened)


def _topics(projections: Sequence[Projection]) -> tuple[str, ...]:
    """The topics the projections read (none: every topic)."""
    if any(not p.topics for p in projections):
        return ()
    return tuple(sorted({t for p in projections for t in p.topics}))


def _needed_after(projections: Sequence[Projection], current: dict[str, int]
                  ) -> tuple[dict[str, int], float]:
    """Per topic, the lowest position of the projections that read it, and that of those that
    read every topic for any other: an event at or before it is applied wherever it goes
    already (a projection rebuilt alone), so it is not decoded again."""
    every = min((current[p.name] for p in projections if not p.topics), default=float("inf"))
    after: dict[str, int] = {}
    for projection in projections:
        for topic in projection.topics:
            after[topic] = int(min(after.get(topic, every), current[projection.name]))
    return after, every
