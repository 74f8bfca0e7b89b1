"""A client with 1,000 visits must be as quick to act on as a new one (snapshots).

    python -m bench.bench_snapshots [--visits 1000] [--repeats N] [--every N]
                                    [--without-snapshots]

One action (`client update --phone`, in-process: load, decide, save) on the busy client,
interleaved with the same action on a new client (a fresh one each time, only its intake
recorded), so a burst of load elsewhere on the machine hits both alike. Each action on the busy
client adds an event, so the repeats (at least one interval of snapshots) act at every distance
from its latest snapshot, the save that takes the next one included: the figure is what acting
on that client costs whenever it is done, not just right after a snapshot. Wall and CPU time of
each action are both given, beside the load average (a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from bench.common import Figure, load_average, median, p99, print_table
from practice_es.application import PracticeLedger
from practice_es.domain.client import Client
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.snapshots import SNAPSHOT_EVERY

TOLERANCE = 1.25  # "as quick as a new client", allowing for this machine's noise


def ledger_class(every: int | None) -> type[PracticeLedger]:
    """The ledger with snapshots every `every` events of a client (None: never, ADR 13's
    before: every action replays the client's whole history)."""

    class Ledger(PracticeLedger):
        snapshotting_intervals = {Client: every} if every else {}

    return Ledger


def run(visits: int = 1000, repeats: int = 0, snapshots: bool = True,
        every: int = SNAPSHOT_EVERY) -> list[Figure]:
    repeats = repeats or max(2 * every, 60)
    load_before = load_average()
    with tempfile.TemporaryDirectory() as folder:
        kind = ledger_class(every if snapshots else None)
        ledger = kind(Settings(db_url=f"sqlite:///{Path(folder) / 's.db'}", actor="bench"))
        start = datetime(2020, 1, 1, 9)
        busy = ledger.record_intake(name="Busy Client", on=start)
        for n in range(visits):
            ledger.complete_visit(busy, on=start + timedelta(days=n))
        new = [ledger.record_intake(name="New Client", on=start) for _ in range(repeats)]
        day = start + timedelta(days=visits + 1)

        def act(client: UUID) -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            ledger.update_contact(client, phone="555", on=day)
            return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

        busy_ms, new_ms = [], []
        for client in new:
            busy_ms.append(act(busy))
            new_ms.append(act(client))
        ledger.close()
    busy_wall, busy_cpu = zip(*busy_ms, strict=True)
    new_wall, new_cpu = zip(*new_ms, strict=True)
    ratio = median(busy_wall) / median(new_wall)
    label = f" (snapshots every {every})" if snapshots else " (snapshots off)"
    if snapshots and every == SNAPSHOT_EVERY:
        label = ""
    extra = {
        "repeats": repeats, "snapshot_every": every if snapshots else None,
        "busy_cpu_ms_median": round(median(busy_cpu), 3),
        "new_cpu_ms_median": round(median(new_cpu), 3),
        "cpu_ratio": round(median(busy_cpu) / median(new_cpu), 2),
        "busy_ms_mean": round(sum(busy_wall) / len(busy_wall), 3),
        "new_ms_mean": round(sum(new_wall) / len(new_wall), 3),
        "busy_ms_p99": round(p99(busy_wall), 3), "new_ms_p99": round(p99(new_wall), 3),
        "load_average": [load_before, load_average()],
    }
    return [Figure(f"client with {visits:,} visits: one action{label}", median(busy_wall),
                   "ms median", "a new client: one action", median(new_wall),
                   target=f"ratio ≈ 1 (≤ {TOLERANCE})", met=ratio <= TOLERANCE, extra=extra)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=0,
                        help="actions on each client (default: two snapshot intervals)")
    parser.add_argument("--every", type=int, default=SNAPSHOT_EVERY,
                        help="snapshot a client every N events")
    parser.add_argument("--without-snapshots", action="store_true")
    args = parser.parse_args()
    figures = run(args.visits, args.repeats, not args.without_snapshots, args.every)
    print_table(figures)
    for figure in figures:
        print("  " + ", ".join(f"{k} {v}" for k, v in figure.extra.items()))


if __name__ == "__main__":
    main()
