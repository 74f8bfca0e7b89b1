"""`report retention`'s figures over 10,000 clients' visits, against one plain SQL cohort
query over the same rows (the floor: the database reading every visit once), same run.

    python -m bench.bench_retention [--clients 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import load_average
from practice_es.projections.base import read_models
from practice_es.projections.visits import visits
from practice_es.reports.retention import retention_report

COHORT_QUERY = text("SELECT strftime('%Y-%m', first) AS cohort, count(*) FROM ("
                    "SELECT client_id, min(closed_on) AS first FROM rm_visits "
                    "WHERE status = 'completed' GROUP BY client_id) GROUP BY cohort")


def visit_rows(clients: int, seed: int = 1) -> list[dict[str, Any]]:
    rng, rows = random.Random(seed), []
    for c in range(clients):
        day = datetime(2023, 1, 1) + timedelta(days=rng.randrange(700))
        for k in range(rng.randrange(1, 20)):
            booked, day = day, day + timedelta(days=rng.randrange(3, 40), hours=10)
            status = rng.choices(("completed", "cancelled", "missed"), (90, 5, 5))[0]
            rows.append({"visit_id": f"{c}-{k}", "client_id": f"{c:08d}", "program_id": None,
                         "booked_on": booked, "at": day, "status": status, "closed_on": day,
                         "practitioner": None})
    return rows


def median_seconds(run: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'rm.db'}")
        rows = visit_rows(args.clients)
        with engine.begin() as conn:
            read_models.create_all(conn)
            conn.execute(visits.insert(), rows)
        load = load_average()
        with engine.connect() as conn:
            report = median_seconds(lambda: retention_report(conn), args.repeat)
            floor = median_seconds(lambda: conn.execute(COHORT_QUERY).all(), args.repeat)
    print(f"{args.clients} clients, {len(rows)} visits (load {load} -> {load_average()}): "
          f"report retention {report:.3f} s, plain cohort query {floor:.3f} s, "
          f"ratio {report / floor:.1f}x")


if __name__ == "__main__":
    main()
