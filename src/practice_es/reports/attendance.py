"""Each client's visits, read once per report in client order, and what follows from them:
first visit, completed visits in a window, rebooking after a visit, still coming or not."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, select

from practice_es.domain.days import start_of_next_day
from practice_es.projections.visits import visits
from practice_es.reports.window import Window

BATCH = 500  # client ids per query when reading only some clients


@dataclass
class Attendance:
    client_id: str
    completed: list[datetime] = field(default_factory=list)  # by then, in time order
    treated: list[tuple[datetime, str | None]] = field(default_factory=list)  # and by whom
    booked: list[Any] = field(default_factory=list)  # rows of every booked visit

    @property
    def first(self) -> datetime | None:
        return self.completed[0] if self.completed else None

    def rebooked(self, done: list[datetime]) -> list[bool]:
        """For each completed visit: by the end of its day, was a later visit booked (and not
        cancelled by then)? One sweep from the latest visit, adding each booking once it is
        later than the visit, so a client with many visits is not read once per visit."""
        later = sorted(self.booked, key=lambda v: v.at, reverse=True)
        earliest_kept: datetime | None = None  # the earliest booking never cancelled
        cancelled: list[tuple[datetime, datetime]] = []  # (booked, cancelled) of the others
        flags, i = [False] * len(done), 0
        for n in sorted(range(len(done)), key=done.__getitem__, reverse=True):
            while i < len(later) and later[i].at > done[n]:
                v, i = later[i], i + 1
                if v.status == "cancelled":
                    cancelled.append((v.booked_on, v.closed_on))
                elif earliest_kept is None or v.booked_on < earliest_kept:
                    earliest_kept = v.booked_on
            day_end = start_of_next_day(done[n].date())
            flags[n] = (earliest_kept is not None and earliest_kept < day_end) or any(
                booked < day_end <= gone for booked, gone in cancelled)
        return flags

    def booked_ahead(self, window: Window) -> bool:
        """At the window's end, is a visit after the last completed one still booked?"""
        upper, last = window.upper, (self.completed[-1] if self.completed else None)
        for v in self.booked:
            open_then = v.status == "scheduled" if upper is None else (
                v.booked_on < upper and (v.closed_on is None or v.closed_on >= upper))
            if open_then and (last is None or v.at > last):
                return True
        return False


def attendance(conn: Connection, window: Window,
               only: Collection[str] | None = None) -> Iterator[Attendance]:
    """Every client with a visit (or `only` those), with what had happened by the window's end."""
    if only is None:
        yield from _attendance(conn, window, None)
        return
    ids = sorted(only)
    for start in range(0, len(ids), BATCH):
        yield from _attendance(conn, window, ids[start:start + BATCH])


def _attendance(conn: Connection, window: Window, ids: list[str] | None
                ) -> Iterator[Attendance]:
    v = visits.c
    query = (select(v.client_id, v.status, v.booked_on, v.at, v.closed_on, v.practitioner)
             .order_by(v.client_id))
    if ids is not None:
        query = query.where(v.client_id.in_(ids))
    rows = conn.execution_options(yield_per=5000).execute(query)
    for client_id, group in groupby(rows, key=lambda r: r.client_id):
        found = Attendance(client_id)
        for row in group:
            if row.status == "completed" and window.until_end(row.closed_on):
                found.completed.append(row.closed_on)
                found.treated.append((row.closed_on, row.practitioner))
            if row.booked_on is not None and window.until_end(row.booked_on):
                found.booked.append(row)
        found.completed.sort()
        found.treated.sort(key=lambda pair: pair[0])
        yield found
