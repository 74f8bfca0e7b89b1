"""A client's progress timeline: their history in business-time order, and per program of care
its plan, adherence and how each measure moved."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

import orjson
from sqlalchemy import Connection, select

from practice_es.domain.days import start_of_next_day
from practice_es.domain.errors import NotFound
from practice_es.projections.clients import client_directory
from practice_es.projections.programs import programs
from practice_es.projections.timeline import timeline
from practice_es.projections.visits import visits
from practice_es.reports.contacts import named_clients
from practice_es.reports.window import number


def timeline_report(conn: Connection, client_id: str, as_of: date,
                    zone: tzinfo | None = None) -> dict[str, Any]:
    """Everything recorded about the client up to the end of `as_of` (the report date).
    With `zone` (the practice's), every entry's time is given in it, whatever zone it
    was recorded or imported in."""
    c = client_directory.c
    if conn.execute(select(c.client_id).where(c.client_id == client_id)).first() is None:
        raise NotFound("client", client_id)
    upper = start_of_next_day(as_of)
    t = timeline.c
    query = (select(t.on_iso, t.event, t.summary, t.program_id, t.ref, t.measures)
             .where(t.client_id == client_id, t.happened_on < upper)
             .order_by(t.happened_on, t.position))
    rows = list(conn.execute(query).all())
    return {
        "client_id": client_id,
        "as_of": as_of.isoformat(),
        "entries": named_clients(conn, [_entry(row, zone) for row in rows]),
        "programs": _programs(conn, client_id, as_of, rows),
    }


def _measures(row: Any) -> dict[str, float | int]:
    return {name: number(value) for name, value in orjson.loads(row.measures).items()}


def _entry(row: Any, zone: tzinfo | None) -> dict[str, Any]:
    on = row.on_iso if zone is None else (
        datetime.fromisoformat(row.on_iso).astimezone(zone).isoformat())
    return {"on": on, "event": row.event, "summary": row.summary,
            "program_id": row.program_id, "measures": _measures(row)}


def _programs(conn: Connection, client_id: str, as_of: date, rows: list[Any]
              ) -> list[dict[str, Any]]:
    p = programs.c
    upper = start_of_next_day(as_of)
    found = conn.execute(select(programs).where(p.client_id == client_id,
                                                p.recommended_on < upper)
                         .order_by(p.number)).all()
    return [_program(conn, program, as_of, rows) for program in found]


def _program(conn: Connection, program: Any, as_of: date, rows: list[Any]) -> dict[str, Any]:
    upper = start_of_next_day(as_of)
    v = visits.c
    found = conn.execute(select(v.status, v.booked_on, v.at, v.closed_on).where(
        v.program_id == program.program_id)).all()
    completed = sum(1 for r in found if r.status == "completed" and r.closed_on < upper)
    due = planned_due(program, as_of, first_visit(found, upper))
    accepted = program.accepted_on is not None and program.accepted_on < upper
    return {
        "program_id": program.program_id,
        "phase": program.phase,
        "visits_planned": program.visits,
        "visits_completed": completed,
        "adherence": min(1.0, completed / due) if due else None,
        "status": _status_on(program, upper),
        # Only a program the client accepted has progress to show (not one declined).
        "measures": measure_change(program, rows) if accepted else {},
    }


def first_visit(found: Sequence[Any], upper: datetime) -> datetime | None:
    """When the program's first visit was, or is, booked for (after any reschedule) or
    happened, as recorded before `upper`; a booking cancelled by then does not count."""
    times = [r.at for r in found
             if (r.booked_on or r.closed_on) < upper
             and not (r.status == "cancelled" and r.closed_on < upper)]
    return min(times, default=None)


def planned_due(program: Any, as_of: date, first: datetime | None) -> int:
    """Planned visits due by the report date: one at the program's first visit (`first`),
    then one every 7/per_week days, never more than planned; a program that ended stops
    falling due when it ended."""
    if first is None or first.date() > as_of:
        return 0
    until = as_of
    if program.ended_on is not None:
        until = min(until, program.ended_on.date())
    days = max(0, (until - first.date()).days)
    return int(min(program.visits, math.floor(days * program.per_week / 7) + 1))


def _status_on(program: Any, upper: datetime) -> str:
    """The program's status at the report date (a later step is not known yet)."""
    for column, status in (("ended_on", program.status), ("withdrawn_on", "withdrawn"),
                           ("declined_on", "declined"), ("accepted_on", "active")):
        moment = getattr(program, column)
        if moment is not None and moment < upper:
            return str(status)
    return "recommended"


def measure_change(program: Any, rows: list[Any]) -> dict[str, dict[str, float | int]]:
    """Per measure: the first value (the cited assessment is the baseline), the latest and
    the change, from the program's visits and re-evaluations in time order."""
    series: dict[str, list[float]] = {}
    for row in rows:
        if row.program_id == program.program_id or row.ref == program.assessment_id:
            for name, value in orjson.loads(row.measures).items():
                series.setdefault(name, []).append(value)
    return {name: {"first": number(values[0]), "latest": number(values[-1]),
                   "change": number(values[-1] - values[0])}
            for name, values in sorted(series.items())}
