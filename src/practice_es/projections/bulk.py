"""Many rows in one statement, straight to the driver.

A rebuild writes about one read-model row per event. Through SQLAlchemy Core's executemany each
row pays for building its parameters, which costs as much as the write itself, so here a
statement is compiled once per table and set of columns, each value goes through its column
type's own bind processor (the very conversion Core would make: a DateTime's text on SQLite, a
personal column sealed), and the driver gets plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, DateTime, Dialect, Table, bindparam
from sqlalchemy.dialects.sqlite.base import DATETIME as SQLITE_DATETIME
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from practice_es.infrastructure.memo import remember
from practice_es.projections.personal import PersonalText, sealing

KEY = "_key"  # the bind name of an UPDATE's row key


@dataclass(frozen=True)
class Prepared:
    sql: str
    names: tuple[str, ...]  # bind names, in the order the driver takes them
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        width = len(self.names)
        if any(len(row) != width for row in rows):  # each row names these columns, no more
            raise ValueError(f"rows of other columns than {sorted(self.names)}")
        pick = itemgetter(*self.names)
        values = [pick(row) for row in rows] if width > 1 else [(pick(row),) for row in rows]
        convert = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        if convert:
            values = [_converted(list(v), convert) for v in values]
        if self.positional:
            return values
        return [dict(zip(self.names, v, strict=True)) for v in values]


def _converted(values: list[Any], convert: list[tuple[int, Callable[[Any], Any]]]
               ) -> tuple[Any, ...]:
    for i, process in convert:
        if values[i] is not None:
            values[i] = process(values[i])
    return tuple(values)


def _processor(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own bind processor, or an exact, faster equal of it. A DateTime
    is written as its wall-clock time, any offset dropped (as `local_time` gives it)."""
    kind = table.c[column].type
    if isinstance(kind, PersonalText) and not sealing(dialect):
        return None  # it would hand every value back as it is
    impl = kind.dialect_impl(dialect)
    process = impl.bind_processor(dialect)
    if process is not None and isinstance(impl, SQLITE_DATETIME) and (
            impl._storage_format == SQLITE_DATETIME._storage_format):
        return _sqlite_datetime(process)
    if isinstance(kind, DateTime):
        return _wall_clock(process)
    return process


def local_time(moment: datetime) -> datetime:
    """A business time as stored in read models: the wall-clock time in the practice's zone it
    was recorded in, without the offset (SQLite keeps no zone; day and month boundaries are the
    practice's own, which is what every report groups by). (Dropping the offset here costs
    less than working it out for the text SQLite stores; the bulk writer drops any left.)
    Made by `combine` of its date and time (the time without its zone): the same value as
    `replace(tzinfo=None)`, without the keyword parsing `replace` does on every call."""
    return datetime.combine(moment.date(), moment.time())


_TEXTS: dict[datetime, str] = {}  # every DateTime column's, at most _TEXTS_KEPT (a few MB)
_TEXTS_KEPT = 50_000


def _sqlite_datetime(general: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite's DATETIME text ("2026-01-05 09:00:00.000000", the offset left out) made by
    `isoformat` in C rather than by formatting a dict of its parts (of a time with an offset,
    of the time without it: working the offset out for isoformat costs more than dropping it).
    A wall-clock time's text is remembered: a log names the same times over and over (visits
    on the hour), and a lookup is cheaper than isoformat (a naive time hashes in C)."""
    texts = _TEXTS

    def process(value: Any) -> Any:
        if type(value) is datetime:
            if value.tzinfo is not None:
                value = local_time(value)
            text = texts.get(value)
            if text is None:
                text = remember(texts, value, value.isoformat(" ", "microseconds")[:26],
                                _TEXTS_KEPT)
            return text
        return general(value)

    return process


def _wall_clock(general: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is not None:
            value = local_time(value)
        return value if general is None else general(value)

    return process


_prepared: dict[tuple[Any, ...], Prepared] = {}


def _prepare(dialect: Dialect, table: Table, statement: ClauseElement,
             columns: dict[str, str]) -> Prepared:
    """Compile once; `columns` maps each bind name to the column whose type converts it."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(columns)
    processors = tuple(_processor(table, columns[name], dialect) for name in names)
    return Prepared(str(compiled), names, processors, compiled.positional)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (each a dict of the same columns)."""
    if not rows:
        return
    columns = tuple(rows[0])
    key = (conn.dialect, sealing(conn.dialect), table.name, "insert", columns)
    prepared = _prepared.get(key)
    if prepared is None:
        statement = table.insert().values({c: bindparam(c) for c in columns})
        prepared = _prepared[key] = _prepare(conn.dialect, table, statement,
                                             {c: c for c in columns})
    _execute(conn, prepared, rows)


def update_rows(conn: Connection, table: Table, key_column: str, columns: tuple[str, ...],
                rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE `columns` of each row found by its key (the key under `KEY` in each dict)."""
    if not rows:
        return
    key = (conn.dialect, sealing(conn.dialect), table.name, "update", key_column, columns)
    prepared = _prepared.get(key)
    if prepared is None:
        statement = (table.update().where(table.c[key_column] == bindparam(KEY))
                     .values({c: bindparam(c) for c in columns}))
        prepared = _prepared[key] = _prepare(conn.dialect, table, statement,
                                             {**{c: c for c in columns}, KEY: key_column})
    _execute(conn, prepared, rows)


def _execute(conn: Connection, prepared: Prepared, rows: Sequence[dict[str, Any]]) -> None:
    conn.exec_driver_sql(prepared.sql, prepared.parameters(rows))
