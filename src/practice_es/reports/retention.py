"""Retention cohorts, the drop-off view and the KPIs of SPEC §4."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from practice_es.projections.lapses import client_marks
from practice_es.projections.programs import programs
from practice_es.reports.attendance import Attendance, attendance
from practice_es.reports.window import Window, period_index, period_label, ratio


@dataclass
class Tally:
    """What one pass over every client's visits adds up."""

    visits: int = 0
    visitors: int = 0
    new_clients: int = 0
    new_client_visits: int = 0
    rebooked: int = 0
    last_period: int | None = None
    cohorts: dict[int, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    reached: Counter[int] = field(default_factory=Counter)  # new clients by visits made
    still_coming: Counter[int] = field(default_factory=Counter)

    def add(self, client: Attendance, window: Window, by: str) -> None:
        if client.completed:
            last = period_index(client.completed[-1], by)
            self.last_period = max(self.last_period or last, last)
        inside = [done for done in client.completed if done in window]
        self.visits += len(inside)
        self.visitors += bool(inside)
        self.rebooked += sum(client.rebooked(done) for done in inside)
        if client.first is None or client.first not in window:
            return
        self.new_clients += 1
        self.new_client_visits += len(inside)
        cohort = period_index(client.first, by)
        offsets = {period_index(done, by) - cohort for done in client.completed}
        self.cohorts[cohort].update(offsets | {-1})  # -1 counts the cohort's size
        self.reached[len(client.completed)] += 1
        if client.booked_ahead(window):
            self.still_coming[len(client.completed)] += 1


def retention_report(conn: Connection, by: str = "month",
                     window: Window | None = None) -> dict[str, Any]:
    window = window or Window()
    tally = Tally()
    for client in attendance(conn, window):
        tally.add(client, window, by)
    last = period_index(window.end, by) if window.end else tally.last_period
    return {
        "by": by,
        **window.as_json(),
        "cohorts": _cohorts(tally, by, last),
        "dropoff": _dropoff(tally),
        "kpis": _kpis(conn, tally, window),
    }


def _cohorts(tally: Tally, by: str, last: int | None) -> list[dict[str, Any]]:
    rows = []
    for cohort in sorted(tally.cohorts):
        counts = tally.cohorts[cohort]
        size = counts[-1]
        retained = [counts[k] for k in range(0, (last or cohort) - cohort + 1)]
        rows.append({"cohort": period_label(cohort, by), "clients": size,
                     "retained": retained, "rate": [n / size for n in retained]})
    return rows


def _dropoff(tally: Tally) -> list[dict[str, Any]]:
    """At which visit number new clients stop coming: of those who made visit n, how many
    made no further visit (and have none booked ahead), how many are still booked ahead."""
    most = max(tally.reached, default=0)
    rows = []
    for n in range(1, most + 1):
        reached = sum(c for made, c in tally.reached.items() if made >= n)
        stopped = tally.reached[n] - tally.still_coming[n]
        rows.append({"visit": n, "reached": reached, "stopped": stopped,
                     "still_coming": tally.still_coming[n],
                     "stop_rate": ratio(stopped, reached)})
    return rows


def _kpis(conn: Connection, tally: Tally, window: Window) -> dict[str, Any]:
    lapsed = _count_marks(conn, "lapsed", window)
    reactivated = _count_marks(conn, "reactivated", window)
    recommended, accepted = _programs_taken_up(conn, window, "recommended_on", "accepted_on")
    started, completed = _programs_taken_up(conn, window, "accepted_on", "ended_on",
                                            status="completed")
    return {
        "new_clients": tally.new_clients,
        "visits": tally.visits,
        "visit_average": ratio(tally.visits, tally.visitors),
        "pva": ratio(tally.new_client_visits, tally.new_clients),
        # The PVA consultants quote: every completed visit of the window per new client.
        "pva_period": ratio(tally.visits, tally.new_clients),
        "rebooking_rate": ratio(tally.rebooked, tally.visits),
        "lapsed": lapsed,
        "reactivated": reactivated,
        "reactivation_rate": ratio(reactivated, lapsed),
        "program_acceptance_rate": ratio(accepted, recommended),
        "program_completion_rate": ratio(completed, started),
    }


def _within(column: Any, window: Window) -> list[Any]:
    lower, upper = window.lower, window.upper
    return [c for c in (column >= lower if lower else None,
                        column < upper if upper else None) if c is not None]


def _count_marks(conn: Connection, kind: str, window: Window) -> int:
    m = client_marks.c
    query = select(func.count()).where(m.kind == kind, *_within(m.happened_on, window))
    return int(conn.execute(query).scalar_one())


def _programs_taken_up(conn: Connection, window: Window, began: str, then: str,
                       status: str | None = None) -> tuple[int, int]:
    """Programs whose `began` step falls in the window, and how many of them reached the
    `then` step by the window's end (with the given final status, if any)."""
    p = programs.c
    # A withdrawn recommendation was entered by mistake: it counts in no rate.
    query = select(p[then], p.status).where(p[began].is_not(None), p.status != "withdrawn",
                                            *_within(p[began], window))
    rows = conn.execute(query).all()
    reached = sum(1 for at, final in rows
                  if window.until_end(at) and (status is None or final == status))
    return len(rows), reached
