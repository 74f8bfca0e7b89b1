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
        return self.value / self.baseline


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
    """One measured child process: its wall time; its CPU time (from wait4: it and the workers
    it waited for, never another child's); the peak RSS of its largest process and the peak
    of the sum over it and its workers alive at once (sampled); the JSON lines it printed."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    timed_out: bool
    lines: list[dict[str, Any]]
    tree_rss_mb: float = 0.0

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
    tree = TreeSampler(child.pid)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    tree.stop()
    if timer is not None:
        timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if child.returncode != 0 and not killed.is_set():
        raise subprocess.CalledProcessError(child.returncode, list(args))
    return ChildRun(seconds, usage.ru_utime + usage.ru_stime, tree.largest_mb,
                    killed.is_set(), lines, tree.peak_mb)


class TreeSampler:
    """Every 0.1 s, the memory of a process and its descendants: the high-water mark of each
    (VmHWM; wait4's ru_maxrss would also count the parent's memory at the fork) and the sum
    of their resident sets at once (a rebuild may run projections in worker processes)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.largest_mb = 0.0
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            memory = [_memory_mb(pid) for pid in self._tree()]
            self.largest_mb = max([self.largest_mb, *(hwm for hwm, _ in memory)])
            self.peak_mb = max(self.peak_mb, sum(rss for _, rss in memory))
            if self._done.wait(0.1):
                return

    def _tree(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += parents.get(pid, [])
        return found


def _memory_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MB; zeros once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0, 0.0
    found = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in lines
             if line.startswith(("VmHWM:", "VmRSS:"))}
    return found.get("VmHWM", 0.0), found.get("VmRSS", 0.0)


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
