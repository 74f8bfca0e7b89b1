"""What the front desk's pages read from the read models (each a query on one connection).

The reports (day sheet, timeline, worklists, retention, referrals) are the CLI's own builders;
only the search's limit, the card's bookings and referrers' names are read here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from practice_es.projections.clients import client_directory
from practice_es.projections.visits import visits

CARD_VISITS = 12  # bookings shown on a card, the latest first
LIST_LIMIT = 50  # search results shown (a longer search is narrowed, never paged by name)


def find(conn: Connection, text: str) -> list[dict[str, Any]]:
    """Clients whose name, e-mail, phone or legacy id holds the text (not erased)."""
    from practice_es.projections.clients import find_clients

    rows = [row for row in find_clients(conn, None, text) if row["status"] != "erased"]
    return rows[:LIST_LIMIT]


def directory_row(conn: Connection, client_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(client_directory)
                       .where(client_directory.c.client_id == client_id)).first()
    return dict(row._mapping) if row is not None else None


def bookings(conn: Connection, client_id: str) -> list[dict[str, Any]]:
    v = visits.c
    query = (select(v.visit_id, v.at, v.status, v.program_id)
             .where(v.client_id == client_id).order_by(v.at.desc()).limit(CARD_VISITS))
    return [dict(row._mapping) for row in conn.execute(query)]


def measure_series(entries: list[dict[str, Any]]) -> dict[str, list[tuple[str, float]]]:
    """Each measure's values over time, from the timeline's entries."""
    series: dict[str, list[tuple[str, float]]] = {}
    for entry in entries:
        for name, value in entry["measures"].items():
            series.setdefault(name, []).append((entry["on"][:10], float(value)))
    return series


def names(conn: Connection, client_ids: list[str]) -> dict[str, str]:
    """Client ids to names (referrers who are clients show by name, SPEC §9)."""
    c = client_directory.c
    if not client_ids:
        return {}
    query = select(c.client_id, c.name).where(c.client_id.in_(client_ids))
    return {row.client_id: row.name for row in conn.execute(query)}
