"""Full rebuild of every projection over a big SQLite ledger: seconds, events/s, peak RSS.

    python -m bench.bench_rebuild_profile --events 100000          # build (cached) + measure
    python -m bench.bench_rebuild_profile --events 1000000 --repeats 2
    python -m bench.bench_rebuild_profile --events 100000 --profile out.svg   # py-spy
    python -m bench.bench_rebuild_profile --events 100000 --postgres postgresql+psycopg://u@h/db

The ledger is built once and kept in --cache (default /tmp/practice-rebuild-bench):
- `--source demo` (default): `practice demo --clients 2000` (a realistic practice: intakes,
  assessments, bookings, completed, cancelled and missed visits with measures and notes,
  programs in all phases, referrals in and out, lapses, recalls, reactivations) recorded once
  through the application, then copied with every id renamed (a copy is another practice's
  worth of clients) until the log holds --events events. Copies go through the ledger's own
  mapper (personal fields sealed under fresh data keys) and recorder (hash chain kept), in
  batches of 10,000, by bench_audit's `_insert`.
- `--source import`: bench_import's generated export (20 appointments per client) through
  `migrate import`, the log the benchmark suite measures.

Each measurement runs `practice projections rebuild` as a child process under
/usr/bin/time, so the figure is what a user sees: seconds from start to exit, peak RSS (of its
largest process), CPU seconds (its second process's included). A long rebuild takes a second
process when a core is idle (ADR 15); `PRACTICE_REBUILD_PROCESSES=1` in the environment keeps
it to one, to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from bench.bench_audit import _insert
from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings

CACHE = Path(os.environ.get("PRACTICE_REBUILD_CACHE", "/tmp/practice-rebuild-bench"))
SEED_CLIENTS = 2000
BATCH = 10_000
_RENAMED = uuid.UUID("6f1c0b52-5d55-4d0e-9a52-7c1c3f0f6a11")
_OWN_KEYS = ("practice:Client.", "practice:Referral.ReferralReceived")


def _ledger(where: Path | str) -> PracticeLedger:
    """The ledger in a SQLite file (a path) or at a store URL."""
    url = where if isinstance(where, str) else f"sqlite:///{where}"
    return PracticeLedger(Settings(db_url=url, actor="bench"))


def seed_ledger(folder: Path) -> Path:
    """The demo practice, recorded once through the application (about 38,000 events)."""
    path = folder / f"seed-{SEED_CLIENTS}.db"
    if path.exists():
        return path
    from practice_es.demo import record_demo
    from practice_es.projections.registry import all_projections
    from practice_es.projections.runner import ProjectionRunner

    partial = path.with_suffix(".partial")
    ledger = _ledger(partial)
    runner = ProjectionRunner(ledger, all_projections())
    record_demo(ledger, runner, clients=SEED_CLIENTS)
    runner.close()
    ledger.close()
    partial.rename(path)
    return path


def seed_events(path: Path) -> list[Any]:
    ledger = _ledger(path)
    events = [ledger.mapper.to_domain_event(n)
              for n in ledger.recorder.select_notifications(start=None, limit=10**8)]
    ledger.close()
    return events


class Renamer:
    """One copy of the practice: every id (and a referrer that is a client's id) renamed."""

    def __init__(self, copy: int) -> None:
        self.copy = copy
        self.names: dict[uuid.UUID, uuid.UUID] = {}

    def id(self, old: uuid.UUID) -> uuid.UUID:
        new = self.names.get(old)
        if new is None:
            new = self.names[old] = uuid.uuid5(_RENAMED, f"{self.copy}:{old}")
        return new

    def value(self, value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return self.id(value)
        if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
            try:
                return str(self.id(uuid.UUID(value)))
            except ValueError:
                return value
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def event(self, event: Any) -> Any:
        return type(event).model_validate(self.value(event.model_dump()))


def copies(template: list[Any], events: int) -> Iterator[Any]:
    """`events` events: the template's log, copied under new ids as often as needed."""
    made, copy = 0, 0
    while made < events:
        renamer = Renamer(copy)
        for event in template[:events - made]:
            yield renamer.event(event)
        made += min(len(template), events - made)
        copy += 1


def grow(seed: Path, where: Path | str, events: int) -> None:
    template = seed_events(seed)
    ledger = _ledger(where)
    stream = copies(template, events)
    while batch := list(islice(stream, BATCH)):
        _insert_batch(ledger, batch)
    ledger.close()


def _insert_batch(ledger: PracticeLedger, batch: list[Any]) -> None:
    # Every person's data key in one transaction (else one commit per new client).
    ledger.keys.create_data_keys([e.originator_id for e in batch
                                  if type(e).TOPIC.startswith(_OWN_KEYS)])
    _insert(ledger, [batch])


def import_ledger(path: Path, events: int) -> None:
    """bench_import's generic export, of about `events` appointment rows, imported."""
    import tempfile

    from bench.bench_import import write_generic_export
    from practice_es.migration.importer import ImportRequest, import_export
    from practice_es.migration.mapping import load_preset

    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export"
        write_generic_export(export, max(events // 20, 1), events)
        ledger = _ledger(path)
        import_export(ledger, ImportRequest(paths=(export,), mapping=load_preset("generic"),
                                            rejects=export / "rejects.csv"))
        ledger.close()


def ledger_file(source: str, events: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{source}-{events}.db"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        for stale in CACHE.glob(f"{partial.name}*"):
            stale.unlink()
        if source == "demo":
            grow(seed_ledger(CACHE), partial, events)
        else:
            import_ledger(partial, events)
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(path)
        print(f"built {path} in {time.perf_counter() - started:.0f} s")
    return path


def postgres_ledger(base: str, events: int) -> str:
    """The demo ledger of `events` events in a new schema of the PostgreSQL at `base`."""
    schema = f"practice_rebuild_bench_{os.getpid()}"
    with _admin(base) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{base.split('?')[0]}?schema={schema}"
    started = time.perf_counter()
    grow(seed_ledger(CACHE), url, events)
    print(f"built {events:,} events in schema {schema} in {time.perf_counter() - started:.0f} s")
    return url


def drop_schema(url: str) -> None:
    with _admin(url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{url.rsplit("schema=", 1)[1]}" CASCADE')


def _admin(url: str) -> Any:
    import psycopg

    plain = url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(plain, autocommit=True)


def rebuild_command(where: Path | str) -> list[str]:
    practice = str(Path(sys.executable).with_name("practice"))
    url = where if isinstance(where, str) else f"sqlite:///{where}"
    return [practice, "--db", url, "--actor", "bench", "projections", "rebuild"]


def measure(where: Path | str) -> tuple[float, float, float]:
    """Seconds, CPU seconds (user + system: what the shared machine's load does not blur)
    and peak RSS (MB) of one `practice projections rebuild` process."""
    command = ["/usr/bin/time", "-v", *rebuild_command(where)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    return seconds, _number(done.stderr, "User time") + _number(
        done.stderr, "System time"), _number(done.stderr, "Maximum resident set size") / 1024


def _number(report: str, label: str) -> float:
    found = re.search(re.escape(label) + r"[^:]*: ([\d.]+)", report)
    return float(found.group(1)) if found else float("nan")


def profile(path: Path, output: str) -> None:
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    formats = {".json": "speedscope", ".txt": "raw"}  # .txt: collapsed stacks, for grep
    fmt = formats.get(Path(output).suffix, "flamegraph")
    subprocess.run([py_spy, "record", "--rate", "200", "--format", fmt, "-o", output, "--",
                    *rebuild_command(path)], check=True)


def events_in(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(path)
    count = int(conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0])
    conn.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--source", choices=("demo", "import"), default="demo")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="py-spy flamegraph (.svg), speedscope "
                        "(.json) or collapsed stacks (.txt) of one rebuild instead of timing it")
    parser.add_argument("--postgres", metavar="URL", help="build the demo ledger in a new "
                        "schema there, measure, drop it (postgresql+psycopg://user@host/db)")
    args = parser.parse_args()
    if args.postgres:
        url = postgres_ledger(args.postgres, args.events)
        try:
            report(url, args.events, args.repeats)
        finally:
            drop_schema(url)
        return
    path = ledger_file(args.source, args.events)
    if args.profile:
        profile(path, args.profile)
        return
    report(path, events_in(path), args.repeats)


def report(where: Path | str, count: int, repeats: int) -> None:
    print(f"{count:,} events in {where}; load average {os.getloadavg()[0]:.1f}")
    for _ in range(repeats):
        seconds, cpu, rss = measure(where)
        print(f"rebuild: {seconds:6.1f} s  {count / seconds:9,.0f} events/s  "
              f"cpu {cpu:6.1f} s  peak RSS {rss:5.0f} MB  "
              f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
