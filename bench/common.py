"""What every benchmark shares: timing, measured child processes, raw baselines and the table."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")
# Children compile to bytecode once, out of the checkout: an installed package has its .pyc
# files, so a CLI figure measured with PYTHONDONTWRITEBYTECODE=1 would be too pessimistic.
PYCACHE = Path(tempfile.gettempdir()) / "practice-bench-pycache"


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
    met: bool | None = None  # None: no target, or nothing to compare

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
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE), **(extra or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class ChildRun:
    """One measured child process: its own wall time, CPU time and peak RSS (from wait4, so
    never another child's), and the JSON lines it printed (progress, then its result)."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    timed_out: bool
    lines: list[dict[str, Any]]

    @property
    def result(self) -> dict[str, Any]:
        return next((line["result"] for line in reversed(self.lines) if "result" in line), {})

    @property
    def progress(self) -> dict[str, Any]:
        return next((line for line in reversed(self.lines) if "done" in line), {})


def run_child(args: Sequence[str], env: dict[str, str] | None = None,
              timeout: float | None = None) -> ChildRun:
    """Run a child; kill it (only it, by its id) after `timeout` seconds. Its stderr is ours."""
    lines: list[dict[str, Any]] = []
    start = time.perf_counter()
    child = subprocess.Popen(args, env=child_env(env), stdout=subprocess.PIPE, text=True)
    reader = threading.Thread(target=_read_json_lines, args=(child, lines), daemon=True)
    reader.start()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        child.kill()

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer is not None:
        timer.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if timer is not None:
        timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if child.returncode != 0 and not killed.is_set():
        raise subprocess.CalledProcessError(child.returncode, list(args))
    return ChildRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                    killed.is_set(), lines)


def _read_json_lines(child: subprocess.Popen[str], lines: list[dict[str, Any]]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("{"):
            lines.append(json.loads(line))


def emit(**values: Any) -> None:
    """What a measured child prints for its parent: one JSON line."""
    print(json.dumps(values), flush=True)


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


def _cell(value: float | None, width: int) -> str:
    if value is None:
        return " " * width
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return text.rjust(width)


def verdict(figure: Figure) -> str:
    if figure.met is None:
        return figure.target
    return f"{figure.target}: {'met' if figure.met else 'MISSED'}"


def print_table(figures: Sequence[Figure]) -> None:
    width = max(len(f.name) for f in figures) + 2
    print(f"{'figure'.ljust(width)}{'value':>10}  {'unit':<10}{'baseline':>10}  {'ratio':>6}  "
          "target / baseline")
    for f in figures:
        ratio = f"{f.ratio:6.2f}" if f.ratio is not None else " " * 6
        base = f"  [vs {f.baseline_name}]" if f.baseline_name else ""
        print(f"{f.name.ljust(width)}{_cell(f.value, 10)}  {f.unit:<10}"
              f"{_cell(f.baseline, 10)}  {ratio}  {verdict(f)}{base}")


def write_results(figures: Sequence[Figure], scale: str, **run: Any) -> None:
    data = {
        "scale": scale,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        **run,
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
    }
    RESULTS.write_text(json.dumps(data, indent=2))
