"""The benchmark suite (issue 6, SPEC §7): every figure beside its baseline from the same run.

    python -m bench.run --scale full    # 1,000,000 appointment rows, 50,000 clients (make bench)
    python -m bench.run --scale quick   # a tenth of that (make bench-quick)
    python -m bench.run --scale quick --only import,rebuild --repeat 3 --no-postgres

One export is generated and imported once per store; every later figure uses that ledger.
Imports and rebuilds run in child processes (their peak RSS is their own) with a deadline per
scale, so a slow build cannot make the suite overrun its time: a rebuild still running then is
stopped and reported over the events it had replayed; a stopped import is estimated from the
rate it had reached. Both are marked so in the table.
Prints the table and writes bench/results.json (with the load average before and after: the
machine is shared, so read the figures with it).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from bench import bench_cli, bench_postgres, bench_snapshots, bench_web
from bench.bench_import import event_shapes, raw_insert_seconds, write_generic_export
from bench.bench_rebuild import (
    MILLION,
    Replay,
    measure_rebuild,
    median_replay,
    raw_read_seconds,
    rebuild_figures,
)
from bench.common import (
    Figure,
    load_average,
    median,
    p99,
    print_table,
    repeat_ms,
    run_child,
    write_results,
)

PARTS = ("import", "rebuild", "audit", "cli", "snapshots", "web", "postgres")
IMPORT_RATIO_TARGET = 3
AUDIT_TARGET_MS = 20


@dataclass(frozen=True)
class Scale:
    clients: int
    appointments: int
    deadline: float  # seconds, per measured import or rebuild
    baseline_repeats: int
    audit_repeats: int
    cli_repeats: int
    visits: int
    web_repeats: int


SCALES = {
    "full": Scale(50_000, 1_000_000, 170, 1, 200, 11, 1000, 21),
    "quick": Scale(5_000, 100_000, 17, 2, 100, 5, 1000, 21),
}


def stored_events(url: str) -> int:
    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.settings import Settings

    ledger = PracticeLedger(Settings(db_url=url, actor="bench"))
    count = ledger.recorder.max_notification_id() or 0
    ledger.close()
    return count


def measure_import(export: Path, url: str, deadline: float,
                   expected: int) -> tuple[Replay, dict[str, Any]]:
    """One import into an empty ledger, in a child process. Stopped at its deadline, its time
    for all `expected` events is estimated: the passes before recording (reading the clients,
    the prepass) as measured, the recording at the rate it had reached."""
    run = run_child([sys.executable, "-m", "bench.child", "import", str(export), url],
                    timeout=deadline)
    result = run.result
    if not run.timed_out:
        return Replay(int(result["events"]), float(result["seconds"]), run.seconds,
                      run.cpu_seconds, run.peak_rss_mb, False, run.tree_rss_mb), result
    done = stored_events(url)
    before = next((line["seconds"] for line in run.lines
                   if str(line.get("label", "")).startswith("intakes")), run.seconds)
    recording = max(run.seconds - before, 1e-9)
    estimate = before + recording * expected / max(done, 1)
    return Replay(expected, estimate, run.seconds, run.cpu_seconds, run.peak_rss_mb, True,
                  run.tree_rss_mb), {"events_recorded_by_deadline": done,
                                     "passes_before_recording_s": round(before, 2),
                                     "estimated": True}


def import_figures(store: str, replay: Replay, result: dict[str, Any],
                   raw_per_million: float, raw_name: str) -> list[Figure]:
    stopped = _stopped(replay, "import")
    rows = result.get("rows")
    extra: dict[str, Any] = {**replay.as_extra(), **result}
    if rows:
        extra["rows_per_s"] = round(rows / replay.seconds)
    ratio = replay.per_million / raw_per_million
    return [
        Figure(f"import ({store}), {replay.events:,} events{stopped}", replay.per_million,
               "s/1M ev", raw_name, raw_per_million, target=f"≤ {IMPORT_RATIO_TARGET}× raw",
               extra=extra, met=ratio <= IMPORT_RATIO_TARGET),
        Figure(f"import peak RSS ({store})", replay.memory_mb, "MB", target="flat"),
    ]


def repeated(times: int, func: Callable[[], float]) -> float:
    return statistics.median(func() for _ in range(times))


def per_million(seconds: float, events: int) -> float:
    return seconds * MILLION / max(events, 1)


def audit_client(path: Path) -> UUID:
    """A client whose events sit around the middle of the log."""
    conn = sqlite3.connect(path)
    head = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0] or 0
    row = conn.execute("SELECT originator_id FROM stored_events WHERE rowid >= ? "
                       "AND topic LIKE 'practice:Client.%' ORDER BY rowid LIMIT 1",
                       (head // 2,)).fetchone()
    conn.close()
    return UUID(row[0])


def audit_figures(url: str, path: Path, repeats: int) -> list[Figure]:
    """`audit history` of one client of the imported ledger (in-process, as bench_audit)."""
    from bench.bench_audit import raw_baseline
    from practice_es.application import PracticeLedger
    from practice_es.audit.api import history_of
    from practice_es.infrastructure.settings import Settings
    from practice_es.projections.referral_index import ReferrerIndex
    from practice_es.projections.runner import ProjectionRunner

    ledger = PracticeLedger(Settings(db_url=url, actor="bench"))
    runner = ProjectionRunner(ledger, [ReferrerIndex()])
    client = audit_client(path)
    entries = history_of(ledger, runner, client).entries
    audit_ms = repeat_ms(lambda: history_of(ledger, runner, client), repeats)
    ids = list(dict.fromkeys(e.event.originator_id for e in entries))
    raw_ms, plan = raw_baseline(path, ids, repeats)
    total = ledger.recorder.max_notification_id() or 0
    runner.close()
    ledger.close()
    extra = {"client": str(client), "events_of_client": len(entries), "query_plan": plan}
    return [
        Figure(f"audit history, 1 client of {total:,} events", median(audit_ms), "ms median",
               "raw sqlite3 select of its rows", median(raw_ms),
               target=f"< {AUDIT_TARGET_MS} ms", extra=extra,
               met=median(audit_ms) < AUDIT_TARGET_MS),
        Figure("audit history p99", p99(audit_ms), "ms p99", "raw sqlite3 select p99",
               p99(raw_ms)),
    ]


class Suite:
    def __init__(self, scale: str, parts: set[str], repeat: int, folder: Path) -> None:
        self.scale = SCALES[scale]
        self.parts = parts
        self.repeat = repeat
        self.folder = folder
        self.export = folder / "export"
        self.figures: list[Figure] = []
        self.sqlite_import: Replay | None = None
        self.sqlite_rebuild: Replay | None = None
        self.raw: dict[str, float] = {}  # seconds per 1M events of each raw baseline
        self.pg_url: str | None = None  # a scratch database, when a server answers
        self.shapes: Any = None  # the imported events' ids, versions, topics and sizes

    def url(self, n: int) -> str:
        return f"sqlite:///{self.folder / f'ledger-{n}.db'}"

    @property
    def ledger(self) -> Path:
        return self.folder / "ledger-0.db"

    def step(self, label: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} load {load_average():.1f}] {label}",
              file=sys.stderr, flush=True)

    def run(self) -> None:
        self.step(f"export: {self.scale.clients:,} clients, "
                  f"{self.scale.appointments:,} appointments")
        write_generic_export(self.export, self.scale.clients, self.scale.appointments)
        self.step("import (sqlite)")
        self.import_sqlite()
        if "rebuild" in self.parts:
            self.step("rebuild (sqlite)")
            self.rebuild_sqlite()
        if "audit" in self.parts:
            self.step("audit history")
            self.figures += audit_figures(self.url(0), self.ledger, self.scale.audit_repeats)
        if "cli" in self.parts:
            self.step("cli")
            self.figures += self.cli_figures()
        if "snapshots" in self.parts:
            self.step("snapshots")
            self.figures += bench_snapshots.run(self.scale.visits)
        if "web" in self.parts:
            self.step("web pages")
            self.figures += bench_web.run(self.url(0), self.scale.web_repeats,
                                          f"{self.scale.appointments:,} appointments")

    def cli_figures(self) -> list[Figure]:
        """On the imported ledger when its read models are whole (an action catches them up:
        after a rebuild stopped at its deadline it would replay the rest), else a new one."""
        if self.sqlite_rebuild is None or self.sqlite_rebuild.timed_out:
            return bench_cli.run(self.scale.cli_repeats)
        events = stored_events(self.url(0))
        return bench_cli.run(self.scale.cli_repeats, self.url(0), str(audit_client(self.ledger)),
                             f"a ledger of {events:,} events")

    def import_sqlite(self) -> None:
        replays: list[Replay] = []
        result: dict[str, Any] = {}
        for n in reversed(range(self.repeat)):  # the last one, ledger-0, is kept
            replay, result = measure_import(self.export, self.url(n), self.scale.deadline,
                                            self.expected_events())
            replays.append(replay)
            if n:
                Path(self.url(n).removeprefix("sqlite:///")).unlink()
        self.sqlite_import = replay = median_replay(replays)
        shapes = event_shapes(self.ledger)
        count = len(shapes[0])
        raw = repeated(self.scale.baseline_repeats,
                       lambda: raw_insert_seconds(self._fresh("raw"), *shapes))
        self.raw["sqlite insert"] = per_million(raw, count)
        if "import" in self.parts:
            self.figures += import_figures("sqlite", replay, result, self.raw["sqlite insert"],
                                           "raw sqlite3 insert, same events")
        self.shapes = shapes  # kept for PostgreSQL's COPY, measured after its import

    def expected_events(self) -> int:
        """The events the export makes: known once one import finished; before that, about
        an intake per client and two events (booked, then the outcome) per appointment."""
        if self.sqlite_import is not None and not self.sqlite_import.timed_out:
            return self.sqlite_import.events
        return self.scale.clients + 2 * self.scale.appointments

    def _fresh(self, name: str) -> Path:
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        (folder / "raw.db").unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            (folder / f"raw.db{suffix}").unlink(missing_ok=True)
        return folder

    def rebuild_sqlite(self) -> None:
        replays = [measure_rebuild(self.url(0), self.scale.deadline) for _ in range(self.repeat)]
        self.sqlite_rebuild = replay = median_replay(replays)
        raw = repeated(self.scale.baseline_repeats,
                       lambda: raw_read_seconds(self.ledger, replay.events))
        self.raw["sqlite read"] = per_million(raw, replay.events)
        self.figures += rebuild_figures(replay, raw)

    def run_postgres(self) -> None:
        """Import and rebuild again on PostgreSQL (the same export), then the raw COPY of the
        same events: last, so that its checkpoint does not slow the import down."""
        assert self.pg_url is not None
        url = bench_postgres.ledger_url(self.pg_url)
        self.step("import (postgres)")
        imported, result = measure_import(self.export, url, self.scale.deadline,
                                          self.expected_events())
        rebuilt = None
        if "rebuild" in self.parts:
            self.step("rebuild (postgres)")
            rebuilt = measure_rebuild(url, self.scale.deadline)
            raw_read = bench_postgres.raw_read_seconds(self.pg_url, rebuilt.events)
        self.step("raw COPY (postgres)")
        count = len(self.shapes[0])
        copy = repeated(self.scale.baseline_repeats, lambda: bench_postgres.raw_copy_seconds(
            self.pg_url, self.shapes, count))  # type: ignore[arg-type]
        self.raw["postgres copy"] = per_million(copy, count)
        self.figures.append(Figure("raw postgres COPY, same events", self.raw["postgres copy"],
                                   "s/1M ev", "raw sqlite3 insert", self.raw["sqlite insert"]))
        sqlite = self.sqlite_import.per_million if self.sqlite_import else None
        self.figures.append(bench_postgres.versus_sqlite(
            f"import (postgres), {imported.events:,} events{_stopped(imported, 'import')}",
            imported.per_million, sqlite, {**imported.as_extra(), **result, "vs_raw_copy":
                                           imported.per_million / self.raw["postgres copy"]}))
        if rebuilt is not None:
            sqlite = self.sqlite_rebuild.per_million if self.sqlite_rebuild else None
            self.figures.append(bench_postgres.versus_sqlite(
                f"rebuild all projections (postgres), {rebuilt.events:,} events"
                f"{_stopped(rebuilt, 'rebuild')}", rebuilt.per_million, sqlite,
                {**rebuilt.as_extra(), "raw_read_s_per_1M": per_million(raw_read,
                                                                        rebuilt.events)}))


def _stopped(replay: Replay, kind: str) -> str:
    if not replay.timed_out:
        return ""
    return " (estimated: stopped at its deadline)" if kind == "import" else " (stopped)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=tuple(SCALES), default="quick")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to measure ({', '.join(PARTS)})")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="imports and rebuilds per store (the median is reported)")
    args = parser.parse_args()
    parts = set(args.only.split(",")) - ({"postgres"} if args.no_postgres else set())
    started, load_before = time.perf_counter(), load_average()
    with tempfile.TemporaryDirectory(prefix="practice-bench-") as tmp:
        suite = Suite(args.scale, parts, args.repeat, Path(tmp))
        if "postgres" in parts and bench_postgres.server_answers():
            with bench_postgres.scratch_database() as plain:
                suite.pg_url = plain
                suite.run()
                suite.run_postgres()
        else:
            suite.run()
    seconds = time.perf_counter() - started
    print_table(suite.figures)
    print(f"\n{args.scale} run: {seconds:.0f} s; load average {load_before} before, "
          f"{load_average()} after (2 cores: above 2 means waiting for a CPU)")
    if args.scale != "full":
        print("(a tenth of the events under the same start-up costs: a smoke test; the SPEC's "
              "targets are judged at full size, by `make bench`)")
    write_results(suite.figures, args.scale, seconds=round(seconds),
                  load_average={"before": load_before, "after": load_average()},
                  raw_baselines_s_per_1M=suite.raw, command=" ".join(sys.argv))


if __name__ == "__main__":
    main()
