"""A simulated group of practices on the local PostgreSQL (SPEC §11), and the reports-ready
import ratio on SQLite.

    python -m bench.bench_group                         # 100 practices x 20,000 events
    python -m bench.bench_group --practices 20 --events 5000   # a smaller group

Everything happens in a scratch database made for the run and dropped after it. As a user
runs it, through the `practice` command: `group add` for each practice, `migrate import` of a
generated export into each (with PRACTICE_CATCH_UP=inline: until every read model is at the
log's head), `group report retention` (median of 3), `group rebuild` with one worker and with
one per core, `export parquet` of the whole group and a second run with nothing new.

The reports-ready import: one practice's `migrate import` on SQLite until its read models are
at the head, against the same events through raw sqlite3 in one transaction (bench_import's
baseline), measured in the same run. Each figure is printed with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_import import event_shapes, raw_insert_seconds, write_generic_export
from bench.bench_postgres import ledger_url, scratch_database, server_answers
from bench.common import child_env, load_average

PRACTICE = str(Path(sys.executable).with_name("practice"))
EVENTS_PER_ROW = 2.2  # a booking and what became of it, and each client's intake


def practice(db: str, *args: str, extra: dict[str, str] | None = None) -> float:
    """Run `practice --db DB ARGS…` to its end; its wall time (stdout and stderr dropped)."""
    env = child_env({"PRACTICE_CATCH_UP": "inline", **(extra or {})})
    started = time.perf_counter()
    subprocess.run([PRACTICE, "--db", db, *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def group_figures(export: Path, out: Path, practices: int, events: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"practices": practices, "load_start": load_average()}
    names = [f"clinic-{n:03d}" for n in range(practices)]
    with scratch_database() as plain:
        url = ledger_url(plain)
        figures["group_add_s"] = sum(practice(url, "group", "add", n) for n in names)
        started = time.perf_counter()
        for name in names:
            practice(url, "--practice", name, "migrate", "import", str(export),
                     "--format", "generic", "--rejects", str(out / "rejects.csv"))
        figures["import_s"] = time.perf_counter() - started
        figures["events"] = _events(plain, practices)
        figures["import_events_per_s"] = figures["events"] / figures["import_s"]
        figures["load_after_import"] = load_average()
        report = [practice(url, "group", "report", "retention", "--format", "json")
                  for _ in range(3)]
        figures["group_report_s"] = statistics.median(report)
        figures["rebuild_serial_s"] = practice(url, "group", "rebuild", "--workers", "1")
        workers = str(os.cpu_count() or 1)
        figures["rebuild_parallel_s"] = practice(url, "group", "rebuild", "--workers", workers)
        figures["rebuild_workers"] = int(workers)
        figures["load_after_rebuild"] = load_average()
        figures["export_s"] = practice(url, "export", "parquet", str(out / "parquet"))
        figures["export_again_s"] = practice(url, "export", "parquet", str(out / "parquet"))
    figures["load_end"] = load_average()
    return figures


def _events(plain: str, practices: int) -> int:
    import psycopg

    with psycopg.connect(plain) as conn:
        schemas = [row[0] for row in conn.execute(
            "SELECT schema_name FROM practice_registry")]
        total = 0
        for schema in schemas:
            row = conn.execute(f'SELECT count(*) FROM "{schema}".practice_events').fetchone()
            total += row[0] if row else 0
        return total


def import_ratio(export: Path, folder: Path) -> dict[str, Any]:
    """`migrate import` on SQLite until every read model is at the head, against raw sqlite3;
    their CPU seconds too (on a shared machine, steadier than their wall times)."""
    db = folder / "one.db"
    for old in folder.glob("one.db*"):
        old.unlink()  # a fresh ledger each time
    load = load_average()
    before = _children_cpu()
    seconds = practice(f"sqlite:///{db}", "migrate", "import", str(export), "--format",
                       "generic", "--rejects", str(folder / "rejects.csv"))
    cpu = _children_cpu() - before
    shapes = event_shapes(db)
    raw = folder / "raw"
    raw.mkdir(exist_ok=True)
    started = time.process_time()
    baseline = raw_insert_seconds(raw, *shapes)
    raw_cpu = time.process_time() - started
    return {"events": len(shapes[0]), "reports_ready_import_s": seconds, "raw_insert_s": baseline,
            "ratio": seconds / baseline, "cpu_s": cpu, "raw_cpu_s": raw_cpu,
            "cpu_ratio": cpu / raw_cpu, "load": load, "load_end": load_average()}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practices", type=int, default=100)
    parser.add_argument("--events", type=int, default=20_000, help="events per practice")
    parser.add_argument("--skip-group", action="store_true", help="the import ratio only")
    parser.add_argument("--repeat", type=int, default=1, help="import ratios to measure")
    args = parser.parse_args(argv)
    rows = max(int(args.events / EVENTS_PER_ROW), 10)
    with tempfile.TemporaryDirectory(prefix="practice-group-") as folder:
        base = Path(folder)
        export = base / "export"
        write_generic_export(export, clients=max(rows // 20, 1), appointments=rows)
        for _ in range(args.repeat):
            print(json.dumps({"import_ratio": import_ratio(export, base)}), flush=True)
        if not args.skip_group:
            if not server_answers():
                raise SystemExit("no PostgreSQL at 127.0.0.1:5432 (PRACTICE_BENCH_POSTGRES)")
            figures = group_figures(export, base, args.practices, args.events)
            print(json.dumps({"group": figures}), flush=True)


if __name__ == "__main__":
    main()
