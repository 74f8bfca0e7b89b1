"""What a projection is: tables, a version, the events it reads, and how it applies them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import BigInteger, Connection, Integer, MetaData, Table

from practice_es.domain.events import DomainEvent
from practice_es.infrastructure.memo import remember
from practice_es.projections.bulk import KEY, insert_rows, update_rows
from practice_es.projections.bulk import (
    local_time as local_time,  # (defined beside the bulk writer)
)

# Every read-model table is declared on this one MetaData, so one `create_all` makes them.
read_models = MetaData()

# A log position as a key. On SQLite an INTEGER primary key is the row id itself, so a row
# is written once, not once more into a separate index.
Position = BigInteger().with_variant(Integer(), "sqlite")


Write = Callable[[Connection], None]


class Projection:
    """A read model. Subclasses name their tables, bump `version` when the definition changes
    (the runner then rebuilds it from nothing: read models need no schema migrations), and
    apply a page of events at a time inside the runner's transaction.

    Applying a page has two halves: `prepare` reads what the page needs and works out every
    row (no writes), and returns the writes, which the runner makes under the write lock. So
    two processes rebuilding different projections do their work at the same time and only
    take turns to write."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[Sequence[Table]]
    topics: ClassVar[Sequence[str]] = ()  # the event topics it reads; empty means all
    weight: ClassVar[float] = 1.0  # its share of a rebuild's work, to split one in two
    # Columns its own writes find rows by, other than a key: their indexes stay in a rebuild.
    lookups: ClassVar[tuple[str, ...]] = ()
    # The topics whose personal (sealed) fields it reads; None: any topic's. A replay whose
    # projections all name theirs leaves the other topics' sealed fields shut (decoding.py):
    # reading one of those fails with AttributeError, so a topic left out cannot go unseen.
    reads_personal_of: ClassVar[frozenset[str] | None] = None

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        raise NotImplementedError

    def apply(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> None:
        self.prepare(conn, events)(conn)

    def row_count(self, conn: Connection) -> int:
        from sqlalchemy import func, select

        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in self.tables)


_TEXTS: dict[int, str] = {}
_TEXTS_KEPT = 200_000


def text_id(ident: UUID | None) -> str:
    """An id as read models keep it. Cached by its number (a UUID's own hash is Python code):
    a page names each id many times over (its events, each projection's keys), and printing
    a UUID is slow next to a lookup."""
    if type(ident) is not UUID:  # as str() prints it ("None" too: some keys are optional)
        return str(ident)
    number = ident.int
    text = _TEXTS.get(number)
    if text is None:
        text = remember(_TEXTS, number, str(ident), _TEXTS_KEPT)
    return text


def optional_text_id(ident: UUID | None) -> str | None:
    return text_id(ident) if ident is not None else None


def topics_of(*aggregates: type) -> tuple[str, ...]:
    """The topics of every event class nested in the given aggregates (new events included).
    (pydantic keeps a model's class variables out of its `vars`: look the topic up.)"""
    found = {
        value.TOPIC
        for aggregate in aggregates
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, DomainEvent)
        and isinstance(getattr(value, "TOPIC", None), str)
    }
    return tuple(sorted(found))


_HANDLERS: dict[tuple[type, type], Callable[..., None] | None] = {}


def dispatch(handler_owner: object, event: DomainEvent, *args: Any) -> None:
    """Call `_on_<EventName>(*args, event)` on the owner if it handles that event. (The
    handler is looked up once per class of owner and event: a rebuild dispatches every
    event of the log, so building its name each time would be repeated millions of times.)"""
    kinds = (type(handler_owner), type(event))
    try:
        handler = _HANDLERS[kinds]
    except KeyError:
        handler = _HANDLERS[kinds] = getattr(kinds[0], f"_on_{kinds[1].__name__}", None)
    if handler is not None:
        handler(handler_owner, *args, event)


class Rows:
    """The rows of one keyed table that a page of events touches: read with one SELECT,
    changed in Python, written back with one INSERT and an UPDATE per set of changed columns
    (executemany). So a page costs a handful of statements, not one per event."""

    CHUNK = 500  # ids per IN (…) list, well under every driver's parameter limit

    def __init__(self, table: Table, key: str) -> None:
        self.table = table
        self.key = key
        self.rows: dict[str, dict[str, Any]] = {}
        self._stored: dict[str, dict[str, Any]] = {}  # preloaded rows as read
        self._new: set[str] = set()
        self._dirty: set[str] = set()

    def preload(self, conn: Connection, keys: Iterable[str]) -> None:
        from sqlalchemy import select

        wanted = sorted(set(keys) - self.rows.keys())
        column = self.table.c[self.key]
        for start in range(0, len(wanted), self.CHUNK):
            chunk = wanted[start:start + self.CHUNK]
            for row in conn.execute(select(self.table).where(column.in_(chunk))):
                key = row._mapping[self.key]
                self._stored[key] = dict(row._mapping)
                self.rows[key] = dict(row._mapping)

    def preload_touched(self, conn: Connection, touched: Iterable[str],
                        created: Iterable[str]) -> None:
        """Preload the rows a page touches, except those it creates itself: an event that
        creates a row comes before every event that changes it, so those need no read."""
        self.preload(conn, set(touched) - set(created))

    def get(self, key: str) -> dict[str, Any] | None:
        """The row (preloaded or added), marked changed: the caller is about to change it."""
        row = self.rows.get(key)
        if row is not None and key not in self._new:
            if key not in self._stored:  # added, flushed, untouched since: as written
                self._stored[key] = dict(row)
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
        if self._new:
            # (not copied as written now: `get` does, for the few changed again after)
            insert_rows(conn, self.table, [self.rows[k] for k in sorted(self._new)])
        for columns, changed in self._changes().items():
            update_rows(conn, self.table, self.key, columns, changed)
        self._new.clear()
        self._dirty.clear()

    def _changes(self) -> dict[tuple[str, ...], list[dict[str, Any]]]:
        """The changed rows, grouped by which columns changed (only those are written: a
        personal column is sealed again only when it changed)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for key in sorted(self._dirty):
            row, stored = self.rows[key], self._stored[key]
            changed = {k: v for k, v in row.items() if v != stored[k]}
            if changed:
                groups.setdefault(tuple(sorted(changed)), []).append({**changed, KEY: key})
                stored.update(changed)
        return groups


def insert_all(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, table, rows)


def inserting(table: Table, rows: list[dict[str, Any]]) -> Write:
    """The write that inserts the rows."""
    return lambda conn: insert_rows(conn, table, rows)
