"""`audit history` of one client in a ledger of 1,000,000 events, and `audit verify` over it.

    python -m bench.bench_audit                  # 1,000,000 events (SQLite file)
    python -m bench.bench_audit --events 100000  # a tenth, for a quick run

The ledger is built fast but for real: one filler client's events are made through the domain,
copied for every other filler client (new ids; 20 events each) and inserted in batches of
10,000 through the ledger's own mapper (personal fields sealed) and recorder (hash chain kept).
The measured client (a referral in, intake, assessment, a program, 10 visits, a referral out, a
referral they made, a correction) is recorded through the application half-way through the log.

Prints the median and p99 of `audit history` (in-process: `history_of`, catch-up included, the
read models already caught up) beside the physical floor: a raw sqlite3 select of that client's
stored rows, as a ratio; the query plans, to show no scan; and verify's events per second and
peak memory (it streams).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from bench.common import Figure, median, p99, peak_rss_mb, print_table, repeat_ms
from practice_es.application import PracticeLedger
from practice_es.audit.api import history_of, verify_ledger
from practice_es.domain.client import Client
from practice_es.domain.events import Stamp
from practice_es.infrastructure.settings import Settings
from practice_es.projections.referral_index import ReferrerIndex
from practice_es.projections.runner import ProjectionRunner

EVENTS_PER_FILLER = 20
BATCH = 10_000
START = datetime(2024, 1, 8, 9, tzinfo=UTC)


def filler_template() -> list[Any]:
    """One client's 20 events, made through the domain: intake, assessment, 18 visits."""
    client = Client.record_intake(Stamp(START, "bench"), uuid4(), name="Filler Client",
                                  email="filler@example.org", reasons=["low back pain"])
    client.record_assessment(Stamp(START, "bench"), uuid4(), "tight", {"pain": 6}, [])
    for n in range(EVENTS_PER_FILLER - 2):
        client.complete_visit(Stamp(START + timedelta(days=7 * n), "bench"), uuid4(), None,
                              {"pain": 5}, None, False)
    return list(client.collect_events())


def fillers(count: int) -> Iterator[list[Any]]:
    """`count` filler clients' events, as copies of the template under new ids."""
    template = filler_template()
    for _ in range(count):
        ident = uuid4()
        yield [event.model_copy(update={"originator_id": ident}) for event in template]


def insert_fillers(ledger: PracticeLedger, count: int) -> None:
    per_batch = BATCH // EVENTS_PER_FILLER
    pending: list[list[Any]] = []
    for events in fillers(count):
        pending.append(events)
        if len(pending) == per_batch:
            _insert(ledger, pending)
            pending = []
    if pending:
        _insert(ledger, pending)


def _insert(ledger: PracticeLedger, clients: list[list[Any]]) -> None:
    keys = getattr(ledger, "keys", None)
    if keys is not None and hasattr(keys, "create_data_keys"):
        keys.create_data_keys([events[0].originator_id for events in clients])
    stored = [ledger.mapper.to_stored_event(e) for events in clients for e in events]
    ledger.recorder.insert_events(stored)


def measured_client(ledger: PracticeLedger) -> UUID:
    """A client whose history touches all three aggregates, recorded through the application."""
    referral = ledger.receive_referral(source="doctor", referrer="Dr Jones", prospect="Ann")
    client = ledger.record_intake(name="Ann Audit", referral_id=referral, on=START)
    ledger.record_assessment(client, findings="neck", measures={"pain": 7}, on=START)
    program = ledger.recommend_program(client, phase="relief", visits=10, per_week=2,
                                       goals=["turn the head"], rationale="neck", on=START)
    ledger.accept_program(program, on=START)
    for n in range(10):
        ledger.complete_visit(client, program=program, measures={"pain": 6 - n / 2},
                              on=START + timedelta(days=3 * n))
    ledger.make_referral(client, to="Dr Who", reason="x-ray", on=START)
    ledger.receive_referral(source="client", referrer=str(client), prospect="Bob")
    ledger.correct_entry(client, version=3, changes={"notes": "corrected"}, reason="typo")
    return client


def raw_baseline(path: Path, ids: list[UUID], repeats: int) -> tuple[list[float], list[str]]:
    """The floor: the same rows, by the same index, through raw sqlite3 (no decoding)."""
    conn = sqlite3.connect(path)
    marks = ",".join("?" * len(ids))
    query = f"SELECT rowid, * FROM stored_events WHERE originator_id IN ({marks}) ORDER BY rowid"
    params = [ident.hex for ident in ids]
    samples = repeat_ms(lambda: conn.execute(query, params).fetchall(), repeats)
    plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", params)]
    plan += [row[-1] for row in conn.execute(
        "EXPLAIN QUERY PLAN SELECT data_key FROM practice_data_keys WHERE owner_id = ?",
        ("x",))] if _has_table(conn, "practice_data_keys") else []
    conn.close()
    return samples, plan


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone())


def run(events: int = 1_000_000, repeats: int = 200) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.db"
        ledger = PracticeLedger(Settings(db_url=f"sqlite:///{path}", actor="bench"))
        half = max(events // EVENTS_PER_FILLER // 2, 1)
        started = time.perf_counter()
        insert_fillers(ledger, half)
        client = measured_client(ledger)
        insert_fillers(ledger, half)
        built = time.perf_counter() - started
        total = ledger.recorder.max_notification_id() or 0
        print(f"built a ledger of {total:,} events in {built:.1f} s")
        runner = ProjectionRunner(ledger, [ReferrerIndex()])
        runner.catch_up()
        history = history_of(ledger, runner, client)
        ids = list(dict.fromkeys(e.event.originator_id for e in history.entries))
        audit_ms = repeat_ms(lambda: history_of(ledger, runner, client), repeats)
        raw_ms, plan = raw_baseline(path, ids, repeats)
        print(f"history: {len(history.entries)} events of {len(ids)} aggregates; query plan:")
        for line in plan:
            print(f"  {line}")
        seconds = time.perf_counter()
        verified = verify_ledger(ledger)
        seconds = time.perf_counter() - seconds
        assert verified.ok and verified.events == total, verified
        runner.close()
        ledger.close()
    return [
        Figure(f"audit history, 1 client, {total:,} events", median(audit_ms), "ms median",
               "raw sqlite3 select of its rows", median(raw_ms), target="< 20 ms",
               extra={"p99_ms": p99(audit_ms), "raw_p99_ms": p99(raw_ms)}),
        Figure("audit history p99", p99(audit_ms), "ms p99", "raw sqlite3 p99", p99(raw_ms)),
        Figure(f"audit verify, {total:,} events", total / seconds, "events/s", target="streams",
               extra={"seconds": seconds, "peak_rss_mb": peak_rss_mb()}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    figures = run(args.events, args.repeats)
    print_table(figures)
    verify = figures[-1].extra
    print(f"verify: {verify['seconds']:.1f} s; peak RSS of the whole run "
          f"{verify['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
