"""Worklists as of a day: who is due a recall, which programs are due a re-evaluation, which
lapsed clients to reactivate, which prospects have nothing booked, and which referrals out
await the provider's answer. Every row names the client and how to reach them (name, phone,
e-mail) and its `reasons` in words; a client is on each list once (SPEC §9)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from practice_es.projections.lapses import client_marks
from practice_es.projections.programs import programs
from practice_es.projections.timeline import timeline
from practice_es.projections.visits import visits
from practice_es.reports.contacts import Contacts, contacts
from practice_es.reports.followups import awaiting_answer, prospects
from practice_es.reports.kept import among, clients_touched
from practice_es.reports.window import Window

# A client outside any program of care is due a recall this many days after their last visit
# (a four-week rhythm is the usual one for maintenance and "hit and miss" massage clients).
DEFAULT_INTERVAL_DAYS = 28


@dataclass
class Facts:
    """What the ledger had recorded by the end of the worklist's day."""

    window: Window
    people: Contacts  # clients not erased: name, phone, e-mail
    last_visit: dict[str, datetime]
    booked_ahead: set[str]
    lapses: dict[str, datetime]  # lapsed at the end of the day -> since when
    recalls: dict[str, tuple[datetime, str]]  # latest recall since the lapse: when, channel
    active_programs: list[Any]
    ids: list[str] | None  # the clients read (None: every client)

    @property
    def day(self) -> date:
        assert self.window.end is not None
        return self.window.end


LISTS = ("recall_due", "reevaluation_due", "reactivate", "prospects")
Ranked = tuple[tuple[Any, ...], dict[str, Any]]  # a row and where it goes in its list


class KeptWorklists:
    """The worklists of a day, kept client by client: `refresh` with the clients something
    was recorded for (None: every client) reads only them again."""

    def __init__(self, as_of: date) -> None:
        self.window = Window(end=as_of)
        self.rows: dict[str, dict[str, list[Ranked]]] = {}  # client -> list -> rows

    def refresh(self, conn: Connection, changed: Collection[str] | None) -> KeptWorklists:
        ids = None if changed is None else clients_touched(conn, changed)
        if ids is None:
            self.rows = {}
        elif not ids:
            return self  # nothing touched a client (an empty IN would still read them all)
        for client_id in ids or ():
            self.rows.pop(client_id, None)
        for name, ranked in _lists(conn, _facts(conn, self.window, ids)).items():
            for key, row in ranked:
                self.rows.setdefault(row["client_id"], {}).setdefault(name, []).append(
                    (key, row))
        return self

    def report(self, conn: Connection) -> dict[str, Any]:
        day = self.window.end
        assert day is not None
        found: dict[str, Any] = {"as_of": day.isoformat()}
        for name in LISTS:
            ranked = [item for lists in self.rows.values() for item in lists.get(name, ())]
            found[name] = [row for _, row in sorted(ranked, key=lambda item: item[0])]
        # Referrals out are few and their events name the referral, not the client: read anew.
        found["awaiting_answer"] = awaiting_answer(conn, self.window)
        return found


def worklists_report(conn: Connection, as_of: date) -> dict[str, Any]:
    return KeptWorklists(as_of).refresh(conn, None).report(conn)


def _lists(conn: Connection, facts: Facts) -> dict[str, list[Ranked]]:
    return {"recall_due": _recalls_due(facts),
            "reevaluation_due": _reevaluations_due(conn, facts),
            "reactivate": _to_reactivate(facts),
            "prospects": prospects(conn, facts.people, facts.window, set(facts.lapses),
                                   facts.ids)}


def _facts(conn: Connection, window: Window, ids: list[str] | None) -> Facts:
    last_visit, ahead = _visit_facts(conn, window, ids)
    lapses, recalls = _lapse_facts(conn, window, ids)
    return Facts(window, contacts(conn, ids), last_visit, ahead, lapses, recalls,
                 _active_programs(conn, window, ids), ids)


def _visit_facts(conn: Connection, window: Window, ids: list[str] | None
                 ) -> tuple[dict[str, datetime], set[str]]:
    v, upper, lower = visits.c, window.upper, window.end
    assert upper is not None and lower is not None
    last: dict[str, datetime] = {}
    ahead: set[str] = set()
    query = among(select(v.client_id, v.status, v.booked_on, v.at, v.closed_on), v.client_id, ids)
    for row in conn.execution_options(yield_per=5000).execute(query):
        if row.status == "completed" and row.closed_on < upper:
            last[row.client_id] = max(last.get(row.client_id, row.closed_on), row.closed_on)
        elif (row.booked_on is not None and row.booked_on < upper
              and (row.closed_on is None or row.closed_on >= upper)
              and row.at.date() >= lower):
            ahead.add(row.client_id)
    return last, ahead


