"""Each practitioner's figures over a report window (SPEC §11, Cliniko's practitioner
performance): visits they completed, clients new with them, PVA and rebooking rate.

A new client counts for the practitioner of their first completed visit, with every visit
they made in the window (so the practitioners' new clients and visits add up to the
practice's, and PVA is the practice's figure split by who first saw the client)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from practice_es.reports.attendance import attendance
from practice_es.reports.window import Window, ratio


@dataclass
class Treated:
    visits: int = 0
    rebooked: int = 0
    new_clients: int = 0
    new_client_visits: int = 0

    def row(self, practitioner: str | None) -> dict[str, Any]:
        return {"practitioner": practitioner, "visits": self.visits,
                "new_clients": self.new_clients,
                "pva": ratio(self.new_client_visits, self.new_clients),
                "rebooking_rate": ratio(self.rebooked, self.visits),
                "new_client_visits": self.new_client_visits, "rebooked": self.rebooked}


def practitioner_rows(conn: Connection, window: Window) -> list[dict[str, Any]]:
    """One row per practitioner (null: visits recorded without one), by name."""
    tallies: dict[str | None, Treated] = defaultdict(Treated)
    for client in attendance(conn, window):
        inside = [(done, who) for done, who in client.treated if done in window]
        again = client.rebooked([done for done, _ in inside])
        for (_, who), rebooked in zip(inside, again, strict=True):
            tallies[who].visits += 1
            tallies[who].rebooked += rebooked
        if client.treated and client.treated[0][0] in window:
            first = tallies[client.treated[0][1]]
            first.new_clients += 1
            first.new_client_visits += len(inside)
    order = sorted(tallies, key=lambda who: (who is None, (who or "").casefold()))
    return [tallies[who].row(who) for who in order]
