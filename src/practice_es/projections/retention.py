"""Which clients a retention sweep looks at (SPEC §12), found over the read models: each
client's last activity is the latest business date of any event of theirs, their programs'
or their referrals' (the timeline holds one row per such event)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, func, select

from practice_es.projections.clients import client_directory
from practice_es.projections.timeline import timeline
from practice_es.projections.visits import visits


def retention_candidates(conn: Connection, cutoff: date, as_of: date) -> list[tuple[str, date]]:
    """(client id, last activity) of the clients not erased whose last activity is before
    `cutoff` and who hold no booking on or after `as_of`, in client id order. The aggregate
    makes the final decision (a minor's age, a booking made since the read models caught up)."""
    last = func.max(timeline.c.happened_on).label("last")
    booked = (select(visits.c.client_id)
              .where(visits.c.status == "scheduled",
                     visits.c.at >= datetime.combine(as_of, datetime.min.time())))
    query = (select(timeline.c.client_id, last)
             .join(client_directory, client_directory.c.client_id == timeline.c.client_id)
             .where(client_directory.c.status != "erased",
                    timeline.c.client_id.not_in(booked))
             .group_by(timeline.c.client_id)
             .having(last < datetime.combine(cutoff, datetime.min.time()))
             .order_by(timeline.c.client_id))
    return [(row.client_id, _day(row.last)) for row in conn.execute(query)]


def _day(value: datetime | str) -> date:
    """SQLite gives the aggregate's value back as text, PostgreSQL as a datetime."""
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).date()
