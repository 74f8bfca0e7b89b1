"""A client with 1,000 visits must be as quick to act on as a new one (snapshots)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import Figure, median, repeat_ms
from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings


def run(visits: int = 1000, repeats: int = 30) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        ledger = PracticeLedger(Settings(db_url=f"sqlite:///{Path(folder) / 's.db'}",
                                         actor="bench"))
        start = datetime(2020, 1, 1, 9)
        busy = ledger.record_intake(name="Busy Client", on=start)
        for n in range(visits):
            ledger.complete_visit(busy, on=start + timedelta(days=n))
        new = ledger.record_intake(name="New Client", on=start)
        day = start + timedelta(days=visits + 1)

        def act(client: object) -> None:
            ledger.update_contact(client, phone="555", on=day)  # type: ignore[arg-type]

        busy_ms = median(repeat_ms(lambda: act(busy), repeats))
        new_ms = median(repeat_ms(lambda: act(new), repeats))
        ledger.close()
    return [Figure(f"client with {visits} visits: one action", busy_ms, "ms median",
                   "a new client: one action", new_ms, target="ratio ≈ 1")]
