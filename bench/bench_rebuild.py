"""Full rebuild of every projection over an imported ledger, beside a raw read of its events.

    python -m bench.bench_rebuild sqlite:////tmp/ledger.db [--timeout 120] [--page-size N]

The rebuild runs in a child process (`bench.child rebuild`: ProjectionRunner.rebuild of
`all_projections()`, what `practice projections rebuild` calls), so its peak RSS is its own.
The baseline reads the same stored events, in pages of the runner's size by position, through
raw sqlite3 (no decoding, no decryption, no read-model writes): the physical floor. A rebuild
stopped at its deadline is reported over the events it had replayed by then.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import Figure, print_table, run_child
from practice_es.projections.runner import PAGE_SIZE

MILLION = 1_000_000
RSS_TARGET_MB = 500
SECONDS_PER_MILLION_TARGET = 30


@dataclass
class Replay:
    """What one measured rebuild (or import) did: events, seconds, memory, and whether it
    was stopped at its deadline."""

    events: int
    seconds: float
    process_seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # its largest process
    timed_out: bool
    tree_rss_mb: float = 0.0  # it and its worker processes at once (sampled)

    @property
    def memory_mb(self) -> float:
        return max(self.peak_rss_mb, self.tree_rss_mb)

    @property
    def per_million(self) -> float:
        return self.seconds * MILLION / self.events if self.events else float("inf")

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_extra(self) -> dict[str, float | int | bool]:
        return {"events": self.events, "seconds": round(self.seconds, 2),
                "events_per_s": round(self.per_second), "process_seconds":
                round(self.process_seconds, 2), "cpu_seconds": round(self.cpu_seconds, 2),
                "peak_rss_mb": round(self.peak_rss_mb), "tree_rss_mb": round(self.tree_rss_mb),
                "timed_out": self.timed_out}


def median_replay(replays: list[Replay]) -> Replay:
    """The run in the middle, by time per event (of an odd count; the slower of two)."""
    return sorted(replays, key=lambda r: r.per_million)[len(replays) // 2]


def measure_rebuild(url: str, timeout: float | None = None,
                    page_size: int | None = None) -> Replay:
    args = [sys.executable, "-m", "bench.child", "rebuild", url]
    if page_size is not None:
        args += ["--page-size", str(page_size)]
    run = run_child(args, timeout=timeout)
    done = run.progress if run.timed_out else run.result
    events = int(done.get("done", done.get("events", 0)))
    return Replay(events, float(done.get("seconds", run.seconds)), run.seconds,
                  run.cpu_seconds, run.peak_rss_mb, run.timed_out, run.tree_rss_mb)


def raw_read_seconds(path: Path, events: int) -> float:
    """The first `events` stored events, every column, page by page, through raw sqlite3."""
    conn = sqlite3.connect(path)
    query = ("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
             "WHERE rowid > ? ORDER BY rowid LIMIT ?")
    start = time.perf_counter()
    last = read = 0
    while read < events:
        rows = conn.execute(query, (last, min(PAGE_SIZE, events - read))).fetchall()
        if not rows:
            break
        last, read = rows[-1][0], read + len(rows)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def rebuild_figures(replay: Replay, raw_read: float, store: str = "sqlite") -> list[Figure]:
    stopped = " (stopped at its deadline)" if replay.timed_out else ""
    raw_per_million = raw_read * MILLION / replay.events if replay.events else None
    return [
        Figure(f"rebuild all projections ({store}), {replay.events:,} events{stopped}",
               replay.per_million, "s/1M ev", f"raw {store} read of the same events",
               raw_per_million, target=f"< {SECONDS_PER_MILLION_TARGET} s per 1M events",
               extra=replay.as_extra(),
               met=replay.per_million < SECONDS_PER_MILLION_TARGET),
        Figure(f"rebuild peak RSS ({store}, all its processes)", replay.memory_mb, "MB",
               target=f"< {RSS_TARGET_MB} MB", met=replay.memory_mb < RSS_TARGET_MB),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="sqlite:///FILE of an imported ledger")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args()
    replay = measure_rebuild(args.url, args.timeout, args.page_size)
    raw = raw_read_seconds(Path(args.url.removeprefix("sqlite:///")), replay.events)
    print_table(rebuild_figures(replay, raw))


if __name__ == "__main__":
    main()
