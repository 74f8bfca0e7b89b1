"""Secondary indexes of the read models: left out while a rebuild writes, built once after.

Inserting rows into a table with an index on a random key (a client id) updates the index at a
random place for each row; building the index afterwards takes one sort. A projection keeps
during the rebuild only the indexes its own writes look rows up by (`Projection.lookups`). If
the rebuild dies before the end, the next runner to start (`ensure`) builds whatever index is
missing, so the read models are whole again whatever happened. A projection whose rare writes
need an index it left out builds it then (`build_missing`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Index, inspect
from sqlalchemy import text as sql

from practice_es.projections.base import Projection


def _indexes(projections: Iterable[Projection]) -> list[tuple[Projection, Index]]:
    return [(p, index) for p in projections for table in p.tables
            for index in sorted(table.indexes, key=lambda i: str(i.name))]


def deferrable(projections: Iterable[Projection]) -> list[Index]:
    """The indexes a rebuild can leave out until its rows are written."""
    return [index for p, index in _indexes(projections)
            if not any(c.name in p.lookups for c in index.columns)]


def drop(conn: Connection, indexes: Iterable[Index]) -> None:
    for index in indexes:
        index.drop(conn)


def restore(conn: Connection, projections: Iterable[Projection]) -> None:
    """Build every index of the projections' tables that is missing."""
    build_missing(conn, [index for _, index in _indexes(projections)])


def build_missing(conn: Connection, indexes: Iterable[Index]) -> None:
    """Build those of the indexes that are missing (a rebuild left them out)."""
    wanted = list(indexes)
    if not wanted:
        return
    existing = _index_names(conn)
    for index in wanted:
        if index.name not in existing:
            index.create(conn)


def _index_names(conn: Connection) -> set[str]:
    """Every index in the read models' database, in one query."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    elif dialect == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        found = inspect(conn)
        return {str(i["name"]) for t in found.get_table_names() for i in found.get_indexes(t)}
    return {str(row[0]) for row in conn.execute(sql(query))}