def _lapse_facts(conn: Connection, window: Window, ids: list[str] | None
                 ) -> tuple[dict[str, datetime], dict[str, tuple[datetime, str]]]:
    m = client_marks.c
    query = among(select(m.client_id, m.kind, m.happened_on, m.detail), m.client_id, ids
                  ).order_by(m.happened_on, m.position)
    lapses: dict[str, datetime] = {}
    recalls: dict[str, tuple[datetime, str]] = {}
    for row in conn.execute(query):
        if not window.until_end(row.happened_on):
            continue
        if row.kind == "lapsed":
            lapses[row.client_id] = row.happened_on
            recalls.pop(row.client_id, None)
        elif row.kind == "reactivated":
            lapses.pop(row.client_id, None)
            recalls.pop(row.client_id, None)
        elif row.client_id in lapses:
            recalls[row.client_id] = (row.happened_on, row.detail)
    return lapses, recalls


def _active_programs(conn: Connection, window: Window, ids: list[str] | None) -> list[Any]:
    p, upper = programs.c, window.upper
    query = among(select(programs), p.client_id, ids).where(p.accepted_on < upper).order_by(
        p.client_id, p.number)
    return [row for row in conn.execute(query)
            if row.ended_on is None or row.ended_on >= upper]


def _recalls_due(facts: Facts) -> list[Ranked]:
    interval = {row.client_id: 7 / row.per_week for row in facts.active_programs}
    rows = []
    for client_id, last in facts.last_visit.items():
        if (client_id in facts.lapses or client_id in facts.booked_ahead
                or client_id not in facts.people):
            continue
        days = (facts.day - last.date()).days
        every = interval.get(client_id, DEFAULT_INTERVAL_DAYS)
        if days > every:
            why = (f"program visits every {every:g} days" if client_id in interval
                   else f"no program: default {DEFAULT_INTERVAL_DAYS} days")
            rows.append(_row(facts, client_id, last, every,
                             f"last visit {days} days ago, nothing booked ({why})"))
    for client_id, lapsed in facts.lapses.items():
        if client_id not in facts.recalls and client_id in facts.people:
            rows.append(_row(facts, client_id, facts.last_visit.get(client_id), None,
                             f"lapsed on {lapsed.date()}, not recalled since"))
    return [((r["last_visit_on"] or "", r["name"], r["client_id"]), r) for r in rows]


def _row(facts: Facts, client_id: str, last: datetime | None, every: float | None,
         reason: str) -> dict[str, Any]:
    return {**facts.people.of(client_id),
            "last_visit_on": last.date().isoformat() if last else None,
            "interval_days": every, "reasons": [reason]}


def _reevaluations_due(conn: Connection, facts: Facts) -> list[Ranked]:
    rows = []
    for program in facts.active_programs:
        if program.client_id not in facts.people:
            continue
        done = _program_visits(conn, program.program_id, facts.window)
        if len(done) < program.reevaluate_after:
            continue
        reached = len(done) // program.reevaluate_after * program.reevaluate_after
        since = done[reached - 1]
        if _reevaluated_since(conn, program.program_id, since, facts.window):
            continue
        rows.append({
            "program_id": program.program_id, **facts.people.of(program.client_id),
            "phase": program.phase,
            "visits_completed": len(done), "visits_planned": program.visits,
            "reevaluate_after": program.reevaluate_after,
            "reasons": [f"{len(done)} of {program.visits} visits completed; re-evaluation "
                        f"due at visit {reached} ({since.date()}), none recorded since"],
        })
    return [((r["name"] or "", r["program_id"]), r) for r in rows]


def _program_visits(conn: Connection, program_id: str, window: Window) -> list[datetime]:
    v = visits.c
    query = select(v.closed_on).where(v.program_id == program_id, v.status == "completed",
                                      v.closed_on < window.upper).order_by(v.closed_on)
    return [row.closed_on for row in conn.execute(query)]


def _reevaluated_since(conn: Connection, program_id: str, since: datetime,
                       window: Window) -> bool:
    t = timeline.c
    query = select(t.position).where(
        t.program_id == program_id, t.event == "ProgramReevaluated",
        t.happened_on >= since, t.happened_on < window.upper)
    return conn.execute(query.limit(1)).first() is not None


def _to_reactivate(facts: Facts) -> list[Ranked]:
    rows: list[Ranked] = []
    for client_id, lapsed in facts.lapses.items():
        if client_id not in facts.people:
            continue
        last = facts.last_visit.get(client_id)
        recall = facts.recalls.get(client_id)
        since = f"last visit {last.date()}" if last else "no visit yet"
        then = (f"recalled by {recall[1]} on {recall[0].date()}, not back yet" if recall
                else "not recalled yet")
        rank = (lapsed, facts.people.name(client_id), client_id)
        rows.append((rank, {**facts.people.of(client_id),
                     "lapsed_on": lapsed.date().isoformat(),
                     "last_visit_on": last.date().isoformat() if last else None,
                     "recalled_on": recall[0].date().isoformat() if recall else None,
                     "reasons": [f"lapsed on {lapsed.date()} ({since}); {then}"]}))
    return rows
