"""What a projection is: tables, a version, the events it reads, and how it applies them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
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
