"""What every benchmark shares: timing, peak memory, raw baselines and the results table."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


@dataclass
class Figure:
    """One measured figure beside its baseline from the same run."""

    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def repeat_ms(func: Callable[[], Any], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        seconds, _ = timed(func)
        samples.append(seconds * 1000)
    return samples


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def p99(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a child process; return (seconds, its peak RSS in MB)."""
    start = time.perf_counter()
    subprocess.run(args, check=True, env={**os.environ, **(env or {})},
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak


def raw_sqlite_insert(count: int, payload_bytes: int = 360) -> float:
    """Seconds to insert `count` events of `payload_bytes` through raw sqlite3 in one transaction
    (WAL, unique index on (originator_id, version)): the physical limit on this machine."""
    import orjson

    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(Path(folder) / "raw.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE events (originator_id TEXT, version INTEGER, topic TEXT, "
                     "state BLOB, PRIMARY KEY (originator_id, version))")
        filler = "x" * max(payload_bytes - 120, 0)

        def rows() -> Any:
            for n in range(count):
                state = orjson.dumps({"n": n, "occurred_on": "2026-01-01T09:00:00+00:00",
                                      "actor": "bench", "notes": filler})
                yield (f"{n // 20:032x}", n % 20 + 1, "practice:Client.VisitCompleted", state)

        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events VALUES (?,?,?,?)", rows())
        conn.execute("COMMIT")
        seconds = time.perf_counter() - start
        conn.close()
        return seconds


def print_table(figures: Sequence[Figure]) -> None:
    width = max(len(f.name) for f in figures) + 2
    print(f"{'figure'.ljust(width)}{'value':>12}  {'baseline':>12}  {'ratio':>7}  target")
    for f in figures:
        base = f"{f.baseline:12.3f}" if f.baseline is not None else " " * 12
        ratio = f"{f.ratio:7.2f}" if f.ratio is not None else " " * 7
        print(f"{f.name.ljust(width)}{f.value:12.3f}  {base}  {ratio}  {f.target}"
              f"  [{f.unit}; baseline: {f.baseline_name}]")


def write_results(figures: Sequence[Figure], scale: str) -> None:
    data = {
        "scale": scale,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
    }
    RESULTS.write_text(json.dumps(data, indent=2))
