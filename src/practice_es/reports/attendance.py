"""Each client's visits, read once per report in client order, and what follows from them:
first visit, completed visits in a window, rebooking after a visit, still coming or not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, select

from practice_es.domain.days import start_of_next_day
from practice_es.projections.visits import visits
from practice_es.reports.window import Window


@dataclass
class Attendance:
    client_id: str
    completed: list[datetime] = field(default_factory=list)  # by then, in time order
    booked: list[Any] = field(default_factory=list)  # rows of every booked visit

    @property
    def first(self) -> datetime | None:
        return self.completed[0] if self.completed else None

    def rebooked(self, done: datetime) -> bool:
        """By the end of that day, was a later visit booked (and not yet cancelled)?"""
        day_end = start_of_next_day(done.date())
        return any(
            v.booked_on < day_end and v.at > done
            and not (v.status == "cancelled" and v.closed_on < day_end)
            for v in self.booked
        )

    def booked_ahead(self, window: Window) -> bool:
        """At the window's end, is a visit after the last completed one still booked?"""
        upper, last = window.upper, (self.completed[-1] if self.completed else None)
        for v in self.booked:
            open_then = v.status == "scheduled" if upper is None else (
                v.booked_on < upper and (v.closed_on is None or v.closed_on >= upper))
            if open_then and (last is None or v.at > last):
                return True
        return False


def attendance(conn: Connection, window: Window) -> Iterator[Attendance]:
    """Every client with a visit, with what had happened by the window's end."""
    v = visits.c
    query = select(v.client_id, v.status, v.booked_on, v.at, v.closed_on).order_by(v.client_id)
    rows = conn.execution_options(yield_per=5000).execute(query)
    for client_id, group in groupby(rows, key=lambda r: r.client_id):
        found = Attendance(client_id)
        for row in group:
            if row.status == "completed" and window.until_end(row.closed_on):
                found.completed.append(row.closed_on)
            if row.booked_on is not None and window.until_end(row.booked_on):
                found.booked.append(row)
        found.completed.sort()
        yield found
