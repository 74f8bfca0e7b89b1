"""Many rows in one statement, straight to the driver.

A rebuild writes about one read-model row per event. Through SQLAlchemy Core's executemany
each row pays for building its parameters (several microseconds, as much as the write itself),
so here a statement is compiled once per table and set of columns, each value goes through its
column type's own bind processor (the very conversion Core would make: a DateTime's text on
SQLite, a personal column sealed), and the driver gets plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

KEY = "_key"  # the bind name of an UPDATE's row key


@dataclass(frozen=True)
class Prepared:
    sql: str
    names: tuple[str, ...]  # bind names, in the order the driver takes them
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]] | list[
            dict[str, Any]]:
        convert = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        values = [_values(row, self.names) for row in rows]
        for i, process in convert:
            for row_values in values:
                if row_values[i] is not None:
                    row_values[i] = process(row_values[i])
        if self.positional:
            return [tuple(v) for v in values]
        return [dict(zip(self.names, v, strict=True)) for v in values]


def _values(row: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    if len(row) != len(names):  # every row must name the same columns, no more
        raise ValueError(f"row of columns {sorted(row)}, statement of {sorted(names)}")
    return [row[name] for name in names]


_prepared: dict[tuple[Any, ...], Prepared] = {}


def _prepare(dialect: Dialect, table: Table, statement: ClauseElement,
             columns: dict[str, str]) -> Prepared:
    """Compile once; `columns` maps each bind name to the column whose type converts it."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(columns)
    processors = tuple(
        table.c[columns[name]].type.dialect_impl(dialect).bind_processor(dialect)
        for name in names)
    return Prepared(str(compiled), names, processors, compiled.positional)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (each a dict of the same columns)."""
    if not rows:
        return
    columns = tuple(rows[0])
    key = (conn.dialect, table.name, "insert", columns)
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
    key = (conn.dialect, table.name, "update", key_column, columns)
    prepared = _prepared.get(key)
    if prepared is None:
        statement = (table.update().where(table.c[key_column] == bindparam(KEY))
                     .values({c: bindparam(c) for c in columns}))
        prepared = _prepared[key] = _prepare(conn.dialect, table, statement,
                                             {**{c: c for c in columns}, KEY: key_column})
    _execute(conn, prepared, rows)


def _execute(conn: Connection, prepared: Prepared, rows: Sequence[dict[str, Any]]) -> None:
    conn.exec_driver_sql(prepared.sql, prepared.parameters(rows))
