"""A client's status at the end of a window, from the recorded facts (never guessed): active
after a completed visit, lapsed from a recorded `Lapsed` until `Reactivated`."""

from __future__ import annotations

from sqlalchemy import Connection, select

from practice_es.projections.lapses import client_marks
from practice_es.projections.visits import visits
from practice_es.reports.kept import among
from practice_es.reports.window import Window


def lapsed_at_end(conn: Connection, window: Window,
                  ids: list[str] | None = None) -> dict[str, str]:
    """Client id -> when they lapsed, for every client (of `ids`) lapsed at the window's end."""
    m = client_marks.c
    query = (among(select(m.client_id, m.kind, m.happened_on), m.client_id, ids)
             .where(m.kind.in_(("lapsed", "reactivated")))
             .order_by(m.happened_on, m.position))
    lapsed: dict[str, str] = {}
    for row in conn.execute(query):
        if not window.until_end(row.happened_on):
            continue
        if row.kind == "lapsed":
            lapsed[row.client_id] = row.happened_on.date().isoformat()
        else:
            lapsed.pop(row.client_id, None)
    return lapsed


def visited_by_end(conn: Connection, window: Window, ids: list[str] | None = None) -> set[str]:
    """Clients (of `ids`) with a completed visit by the window's end."""
    v = visits.c
    if ids is not None:  # their own visits, by the client index (the status one reads all)
        query = among(select(v.client_id, v.status, v.closed_on), v.client_id, ids)
        return {row.client_id for row in conn.execute(query)
                if row.status == "completed" and window.until_end(row.closed_on)}
    query = select(v.client_id).where(v.status == "completed").distinct()
    if window.upper is not None:
        query = query.where(v.closed_on < window.upper)
    return {row.client_id for row in conn.execute(query)}
