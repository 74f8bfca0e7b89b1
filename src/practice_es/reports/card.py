"""A client's card (SPEC §9): who they are and how to reach them, their status, what blocks
care, the current program and its progress, the last and next visit, referrals awaiting an
answer. From the client as the ledger has it and the read models; for `client show` and the
web's client page alike."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from practice_es.projections.referrals import referrals
from practice_es.reports.contacts import referrer_label
from practice_es.reports.timeline import timeline_report

if TYPE_CHECKING:
    from practice_es.domain.client import Client

_SHOWN = ("name", "status", "date_of_birth", "email", "phone", "legacy_id", "reasons", "goals",
          "conditions", "medications", "referral_source", "completed_visits")


def client_card(conn: Connection, client: Client, now: datetime, zone: tzinfo
                ) -> dict[str, Any]:
    """The card as of `now` (its next visit is the first booking from then on)."""
    ident = str(client.id)
    local = now.astimezone(zone)
    bookings = sorted(client.scheduled.values(), key=lambda visit: visit.at)
    upcoming = [visit for visit in bookings if visit.at >= now]
    programs = timeline_report(conn, ident, local.date(), zone)["programs"]
    return {
        "client_id": ident,
        **{name: getattr(client, name) for name in _SHOWN},
        "referrer": referrer_label(conn, client.referral_source, client.referrer),
        "intake_on": _at(client.intake_on, zone),
        "open_contraindications": sorted(client.open_contraindications.values()),
        "assessment_ids": [str(ident) for ident in client.assessment_ids],
        "last_visit_on": _at(client.last_completed_on, zone),
        "next_visit": _booking(upcoming[0], zone) if upcoming else None,
        "scheduled": [_booking(visit, zone) for visit in bookings],
        "lapsed_on": client.lapsed_on.isoformat() if client.lapsed_on else None,
        "current_program": _current(programs),
        "programs": programs,
        "open_referrals": open_referrals(conn, ident),
    }


def _at(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _booking(visit: Any, zone: tzinfo) -> dict[str, Any]:
    return {"visit_id": str(visit.visit_id), "at": _at(visit.at, zone),
            "program_id": str(visit.program_id) if visit.program_id else None}


def _current(programs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The active program, else the one recommended and not yet answered."""
    for status in ("active", "recommended"):
        found = [p for p in programs if p["status"] == status]
        if found:
            return found[-1]
    return None


def open_referrals(conn: Connection, client_id: str) -> list[dict[str, Any]]:
    """Referrals made out for the client that no provider has answered yet."""
    r = referrals.c
    query = (select(r.referral_id, r.provider, r.made_on)
             .where(r.client_id == client_id, r.direction == "out", r.cleared.is_(None))
             .order_by(r.made_on, r.referral_id))
    return [{"referral_id": row.referral_id, "provider": row.provider,
             "made_on": row.made_on.date().isoformat()} for row in conn.execute(query)]
