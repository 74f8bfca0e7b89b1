"""The same import and rebuild on PostgreSQL, beside raw COPY and raw reads of the same events.

Used by `python -m bench.run` when a server answers (default 127.0.0.1:5432, user postgres;
PRACTICE_BENCH_POSTGRES overrides the maintenance URL). Everything happens in a scratch
database made for the run and dropped after it, whatever happens.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.common import Figure
from practice_es.projections.runner import PAGE_SIZE

ADMIN_URL = os.environ.get("PRACTICE_BENCH_POSTGRES",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
EVENTS_TABLE = "practice_events"  # eventsourcing names it after the application (PracticeLedger)
Shapes = tuple[list[tuple[str, int, str]], dict[str, bytes]]


def server_answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database for this run; yields its plain libpq URL. Dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"practice_bench_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


def ledger_url(plain: str) -> str:
    return plain.replace("postgresql://", "postgresql+psycopg://", 1)


def raw_copy_seconds(url: str, shapes: Shapes, count: int) -> float:
    """The first `count` events (same ids, versions, topics, bytes per topic) through one binary
    COPY into a table shaped like the ledger's, in one transaction: the physical limit."""
    import psycopg

    keys, states = shapes
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_events")
        conn.execute("CREATE TABLE raw_events (originator_id uuid NOT NULL, "
                     "originator_version bigint NOT NULL, topic text, state bytea, "
                     "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        ids = {ident: UUID(ident) for ident, _, _ in keys[:count]}  # made before the clock
        start = time.perf_counter()
        with conn.cursor().copy("COPY raw_events (originator_id, originator_version, topic, "
                                "state) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for ident, version, topic in keys[:count]:
                copy.write_row((ids[ident], version, topic, states[topic]))
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE raw_events")
        conn.commit()
    return seconds


def raw_read_seconds(url: str, events: int) -> float:
    """The ledger's first `events` stored events, every column, page by page, by position."""
    import psycopg

    query = ("SELECT notification_id, originator_id, originator_version, topic, state "
             f"FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s")
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        last = read = 0
        while read < events:
            rows: list[Any] = conn.execute(query, (last, min(PAGE_SIZE, events - read))).fetchall()
            if not rows:
                break
            last, read = rows[-1][0], read + len(rows)
        return time.perf_counter() - start


def versus_sqlite(name: str, postgres: float, sqlite: float | None,
                  extra: dict[str, Any]) -> Figure:
    """A PostgreSQL figure (seconds per 1M events) beside the same figure on SQLite."""
    return Figure(name, postgres, "s/1M ev", "the same on sqlite", sqlite,
                  target="≤ 2× sqlite", extra=extra,
                  met=None if not sqlite else postgres <= 2 * sqlite)


def server_cpu_seconds() -> float:
    """CPU seconds used so far by the server's processes on this machine (the backend that
    does an import's inserts, the WAL writer, the checkpointer): what a child's own CPU time
    leaves out. Zero where the server runs elsewhere; it counts every session of the server,
    so other work on it (a test suite) shows here too."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue
        if name.startswith("postgres"):
            fields = rest.split()
            # utime, stime, and of the exited children waited for (the postmaster's:
            # a connection's backend ends with it), in clock ticks
            total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def _one_pair(export: Path, folder: Path, n: int, expected: int, rebuild: bool,
              deadline: float) -> dict[str, Any]:
    """One SQLite import and one PostgreSQL import of the same export, one after the other
    (so both see about the same load), with the raw baselines of the same events; and,
    asked for, one rebuild of each."""
    from bench.bench_import import event_shapes, raw_insert_seconds
    from bench.bench_rebuild import measure_rebuild
    from bench.common import load_average
    from bench.run import measure_import

    sqlite_url = f"sqlite:///{folder / f'ledger-{n}.db'}"
    pair: dict[str, Any] = {"load_before": load_average()}
    pair["sqlite"], _ = measure_import(export, sqlite_url, deadline, expected)
    with scratch_database() as plain:
        server = server_cpu_seconds()
        pair["postgres"], result = measure_import(export, ledger_url(plain), deadline, expected)
        pair["postgres_server_cpu_s"] = server_cpu_seconds() - server
        pair["postgres_result"] = result
        if rebuild:
            pair["sqlite_rebuild"] = measure_rebuild(sqlite_url, deadline)
            server = server_cpu_seconds()
            pair["postgres_rebuild"] = measure_rebuild(ledger_url(plain), deadline)
            pair["postgres_rebuild_server_cpu_s"] = server_cpu_seconds() - server
        shapes = event_shapes(folder / f"ledger-{n}.db")
        count = len(shapes[0])
        pair["raw_copy"] = raw_copy_seconds(plain, shapes, count) * 1e6 / count
    raw = folder / "raw"
    raw.mkdir(exist_ok=True)
    pair["raw_insert"] = raw_insert_seconds(raw, *shapes) * 1e6 / count
    pair["load_after"] = load_average()
    for path in folder.glob(f"ledger-{n}.db*"):
        path.unlink()
    return pair


def _describe(pair: dict[str, Any]) -> str:
    sq, pg = pair["sqlite"], pair["postgres"]
    text = (f"import s/1M ev: sqlite {sq.per_million:.1f} (cpu {sq.cpu_seconds:.1f} s), "
            f"postgres {pg.per_million:.1f} (cpu {pg.cpu_seconds:.1f} s + server "
            f"{pair['postgres_server_cpu_s']:.1f} s), ratio {pg.per_million / sq.per_million:.2f}"
            f"{' (estimated)' if pg.timed_out or sq.timed_out else ''}; raw COPY "
            f"{pair['raw_copy']:.1f}, raw sqlite3 insert {pair['raw_insert']:.1f}")
    if "sqlite_rebuild" in pair:
        sr, pr = pair["sqlite_rebuild"], pair["postgres_rebuild"]
        text += (f"\n  rebuild s/1M ev: sqlite {sr.per_million:.1f} (cpu {sr.cpu_seconds:.1f} s),"
                 f" postgres {pr.per_million:.1f} (cpu {pr.cpu_seconds:.1f} s + server "
                 f"{pair['postgres_rebuild_server_cpu_s']:.1f} s), ratio "
                 f"{pr.per_million / sr.per_million:.2f}"
                 f"{' (stopped)' if pr.timed_out or sr.timed_out else ''}")
    return text + f"\n  load average {pair['load_before']} before, {pair['load_after']} after"


def main() -> None:
    """python -m bench.bench_postgres [--scale 0.1] [--repeat 3] [--rebuild]

    The PostgreSQL import (and with --rebuild the rebuild) against the SQLite one, in pairs
    run one after the other in child processes, each PostgreSQL one into a scratch database
    dropped after it; the ratio is the median of the pairs' ratios."""
    import argparse
    import statistics
    import tempfile

    from bench.bench_import import write_generic_export
    from bench.common import load_average

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0] if main.__doc__
                                     else None)
    parser.add_argument("--scale", type=float, default=0.1,
                        help="of 1,000,000 appointment rows and 50,000 clients")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds per child")
    args = parser.parse_args()
    if not server_answers():
        raise SystemExit(f"no PostgreSQL server answers at {ADMIN_URL}")
    clients, appointments = int(50_000 * args.scale), int(1_000_000 * args.scale)
    pairs = []
    with tempfile.TemporaryDirectory(prefix="practice-bench-pg-") as tmp:
        folder = Path(tmp)
        write_generic_export(folder / "export", clients, appointments)
        expected = clients + 2 * appointments
        for n in range(args.repeat):
            pair = _one_pair(folder / "export", folder, n, expected, args.rebuild,
                             args.deadline)
            print(f"pair {n + 1}: {_describe(pair)}", flush=True)
            pairs.append(pair)
    ratio = statistics.median(p["postgres"].per_million / p["sqlite"].per_million
                              for p in pairs)
    print(f"\n{clients:,} clients, {appointments:,} appointment rows, "
          f"{pairs[-1]['sqlite'].events:,} events; median of {len(pairs)} pair(s):")
    print(f"import postgres / sqlite: {ratio:.2f} (target ≤ 2)")
    if args.rebuild:
        rebuilt = statistics.median(p["postgres_rebuild"].per_million
                                    / p["sqlite_rebuild"].per_million for p in pairs)
        print(f"rebuild postgres / sqlite: {rebuilt:.2f} (target ≤ 2)")
    print(f"load average now {load_average()} (2 cores: above 2 means waiting for a CPU)")


if __name__ == "__main__":
    main()
