"""Catch-up and rebuild: pull the event log, page by page, into every read model.

Pull-based (not eventsourcing's ProjectionRunner, whose `subscribe()` the SQLite recorder
lacks), so the same code runs on both backends. Each page is one transaction that applies the
events and moves each projection's position together: exactly once, even when two processes
catch up at the same moment (they serialise on a lock and re-read the positions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Engine, Integer, String, Table, create_engine, event
from sqlalchemy import text as sql

from practice_es.domain.events import DomainEvent
from practice_es.projections.base import Projection, read_models
from practice_es.projections.personal import attach_cells

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger

PAGE_SIZE = 2000
Progress = Callable[[int, int], None]  # (events done, events in all)

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


def build_engine(ledger: PracticeLedger) -> Engine:
    location = ledger.location
    if location.backend == "sqlite":
        engine = create_engine(location.sqlalchemy_url())

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            dbapi_conn.execute("PRAGMA busy_timeout = 30000")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Take the write lock first, so two catch-ups never apply the same page.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = {"connect_timeout": 5}
    if location.schema:
        connect_args["options"] = f"-csearch_path={location.schema}"  # type: ignore[assignment]
    return create_engine(location.sqlalchemy_url(), connect_args=connect_args)


class ProjectionRunner:
    def __init__(
        self, ledger: PracticeLedger, projections: Sequence[Projection],
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
        self._ready = False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(sql("SELECT pg_advisory_xact_lock(7301)"))
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- positions -----------------------------------------------------------------------

    def _positions(self, conn: Connection) -> dict[str, tuple[int, int]]:
        rows = conn.execute(positions.select()).all()
        return {row.name: (row.version, row.position) for row in rows}

    def ensure(self) -> None:
        """Create the tables; a projection whose definition changed is reset to rebuild."""
        if self._ready:
            return
        with self.transaction() as conn:
            read_models.create_all(conn)
            known = self._positions(conn)
            for name, projection in self.projections.items():
                if known.get(name, (None, 0))[0] != projection.version:
                    self._reset(conn, projection)
        self._ready = True

    def _reset(self, conn: Connection, projection: Projection) -> None:
        for table in projection.tables:
            table.drop(conn, checkfirst=True)
            table.create(conn)
        conn.execute(positions.delete().where(positions.c.name == projection.name))
        conn.execute(positions.insert().values(
            name=projection.name, version=projection.version, position=0))

    def rebuild(self, names: Sequence[str] = (), progress: Progress | None = None) -> int:
        """Empty the named projections (all if none named) and replay the log into them."""
        self.ensure()
        chosen = [self.projection(n) for n in names] or list(self.projections.values())
        with self.transaction() as conn:
            for projection in chosen:
                self._reset(conn, projection)
        return self.catch_up(progress)

    def projection(self, name: str) -> Projection:
        from practice_es.domain.errors import InvalidInput

        if name not in self.projections:
            known = ", ".join(sorted(self.projections))
            raise InvalidInput("projection", f"'{name}' is not a projection ({known})")
        return self.projections[name]

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

    # -- catching up ---------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event recorded since each projection's position. Returns how many."""
        self.ensure()
        head = self.ledger.recorder.max_notification_id() or 0
        applied = 0
        while True:
            with self.transaction() as conn:
                moved = self._catch_up_page(conn, head)
            if moved is None:
                return applied
            start, last = moved
            applied += last - start
            if progress is not None:
                progress(last, head)

    def _topics(self) -> tuple[str, ...]:
        projections = self.projections.values()
        if any(not p.topics for p in projections):
            return ()
        return tuple(sorted({t for p in projections for t in p.topics}))

    def _catch_up_page(self, conn: Connection, head: int) -> tuple[int, int] | None:
        known = self._positions(conn)
        current = {name: known.get(name, (0, 0))[1] for name in self.projections}
        start = min(current.values(), default=head)
        if start >= head:
            return None
        notes = self.ledger.recorder.select_notifications(
            start=start, limit=PAGE_SIZE, stop=head, topics=self._topics(),
            inclusive_of_start=False,
        )
        last = notes[-1].id if len(notes) == PAGE_SIZE else head
        decoded = [(n.id, n.topic, self.ledger.mapper.to_domain_event(n)) for n in notes]
        if self.keep is not None:
            decoded = [d for d in decoded if self.keep(d[2])]  # type: ignore[arg-type]
        for name, projection in self.projections.items():
            self._apply(conn, projection, current[name], decoded)
            if current[name] < last:
                conn.execute(positions.update().where(positions.c.name == name)
                             .values(position=last))
        return start, last

    @staticmethod
    def _apply(
        conn: Connection, projection: Projection, position: int,
        decoded: Sequence[tuple[int, str, Any]],
    ) -> None:
        wanted = set(projection.topics)
        batch: list[tuple[int, DomainEvent]] = [
            (n, e) for n, topic, e in decoded
            if n > position and (not wanted or topic in wanted)
        ]
        if batch:
            projection.apply(conn, batch)
