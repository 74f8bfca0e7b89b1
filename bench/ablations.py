"""Before/after figures for ADR 13: each optimisation switched off, at a moderate size.

    python -m bench.ablations [--appointments 20000] [--repeat 3]

- fast import path: `migrate import` through the fast writer vs through the aggregates;
- batched saves: the import in transactions of 10,000 events vs of 1 unit (about one row);
- page-wise projection application: rebuild in pages of 2,000 events vs 100 vs 1;
- snapshots every 100 events: a client with 1,000 visits, with and without snapshots;
- lazy event compilation (pydantic defer_build): what compiling every event class costs a
  process that starts (what every CLI action would pay without it).
Each import/rebuild runs in a child process, `--repeat` times, median reported.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import bench_snapshots
from bench.bench_import import write_generic_export
from bench.bench_rebuild import Replay, measure_rebuild, median_replay
from bench.common import Figure, child_env, print_table, run_child

COMPILE_ALL = """
import time
import practice_es.commands.main, practice_es.domain.client, practice_es.domain.program
import practice_es.domain.referral
from practice_es.domain.events import Envelope
def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)
start = time.perf_counter()
classes = set(every(Envelope))
for cls in classes:
    cls.model_rebuild(force=True)
print(len(classes), time.perf_counter() - start)
"""


def import_once(export: Path, folder: Path, options: list[str]) -> Replay:
    db = folder / "ablation.db"
    for stale in folder.glob("ablation.db*"):
        stale.unlink()
    run = run_child([sys.executable, "-m", "bench.child", "import", str(export),
                     f"sqlite:///{db}", *options])
    return Replay(run.result["events"], run.result["seconds"], run.seconds, run.cpu_seconds,
                  run.peak_rss_mb, False, run.tree_rss_mb)


def import_figures(export: Path, folder: Path, repeat: int) -> list[Figure]:
    def med(options: list[str]) -> Replay:
        return median_replay([import_once(export, folder, options) for _ in range(repeat)])

    fast, domain, unbatched = med([]), med(["--domain"]), med(["--batch", "1"])
    shutil.copy(folder / "ablation.db", folder / "imported.db")
    return [
        Figure("import: fast path (after) vs domain path (before)", fast.per_million,
               "s/1M ev", "domain path", domain.per_million, extra={"events": fast.events}),
        Figure("import: batches of 10,000 events (after) vs 1 unit", fast.per_million,
               "s/1M ev", "one transaction per unit", unbatched.per_million),
    ]


def rebuild_figures(folder: Path, repeat: int) -> list[Figure]:
    url = f"sqlite:///{folder / 'imported.db'}"

    def med(page: int) -> Replay:
        return median_replay([measure_rebuild(url, page_size=page) for _ in range(repeat)])

    pages = {size: med(size) for size in (2000, 100, 1)}
    return [Figure(f"rebuild: pages of 2,000 events (after) vs {size}",
                   pages[2000].per_million, "s/1M ev", f"pages of {size}",
                   pages[size].per_million, extra={"events": pages[2000].events})
            for size in (100, 1)]


def compile_figure(repeat: int) -> Figure:
    """Seconds to compile every event class, beside starting the CLI without doing so."""
    samples, starts = [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", COMPILE_ALL], check=True, env=child_env(),
                             capture_output=True, text=True).stdout.split()
        samples.append(float(out[1]))
        started = run_child([sys.executable, "-c", "import practice_es.commands.main"])
        starts.append(started.seconds)
    return Figure(f"compiling all {out[0]} event classes at start (what defer_build saves)",
                  statistics.median(samples), "s", "importing the CLI (lazy, after)",
                  statistics.median(starts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="practice-ablation-") as tmp:
        folder = Path(tmp)
        write_generic_export(folder / "export", max(args.appointments // 20, 1),
                             args.appointments)
        figures = import_figures(folder / "export", folder, args.repeat)
        figures += rebuild_figures(folder, args.repeat)
    figures += bench_snapshots.run(snapshots=True) + bench_snapshots.run(snapshots=False)
    figures.append(compile_figure(args.repeat))
    print_table(figures)


if __name__ == "__main__":
    main()
