"""Referral sources (where new clients come from) and the provider balance of integrative
care (referred in, referred out, care reports sent), as SPEC §4 defines them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from practice_es.domain.referral import PROVIDER_KINDS
from practice_es.projections.clients import client_directory
from practice_es.projections.referrals import care_reports, referrals
from practice_es.projections.visits import visits
from practice_es.reports.contacts import referrer_label
from practice_es.reports.status import lapsed_at_end, visited_by_end
from practice_es.reports.window import Window, ratio

Key = tuple[str, str | None]  # (source kind, referrer)


def referrals_report(conn: Connection, window: Window | None = None) -> dict[str, Any]:
    window = window or Window()
    received = _received(conn, window)
    intakes = _intakes(conn, window)
    return {
        **window.as_json(),
        "sources": _sources(conn, window, received, intakes),
        "providers": _providers(conn, window, received, intakes),
    }


def _received(conn: Connection, window: Window) -> list[Any]:
    """Referrals received in the window."""
    r = referrals.c
    query = select(r.source_kind, r.referrer, r.converted_client_id, r.converted_on).where(
        r.direction == "in")
    return [row for row in conn.execute(query.add_columns(r.received_on))
            if row.received_on in window]


def _intakes(conn: Connection, window: Window) -> list[Any]:
    """Intakes in the window that name a source (with or without a referral record)."""
    c = client_directory.c
    query = select(c.client_id, c.referral_source, c.referrer, c.intake_on).where(
        c.referral_source.is_not(None))
    return [row for row in conn.execute(query) if _day_in(window, row.intake_on)]


def _day_in(window: Window, day: Any) -> bool:
    return (window.start is None or day >= window.start) and (
        window.end is None or day <= window.end)


def _visits_by_client(conn: Connection, window: Window) -> Counter[str]:
    v = visits.c
    query = select(v.client_id, v.closed_on).where(v.status == "completed")
    return Counter(row.client_id for row in conn.execute(query) if row.closed_on in window)


def _sources(conn: Connection, window: Window, received: list[Any], intakes: list[Any]
             ) -> list[dict[str, Any]]:
    counts: dict[Key, Counter[str]] = {}
    for row in received:
        tally = counts.setdefault((row.source_kind, row.referrer), Counter())
        tally["referrals"] += 1
        tally["converted"] += window.until_end(row.converted_on)
    visits_of = _visits_by_client(conn, window)
    lapsed, visited = lapsed_at_end(conn, window), visited_by_end(conn, window)
    for row in intakes:
        tally = counts.setdefault((row.referral_source, row.referrer), Counter())
        tally["new_clients"] += 1
        tally["visits"] += visits_of[row.client_id]
        tally["active_clients"] += row.client_id in visited and row.client_id not in lapsed
    return [
        {"kind": kind, "referrer": referrer,
         # A client who referred, by name (`[erased]` once erased); others have none.
         "referrer_name": referrer_label(conn, kind, referrer) if kind == "client" else None,
         "referrals": t["referrals"],
         "converted": t["converted"], "conversion_rate": ratio(t["converted"], t["referrals"]),
         "new_clients": t["new_clients"], "visits": t["visits"],
         "active_clients": t["active_clients"]}
        for (kind, referrer), t in sorted(counts.items(), key=_source_order)
    ]


def _source_order(item: tuple[Key, Counter[str]]) -> tuple[int, str, str]:
    (kind, referrer), tally = item
    return (-tally["new_clients"], kind, referrer or "")


def _providers(conn: Connection, window: Window, received: list[Any], intakes: list[Any]
               ) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = {}
    r, cr = referrals.c, care_reports.c
    recorded = {row.converted_client_id for row in conn.execute(
        select(r.converted_client_id).where(r.converted_client_id.is_not(None)))}
    for row in received:
        if row.source_kind in PROVIDER_KINDS:
            counts.setdefault(row.referrer, Counter())["referred_in"] += 1
    for row in intakes:  # named a doctor at intake, without a referral record
        if row.referral_source in PROVIDER_KINDS and row.referrer and (
                row.client_id not in recorded):
            counts.setdefault(row.referrer, Counter())["referred_in"] += 1
    made = select(r.provider, r.made_on).where(r.direction == "out")
    for row in conn.execute(made):
        if row.made_on in window:
            counts.setdefault(row.provider, Counter())["referred_out"] += 1
    for row in conn.execute(select(cr.provider, cr.sent_on)):
        if row.sent_on in window and row.provider:
            counts.setdefault(row.provider, Counter())["care_reports_sent"] += 1
    return [
        {"provider": provider, "referred_in": t["referred_in"],
         "referred_out": t["referred_out"], "care_reports_sent": t["care_reports_sent"]}
        for provider, t in sorted(counts.items())
    ]

