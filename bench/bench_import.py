"""`migrate import` of a generated export (generic layout) against raw sqlite3 inserts.

    python -m bench.bench_import              # 1,000,000 appointment rows, 50,000 clients
    python -m bench.bench_import --scale 0.1  # a tenth of that, for a quick run
    python -m bench.bench_import --scale 0.1 --repeat 3 --second-process off

Prints rows per second, the peak RSS of the import, and the ratio of its time to inserting the
same events (same count, same ids and versions in the same order, the same bytes per topic
on average) through raw sqlite3 in one transaction, measured in the same run. The import is
timed in-process without catching the read models up; that catch-up is printed on its own.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mb
from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.migration.importer import ImportRequest, import_export
from practice_es.migration.mapping import load_preset
from practice_es.migration.recorder_process import RecorderProcess

CLIENT_HEADER = ("Client ID", "First Name", "Last Name", "Date of Birth", "Email",
                 "Mobile Phone", "Referral Source", "Referred By", "Health Conditions",
                 "Contraindications", "Client Since")
APPOINTMENT_HEADER = ("Appointment ID", "Client ID", "Date", "Start Time", "Duration (min)",
                      "Service", "Therapist", "Status", "Booked On", "Pain (0-10)", "Notes")
FIRST = ("Ada", "Ben", "Chloé", "Farid", "Hiro", "Ines", "José", "Kara", "Lars", "Maya")
LAST = ("Smith", "Nguyen", "Müller", "Okafor", "Silva", "Tanaka", "Novak", "Haddad")
SOURCES = ("Walk-in", "Google", "Doctor Referral", "Groupon", "", "Friend/Family", "Yelp")
NOTES = ("Focus on lumbar paraspinals", "Client reports better sleep",
         "S: pain down; O: ROM improved", "Upper traps tight, referred to stretching", "")
SERVICES = ("Massage 60 min", "Massage 90 min", "Chiropractic adjustment", "Re-exam")


def _us(day: date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def write_generic_export(folder: Path, clients: int, appointments: int, seed: int = 1) -> None:
    """A generic-layout export: `appointments` rows spread over `clients`, grouped by client
    (as the sample is), dates US style, mostly completed visits with a pain rating."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_client = max(appointments // clients, 1)
    with (folder / "clients.csv").open("w", encoding="utf-8", newline="") as c_file, \
            (folder / "appointments.csv").open("w", encoding="utf-8", newline="") as a_file:
        client_rows, visit_rows = csv.writer(c_file), csv.writer(a_file)
        client_rows.writerow(CLIENT_HEADER)
        visit_rows.writerow(APPOINTMENT_HEADER)
        made = 0
        for n in range(clients):
            since = date(2019, 1, 1) + timedelta(days=rng.randrange(2000))
            first, last = rng.choice(FIRST), rng.choice(LAST)
            client_rows.writerow((f"C{n}", first, last, _us(date(1950 + n % 50, 1 + n % 12,
                                                                 1 + n % 28)),
                                  f"{first}.{last}{n}@example.org".lower(), f"555-{n:07d}",
                                  rng.choice(SOURCES), "", "low back pain", "", _us(since)))
            count = per_client if n < clients - 1 else appointments - made
            day = since
            for k in range(count):
                booked, day = day, day + timedelta(days=rng.randrange(3, 40))
                status = rng.choices(("Completed", "Cancelled", "No Show"), (90, 5, 5))[0]
                if k == count - 1 and rng.random() < 0.3:
                    status = "Booked"
                pain = str(rng.randrange(0, 11)) if status == "Completed" else ""
                visit_rows.writerow((f"A{made}", f"C{n}", _us(day), f"{9 + k % 8}:00", "60",
                                     rng.choice(SERVICES), "Mia Chen LMT", status, _us(booked),
                                     pain, rng.choice(NOTES)))
                made += 1


class Stopwatch:
    """Time spent inside one method of one object or class (where an import's time goes),
    until `stop`."""

    def __init__(self, owner: Any, name: str) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.owner, self.name = owner, name
        real = self.real = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        setattr(owner, name, timed)

    def stop(self) -> None:
        setattr(self.owner, self.name, self.real)


