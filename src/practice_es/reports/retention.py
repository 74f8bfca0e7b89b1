"""Retention cohorts, the drop-off view and the KPIs of SPEC §4."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from practice_es.projections.lapses import client_marks
from practice_es.projections.programs import programs
from practice_es.reports.attendance import Attendance, attendance
from practice_es.reports.window import Window, period_index, period_label, ratio


@dataclass(frozen=True)
class Share:
    """What one client adds to the report's tally: kept per client, so a report can be brought
    up to date by taking out the old shares of the clients something happened to and adding
    their new ones (the web front desk's reports at every head of the log)."""

    last_period: int | None
    visits: int
    rebooked: int
    cohort: int | None = None  # set for a new client of the window
    offsets: frozenset[int] = frozenset()  # periods after the cohort with a visit
    made: int = 0  # completed visits (a new client's)
    still_coming: bool = False
    new_client_visits: int = 0


def share_of(client: Attendance, window: Window, by: str) -> Share:
    last = period_index(client.completed[-1], by) if client.completed else None
    inside = [done for done in client.completed if done in window]
    rebooked = sum(client.rebooked(inside))
    if client.first is None or client.first not in window:
        return Share(last, len(inside), rebooked)
    cohort = period_index(client.first, by)
    offsets = frozenset(period_index(done, by) - cohort for done in client.completed)
    return Share(last, len(inside), rebooked, cohort, offsets, len(client.completed),
                 client.booked_ahead(window), len(inside))


@dataclass
class Tally:
    """The shares of every client added up (a share taken out again with `sign=-1`)."""

    visits: int = 0
    visitors: int = 0
    new_clients: int = 0
    new_client_visits: int = 0
    rebooked: int = 0
    lasts: Counter[int] = field(default_factory=Counter)  # clients by their last period
    cohorts: dict[int, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    reached: Counter[int] = field(default_factory=Counter)  # new clients by visits made
    still_coming: Counter[int] = field(default_factory=Counter)

    @property
    def last_period(self) -> int | None:
        return max((period for period, n in self.lasts.items() if n), default=None)

    def add(self, share: Share, sign: int = 1) -> None:
        if share.last_period is not None:
            self.lasts[share.last_period] += sign
        self.visits += sign * share.visits
        self.visitors += sign * bool(share.visits)
        self.rebooked += sign * share.rebooked
        if share.cohort is None:
            return
        self.new_clients += sign
        self.new_client_visits += sign * share.new_client_visits
        self.cohorts[share.cohort].update(dict.fromkeys(share.offsets | {-1}, sign))
        self.reached[share.made] += sign
        self.still_coming[share.made] += sign * share.still_coming


class KeptRetention:
    """A retention report kept up to date client by client: `refresh` with the clients
    something happened to since the last refresh (None: every client) re-reads only them."""

    def __init__(self, by: str = "month", window: Window | None = None) -> None:
        self.by, self.window = by, window or Window()
        self.shares: dict[str, Share] = {}
        self.tally = Tally()

    def refresh(self, conn: Connection, changed: Collection[str] | None = None
                ) -> KeptRetention:
        if changed is None:
            self.shares, self.tally = {}, Tally()
        for client_id in changed or ():
            old = self.shares.pop(client_id, None)
            if old is not None:
                self.tally.add(old, -1)
        for client in attendance(conn, self.window, changed):
            share = self.shares[client.client_id] = share_of(client, self.window, self.by)
            self.tally.add(share)
        return self

    def report(self, conn: Connection) -> dict[str, Any]:
        return self.report_and_facts(conn)[0]

    def report_and_facts(self, conn: Connection) -> tuple[dict[str, Any], dict[str, int]]:
        """The report, and the counts its KPIs divide (a group adds them up, then divides)."""
        window, by, tally = self.window, self.by, self.tally
        last = period_index(window.end, by) if window.end else tally.last_period
        facts = _facts(conn, tally, window)
        report = {"by": by, **window.as_json(), "cohorts": _cohorts(tally, by, last),
                  "dropoff": _dropoff(tally), "kpis": retention_kpis(facts)}
        return report, facts


def retention_report(conn: Connection, by: str = "month",
                     window: Window | None = None) -> dict[str, Any]:
    return retention_and_facts(conn, by, window)[0]


def retention_and_facts(conn: Connection, by: str = "month", window: Window | None = None
                        ) -> tuple[dict[str, Any], dict[str, int]]:
    """The report, and the counts its KPIs divide (a group adds them up, then divides)."""
    return KeptRetention(by, window).refresh(conn).report_and_facts(conn)


def _cohorts(tally: Tally, by: str, last: int | None) -> list[dict[str, Any]]:
    rows = []
    for cohort in sorted(tally.cohorts):
        counts = tally.cohorts[cohort]
        size = counts[-1]
        if not size:
            continue  # every client of that cohort moved out of it since it was kept
        retained = [counts[k] for k in range(0, (last or cohort) - cohort + 1)]
        rows.append({"cohort": period_label(cohort, by), "clients": size,
                     "retained": retained, "rate": [n / size for n in retained]})
    return rows


def _dropoff(tally: Tally) -> list[dict[str, Any]]:
    """At which visit number new clients stop coming: of those who made visit n, how many
    made no further visit (and have none booked ahead), how many are still booked ahead."""
    most = max((made for made, n in tally.reached.items() if n), default=0)
    rows = []
    for n in range(1, most + 1):
        reached = sum(c for made, c in tally.reached.items() if made >= n)
        stopped = tally.reached[n] - tally.still_coming[n]
        rows.append({"visit": n, "reached": reached, "stopped": stopped,
                     "still_coming": tally.still_coming[n],
                     "stop_rate": ratio(stopped, reached)})
    return rows


FACTS = ("new_clients", "visits", "visitors", "new_client_visits", "rebooked", "lapsed",
         "reactivated", "programs_recommended", "programs_accepted", "programs_started",
         "programs_completed")


def _facts(conn: Connection, tally: Tally, window: Window) -> dict[str, int]:
    recommended, accepted = _programs_taken_up(conn, window, "recommended_on", "accepted_on")
    started, completed = _programs_taken_up(conn, window, "accepted_on", "ended_on",
                                            status="completed")
    return {
        "new_clients": tally.new_clients, "visits": tally.visits, "visitors": tally.visitors,
        "new_client_visits": tally.new_client_visits, "rebooked": tally.rebooked,
        "lapsed": _count_marks(conn, "lapsed", window),
        "reactivated": _count_marks(conn, "reactivated", window),
        "programs_recommended": recommended, "programs_accepted": accepted,
        "programs_started": started, "programs_completed": completed,
    }


def retention_kpis(facts: dict[str, int]) -> dict[str, Any]:
    """SPEC §4's KPIs from the counts: each rate divided here, never averaged."""
    f = facts
    return {
        "new_clients": f["new_clients"],
        "visits": f["visits"],
        "visit_average": ratio(f["visits"], f["visitors"]),
        "pva": ratio(f["new_client_visits"], f["new_clients"]),
        # The PVA consultants quote: every completed visit of the window per new client.
        "pva_period": ratio(f["visits"], f["new_clients"]),
        "rebooking_rate": ratio(f["rebooked"], f["visits"]),
        "lapsed": f["lapsed"],
        "reactivated": f["reactivated"],
        "reactivation_rate": ratio(f["reactivated"], f["lapsed"]),
        "program_acceptance_rate": ratio(f["programs_accepted"], f["programs_recommended"]),
        "program_completion_rate": ratio(f["programs_completed"], f["programs_started"]),
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
