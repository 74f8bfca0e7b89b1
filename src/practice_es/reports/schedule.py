"""The day sheet (SPEC §9): the bookings of a day or a span of days in booking-time order, or
the bookings left open (past, never completed, cancelled or marked missed).

One query for every adapter: `practice schedule` prints it, writes it as iCalendar
(`to_ics`), and the web front desk shows it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, select

from practice_es.projections.clients import client_directory
from practice_es.projections.programs import programs
from practice_es.projections.visits import visits
from practice_es.reports.window import Window

# The keys of a row, in SPEC §9's order (JSON and CSV).
COLUMNS = ("visit_id", "client_id", "name", "phone", "at", "status", "program_id",
           "visit_number", "visits_planned", "practitioner")
COUNTED = ("scheduled", "completed")  # a program's visits that take a number
VISIT_MINUTES = 60  # a visit's length is not recorded: calendars show it as an hour


def schedule(conn: Connection, zone: tzinfo, window: Window | None = None,
             open_before: datetime | None = None) -> list[dict[str, Any]]:
    """The bookings whose time falls in `window` (every day if None), in booking-time order.
    With `open_before` (a moment: now, for `--open`) only those before it still booked.
    `at` is given in the practice's zone (`zone`), as the read models keep wall-clock time."""
    v, c = visits.c, client_directory.c
    query = (select(v.visit_id, v.client_id, v.at, v.status, v.program_id, c.name, c.phone)
             .select_from(visits.outerjoin(client_directory, c.client_id == v.client_id))
             .order_by(v.at, v.visit_id))
    window = window or Window()
    if window.lower is not None:
        query = query.where(v.at >= window.lower)
    if window.upper is not None:
        query = query.where(v.at < window.upper)
    if open_before is not None:
        local = open_before.astimezone(zone).replace(tzinfo=None)
        query = query.where(v.status == "scheduled", v.at < local)
    rows = conn.execute(query).all()
    numbers, planned = _program_numbers(conn, {r.program_id for r in rows if r.program_id})
    return [_row(row, zone, numbers, planned) for row in rows]


def _row(row: Any, zone: tzinfo, numbers: dict[str, int], planned: dict[str, int]
         ) -> dict[str, Any]:
    return {
        "visit_id": row.visit_id, "client_id": row.client_id, "name": row.name,
        "phone": row.phone, "at": row.at.replace(tzinfo=zone).isoformat(),
        "status": row.status, "program_id": row.program_id,
        "visit_number": numbers.get(row.visit_id),
        "visits_planned": planned.get(row.program_id) if row.program_id else None,
        # Who sees the client: no practitioner is recorded yet (SPEC §11 adds them); the
        # key is here so the day sheet's shape stays when they are.
        "practitioner": None,
    }


def _program_numbers(conn: Connection, program_ids: set[str]
                     ) -> tuple[dict[str, int], dict[str, int]]:
    """Each visit's number in its program (its visits done or booked, in time order: a
    cancelled or missed one takes none) and each program's planned visits."""
    if not program_ids:
        return {}, {}
    v, p = visits.c, programs.c
    wanted = sorted(program_ids)
    planned = {row.program_id: row.visits for row in conn.execute(
        select(p.program_id, p.visits).where(p.program_id.in_(wanted)))}
    counted: defaultdict[str, int] = defaultdict(int)
    numbers: dict[str, int] = {}
    query = (select(v.visit_id, v.program_id).where(v.program_id.in_(wanted),
                                                    v.status.in_(COUNTED))
             .order_by(v.at, v.visit_id))
    for row in conn.execute(query):
        counted[row.program_id] += 1
        numbers[row.visit_id] = counted[row.program_id]
    return numbers, planned


def day_window(day: date | None, start: date | None, end: date | None,
               today: date, open_only: bool) -> Window:
    """The days `practice schedule` shows: the one given, the span given, else today (or,
    for the open bookings, every day)."""
    if day is not None:
        return Window(day, day)
    if start is not None or end is not None:
        return Window(start, end)
    return Window() if open_only else Window(today, today)


def to_ics(rows: list[dict[str, Any]], zone: tzinfo, stamp: datetime) -> bytes:
    """The bookings as an iCalendar file (RFC 5545): one event per visit, cancelled ones
    marked so, each with a stable UID so a calendar that imports it twice updates it."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//practice-es//day sheet//EN")
    calendar.add("version", "2.0")
    for row in rows:
        start = datetime.fromisoformat(row["at"]).astimezone(zone)
        event = Event()
        event.add("uid", f"{row['visit_id']}@practice-es")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=VISIT_MINUTES))
        event.add("summary", _summary(row))
        if row["phone"]:
            event.add("description", f"phone {row['phone']}")
        event.add("status", "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _summary(row: dict[str, Any]) -> str:
    number = (f" (visit {row['visit_number']} of {row['visits_planned']})"
              if row["visit_number"] and row["visits_planned"] else "")
    return f"{row['name'] or 'client ' + row['client_id'][:8]}{number}"