def measure_import(export: Path, db: Path,
                   recorder_process: bool | None = None) -> tuple[float, int, dict[str, Any]]:
    """Seconds, rows read, and the summary's counts of one import into a fresh ledger, with
    the time spent sealing personal fields, in the recorder (insert + audit chain) in this
    process, and waiting for the second process that records the batches (when it does)."""
    ledger = PracticeLedger(Settings(db_url=f"sqlite:///{db}", actor="bench"))
    request = ImportRequest(paths=(export,), mapping=load_preset("generic"),
                            rejects=export / "rejects.csv", recorder_process=recorder_process)
    sealer = getattr(ledger.mapper, "sealer", None)
    sealing = Stopwatch(sealer, "seal") if sealer is not None else None
    inserting = Stopwatch(ledger.recorder, "insert_rows")
    waiting = Stopwatch(RecorderProcess, "_acknowledged")
    sending = Stopwatch(RecorderProcess, "insert")
    cpu = _cpu_seconds()
    start = time.perf_counter()
    try:
        summary = import_export(ledger, request)
    finally:
        for watch in (waiting, sending, inserting, *([sealing] if sealing else [])):
            watch.stop()
    seconds = time.perf_counter() - start
    cpu_self, cpu_child = (after - before for after, before in zip(_cpu_seconds(), cpu,
                                                                   strict=True))
    ledger.close()
    return seconds, summary.rows, {
        "events": summary.events, "clients": summary.clients, "visits": summary.visits,
        "rejected": summary.rejected, "sealing_s": round(sealing.seconds, 1) if sealing else 0,
        "recorder_insert_s": round(inserting.seconds, 1),
        "second_process_batches": sending.calls,
        "waiting_for_it_s": round(waiting.seconds, 1),
        "cpu_s": round(cpu_self, 1), "second_process_cpu_s": round(cpu_child, 1)}


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process, and of its children waited for (the second process)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def catch_up_seconds(db: Path) -> float:
    from practice_es.projections.registry import all_projections
    from practice_es.projections.runner import ProjectionRunner

    ledger = PracticeLedger(Settings(db_url=f"sqlite:///{db}", actor="bench"))
    runner = ProjectionRunner(ledger, all_projections())
    start = time.perf_counter()
    runner.catch_up()
    seconds = time.perf_counter() - start
    runner.close()
    ledger.close()
    return seconds


def event_shapes(db: Path) -> tuple[list[tuple[str, int, str]], dict[str, bytes]]:
    """The imported events' (id, version, topic), in log order, and per topic a state of its
    average stored size (what the raw baseline inserts)."""
    conn = sqlite3.connect(db)
    keys: list[tuple[str, int, str]] = []
    sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for originator, version, topic, size in conn.execute(
            "SELECT originator_id, originator_version, topic, length(state) "
            "FROM stored_events ORDER BY rowid"):
        keys.append((originator, version, topic))
        sizes[topic][0] += size
        sizes[topic][1] += 1
    conn.close()
    return keys, {t: bytes(random.Random(t).randbytes(total // n)) for t, (total, n) in
                  sizes.items()}


def raw_insert_seconds(folder: Path, keys: list[tuple[str, int, str]],
                       states: dict[str, bytes]) -> float:
    """The same events through raw sqlite3, in one transaction, into the ledger's schema."""
    for old in folder.glob("raw.db*"):
        old.unlink()  # a fresh file each time
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
                 "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")

    def rows() -> Iterator[tuple[str, int, str, bytes]]:
        for originator, version, topic in keys:
            yield originator, version, topic, states[topic]

    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows())
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="Imports (each with its own raw baseline); medians are printed.")
    parser.add_argument("--second-process", choices=SECOND_PROCESS, default="auto",
                        help="Record in a second process: when a core is spare (auto), or not.")
    parser.add_argument("--catch-up", action="store_true",
                        help="Also time catching the read models up afterwards.")
    args = parser.parse_args()
    clients, appointments = int(50_000 * args.scale), int(1_000_000 * args.scale)
    runs: list[tuple[float, float, dict[str, Any]]] = []
    rss = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_generic_export(folder / "export", clients, appointments)
        before = peak_rss_mb()
        for n in range(args.repeat):
            db = folder / f"ledger-{n}.db"
            load = os.getloadavg()[0]
            seconds, rows, counts = measure_import(folder / "export", db,
                                                   SECOND_PROCESS[args.second_process])
            rss = rss if n else peak_rss_mb()  # the import's (what follows reads the log)
            keys, states = event_shapes(db)
            raw = raw_insert_seconds(folder, keys, states)
            print(f"run {n + 1}: import {seconds:.1f} s, raw {raw:.2f} s, ratio "
                  f"{seconds / raw:.2f}, load {load:.1f}, {counts}", flush=True)
            runs.append((seconds, raw, counts))
            if n < args.repeat - 1:
                for path in folder.glob(f"ledger-{n}.db*"):
                    path.unlink()
        catch_up = catch_up_seconds(db) if args.catch_up else None
    seconds, raw, ratio = (statistics.median(values) for values in zip(
        *((s, r, s / r) for s, r, _ in runs), strict=True))
    print(f"export: {clients:,} clients, {appointments:,} appointment rows ({rows:,} rows)")
    print(f"import (median of {len(runs)}): {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
    print(f"peak RSS: {rss:.0f} MB (before the import: {before:.0f} MB; a second process's "
          "own is not in it: bench.run samples both)")
    print(f"raw sqlite3, same {len(keys):,} events in one transaction (median): {raw:.2f} s")
    print(f"ratio import / raw insert (median of the runs' ratios): {ratio:.2f} (target: at "
          f"most 3); load average now {os.getloadavg()[0]:.1f}")
    if catch_up is not None:
        print(f"read models caught up afterwards: {catch_up:.1f} s (not in the ratio)")


SECOND_PROCESS = {"auto": None, "on": True, "off": False}


if __name__ == "__main__":
    main()
