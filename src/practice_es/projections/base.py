"""What a projection is: tables, a version, the events it reads, and how it applies them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Connection, MetaData, Table

from practice_es.domain.events import DomainEvent

# Every read-model table is declared on this one MetaData, so one `create_all` makes them.
read_models = MetaData()


class Projection:
    """A read model. Subclasses name their tables, bump `version` when the definition changes
    (the runner then rebuilds it from nothing: read models need no schema migrations), and
    apply a page of events at a time inside the runner's transaction."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[Sequence[Table]]
    topics: ClassVar[Sequence[str]] = ()  # the event topics it reads; empty means all

    def apply(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> None:
        raise NotImplementedError

    def row_count(self, conn: Connection) -> int:
        from sqlalchemy import func, select

        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in self.tables)


def hexid(ident: UUID | None) -> str | None:
    return str(ident) if ident is not None else None


def wall(moment: datetime) -> datetime:
    """A business time as stored in read models: the wall-clock time in the practice's zone it
    was recorded in, without the offset (SQLite keeps no zone; day and month boundaries are the
    practice's own, which is what every report groups by)."""
    return moment.replace(tzinfo=None)


def topics_of(*aggregates: type) -> tuple[str, ...]:
    """The topics of every event class nested in the given aggregates (new events included)."""
    found = {
        value.TOPIC
        for aggregate in aggregates
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, DomainEvent) and "TOPIC" in vars(value)
    }
    return tuple(sorted(found))


def dispatch(handler_owner: object, event: DomainEvent, *args: Any) -> None:
    """Call `_on_<EventName>(*args, event)` on the owner if it handles that event."""
    handler = getattr(handler_owner, f"_on_{type(event).__name__}", None)
    if handler is not None:
        handler(*args, event)


class Rows:
    """The rows of one keyed table that a page of events touches: read with one SELECT,
    changed in Python, written back with one INSERT and one UPDATE (executemany). So a page
    costs a handful of statements, not one per event."""

    CHUNK = 500  # ids per IN (…) list, well under every driver's parameter limit

    def __init__(self, table: Table, key: str) -> None:
        self.table = table
        self.key = key
        self.rows: dict[str, dict[str, Any]] = {}
        self._new: set[str] = set()
        self._dirty: set[str] = set()

    def preload(self, conn: Connection, keys: Iterable[str]) -> None:
        from sqlalchemy import select

        wanted = sorted(set(keys) - self.rows.keys())
        column = self.table.c[self.key]
        for start in range(0, len(wanted), self.CHUNK):
            chunk = wanted[start:start + self.CHUNK]
            for row in conn.execute(select(self.table).where(column.in_(chunk))):
                self.rows[row._mapping[self.key]] = dict(row._mapping)

    def preload_touched(self, conn: Connection, touched: Iterable[str],
                        created: Iterable[str]) -> None:
        """Preload the rows a page touches, except those it creates itself: an event that
        creates a row comes before every event that changes it, so those need no read."""
        self.preload(conn, set(touched) - set(created))

    def get(self, key: str) -> dict[str, Any] | None:
        """The row (preloaded or added), marked changed: the caller is about to change it."""
        row = self.rows.get(key)
        if row is not None and key not in self._new:
            self._dirty.add(key)
        return row

    def peek(self, key: str) -> dict[str, Any] | None:
        return self.rows.get(key)

    def add(self, key: str, row: dict[str, Any]) -> None:
        if key in self.rows:  # replayed creation of a row we already have: keep the first
            return
        self.rows[key] = {**row, self.key: key}
        self._new.add(key)

    def flush(self, conn: Connection) -> None:
        from sqlalchemy import bindparam

        if self._new:
            conn.execute(self.table.insert(), [self.rows[k] for k in sorted(self._new)])
        if self._dirty:
            by = "_" + self.key
            statement = self.table.update().where(self.table.c[self.key] == bindparam(by))
            changed = []
            for key in sorted(self._dirty):
                row = {k: v for k, v in self.rows[key].items() if k != self.key}
                changed.append({**row, by: key})
            conn.execute(statement, changed)
        self._new.clear()
        self._dirty.clear()


def insert_all(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)
