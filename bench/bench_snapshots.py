"""A client with 1,000 visits must be as quick to act on as a new one (snapshots).

    python -m bench.bench_snapshots [--visits 1000] [--without-snapshots]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from bench.common import Figure, median, print_table, repeat_ms
from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings

TOLERANCE = 1.25  # "as quick as a new client", allowing for this machine's noise


class LedgerWithoutSnapshots(PracticeLedger):
    """The before of ADR 13: every action replays the client's whole history."""

    snapshotting_intervals = {}  # type: ignore[assignment]


def run(visits: int = 1000, repeats: int = 30, snapshots: bool = True) -> list[Figure]:
    kind = PracticeLedger if snapshots else LedgerWithoutSnapshots
    with tempfile.TemporaryDirectory() as folder:
        ledger = kind(Settings(db_url=f"sqlite:///{Path(folder) / 's.db'}", actor="bench"))
        start = datetime(2020, 1, 1, 9)
        busy = ledger.record_intake(name="Busy Client", on=start)
        for n in range(visits):
            ledger.complete_visit(busy, on=start + timedelta(days=n))
        new = ledger.record_intake(name="New Client", on=start)
        day = start + timedelta(days=visits + 1)

        def act(client: UUID) -> None:
            ledger.update_contact(client, phone="555", on=day)

        # Interleaved, so a burst of load elsewhere on the machine hits both alike.
        busy_ms: list[float] = []
        new_ms: list[float] = []
        for _ in range(repeats):
            busy_ms += repeat_ms(lambda: act(busy), 1)
            new_ms += repeat_ms(lambda: act(new), 1)
        ledger.close()
    ratio = median(busy_ms) / median(new_ms)
    label = "" if snapshots else " (snapshots off)"
    return [Figure(f"client with {visits:,} visits: one action{label}", median(busy_ms),
                   "ms median", "a new client: one action", median(new_ms),
                   target=f"ratio ≈ 1 (≤ {TOLERANCE})", met=ratio <= TOLERANCE)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--without-snapshots", action="store_true")
    args = parser.parse_args()
    print_table(run(args.visits, args.repeats, not args.without_snapshots))


if __name__ == "__main__":
    main()
