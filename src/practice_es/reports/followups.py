"""Two worklists of people waiting on the practice (SPEC §9): prospects (an intake, no visit
booked or completed) and referrals made out still awaiting the provider's answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from practice_es.projections.clients import client_directory
from practice_es.projections.referrals import referrals
from practice_es.projections.visits import visits
from practice_es.reports.contacts import Contacts, contacts
from practice_es.reports.kept import among
from practice_es.reports.window import Window


def prospects(conn: Connection, people: Contacts, window: Window, lapsed: set[str],
              ids: list[str] | None = None) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Clients whose intake was by the day, with no visit completed by then and none booked
    at its end (a lapsed one is on the reactivation list instead), oldest intake first."""
    day, upper = window.end, window.upper
    assert day is not None and upper is not None
    c, v = client_directory.c, visits.c
    seen = {row.client_id for row in conn.execute(
        among(select(v.client_id, v.status, v.booked_on, v.closed_on), v.client_id, ids))
        if (row.status == "completed" and row.closed_on < upper)
        or (row.booked_on is not None and row.booked_on < upper
            and (row.closed_on is None or row.closed_on >= upper))}
    query = among(select(c.client_id, c.intake_on, c.referral_source, c.referrer),
                  c.client_id, ids).where(c.intake_on <= day)
    rows = []
    for row in conn.execute(query):
        if row.client_id in seen or row.client_id in lapsed or row.client_id not in people:
            continue
        came = f" (came by {row.referral_source}{' ' + row.referrer if row.referrer else ''})"
        rows.append({**people.of(row.client_id), "intake_on": row.intake_on.isoformat(),
                     "reasons": [f"intake on {row.intake_on}, {(day - row.intake_on).days} "
                                 f"days ago; no visit booked or completed"
                                 + (came if row.referral_source else "")]})
    return [((r["intake_on"], r["name"], r["client_id"]), r) for r in rows]


def awaiting_answer(conn: Connection, window: Window) -> list[dict[str, Any]]:
    """Clients referred out by the day whose provider has not answered (no outcome recorded),
    one row per client with every such referral, longest waiting first."""
    day, upper = window.end, window.upper
    assert day is not None and upper is not None
    r = referrals.c
    query = (select(r.referral_id, r.client_id, r.provider, r.made_on)
             .where(r.direction == "out", r.cleared.is_(None), r.made_on < upper)
             .order_by(r.made_on, r.referral_id))
    waiting = conn.execute(query).all()
    people = contacts(conn, sorted({ref.client_id for ref in waiting}))
    rows: dict[str, dict[str, Any]] = {}
    for ref in waiting:
        if ref.client_id not in people:
            continue
        row = rows.setdefault(ref.client_id, {
            **people.of(ref.client_id), "referral_ids": [], "providers": [],
            "made_on": ref.made_on.date().isoformat(), "reasons": []})
        row["referral_ids"].append(ref.referral_id)
        if ref.provider not in row["providers"]:
            row["providers"].append(ref.provider)
        waited = (day - ref.made_on.date()).days
        row["reasons"].append(f"referred out to {ref.provider} on {ref.made_on.date()}, "
                              f"{waited} days ago; no answer yet")
    return list(rows.values())
