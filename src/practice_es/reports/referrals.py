"""Referral sources (where new clients come from) and the provider balance of integrative
care (referred in, referred out, care reports sent), as SPEC §4 defines them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from practice_es.domain.referral import PROVIDER_KINDS
from practice_es.projections.clients import client_directory
from practice_es.projections.referrals import care_reports, referrals
from practice_es.projections.visits import visits
from practice_es.reports.contacts import referrer_label
from practice_es.reports.kept import among, clients_touched
from practice_es.reports.status import lapsed_at_end, visited_by_end
from practice_es.reports.window import Window, ratio

Key = tuple[str, str | None]  # (source kind, referrer)


@dataclass(frozen=True)
class Came:
    """A new client of the window who named how they came, and what they did since."""

    key: Key  # (source kind, referrer)
    visits: int  # completed in the window
    active: bool  # a visit by the window's end and not lapsed at it
    provider: str | None  # a provider named at intake without a referral record


class KeptReferrals:
    """The referrals report kept client by client: `refresh` with the clients something was
    recorded for (None: every client) reads only their intakes and visits again."""

    def __init__(self, window: Window | None = None) -> None:
        self.window = window or Window()
        self.came: dict[str, Came] = {}

    def refresh(self, conn: Connection, changed: Collection[str] | None) -> KeptReferrals:
        ids = None if changed is None else clients_touched(conn, changed)
        if ids is None:
            self.came = {}
        for client_id in ids or ():
            self.came.pop(client_id, None)
        self.came.update(_came(conn, self.window, ids))
        return self

    def report(self, conn: Connection) -> dict[str, Any]:
        # Referrals received and made are few beside clients and visits: read anew each time.
        received, came = _received(conn, self.window), list(self.came.values())
        return {**self.window.as_json(),
                "sources": _sources(conn, self.window, received, came),
                "providers": _providers(conn, self.window, received, came)}


def referrals_report(conn: Connection, window: Window | None = None) -> dict[str, Any]:
    return KeptReferrals(window).refresh(conn, None).report(conn)


def _received(conn: Connection, window: Window) -> list[Any]:
    """Referrals received in the window."""
    r = referrals.c
    query = select(r.source_kind, r.referrer, r.converted_client_id, r.converted_on).where(
        r.direction == "in")
    return [row for row in conn.execute(query.add_columns(r.received_on))
            if row.received_on in window]


def _came(conn: Connection, window: Window, ids: list[str] | None) -> dict[str, Came]:
    """Intakes in the window that name a source (with or without a referral record)."""
    c, r = client_directory.c, referrals.c
    query = among(select(c.client_id, c.referral_source, c.referrer, c.intake_on),
                  c.client_id, ids).where(c.referral_source.is_not(None))
    intakes = [row for row in conn.execute(query) if _day_in(window, row.intake_on)]
    if ids is not None:
        ids = [row.client_id for row in intakes]
        if not ids:
            return {}  # (an empty IN would still read every visit)
    visits_of = _visits_by_client(conn, window, ids)
    lapsed, visited = lapsed_at_end(conn, window, ids), visited_by_end(conn, window, ids)
    recorded = set(conn.execute(among(select(r.converted_client_id).where(
        r.converted_client_id.is_not(None)), r.converted_client_id, ids)).scalars())
    return {row.client_id: Came(
        (row.referral_source, row.referrer), visits_of[row.client_id],
        row.client_id in visited and row.client_id not in lapsed,
        row.referrer if (row.referral_source in PROVIDER_KINDS and row.referrer
                         and row.client_id not in recorded) else None)
        for row in intakes}


def _day_in(window: Window, day: Any) -> bool:
    return (window.start is None or day >= window.start) and (
        window.end is None or day <= window.end)


def _visits_by_client(conn: Connection, window: Window, ids: list[str] | None
                      ) -> Counter[str]:
    v = visits.c
    query = among(select(v.client_id, v.status, v.closed_on), v.client_id, ids)
    if ids is None:  # (for some clients, their own index: the status one would read all)
        query = query.where(v.status == "completed")
    return Counter(row.client_id for row in conn.execute(query)
                   if row.status == "completed" and row.closed_on in window)


def _sources(conn: Connection, window: Window, received: list[Any], came: list[Came]
             ) -> list[dict[str, Any]]:
    counts: dict[Key, Counter[str]] = {}
    for row in received:
        tally = counts.setdefault((row.source_kind, row.referrer), Counter())
        tally["referrals"] += 1
        tally["converted"] += window.until_end(row.converted_on)
    for client in came:
        tally = counts.setdefault(client.key, Counter())
        tally["new_clients"] += 1
        tally["visits"] += client.visits
        tally["active_clients"] += client.active
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


def _providers(conn: Connection, window: Window, received: list[Any], came: list[Came]
               ) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = {}
    r, cr = referrals.c, care_reports.c
    for row in received:
        if row.source_kind in PROVIDER_KINDS:
            counts.setdefault(row.referrer, Counter())["referred_in"] += 1
    for client in came:  # named a doctor at intake, without a referral record
        if client.provider is not None:
            counts.setdefault(client.provider, Counter())["referred_in"] += 1
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


SOURCE_FACTS = ("referrals", "converted", "new_clients", "visits", "active_clients")
PROVIDER_FACTS = ("referred_in", "referred_out", "care_reports_sent")


def referral_facts(report: dict[str, Any]) -> dict[str, int]:
    """The report's counts over every source and provider (a group adds them up)."""
    facts = {name: sum(s[name] for s in report["sources"]) for name in SOURCE_FACTS}
    facts.update({name: sum(p[name] for p in report["providers"]) for name in PROVIDER_FACTS})
    return facts


def referral_kpis(facts: dict[str, int]) -> dict[str, Any]:
    return {**facts, "conversion_rate": ratio(facts["converted"], facts["referrals"])}
