"""One CLI action from process start to exit, beside `python -c pass` and a bare import; and
from process start until the read models have caught up with it.

    python -m bench.bench_cli [--repeats 15] [--db URL --client ID] [--catch-up MODE]
                              [--pythonpath DIR]

The action is `practice client update CLIENT --phone …` (load the client, record one event,
hand the read models' catch-up to a follower process, ADR 14), run through the installed
`practice` script as a user runs it: on a new ledger, or on the ledger and client given (the
suite passes its imported ledger). "Caught up" is when every rm_positions row reaches the
log's head, polled with raw sqlite3 once the action has exited (SQLite ledgers only); before
the next sample the follower is waited for, so no sample runs beside the last one's follower.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Figure, child_env, load_average, median, print_table, timed
from practice_es.projections import follow

PRACTICE = str(Path(sys.executable).with_name("practice"))
TARGET_S = 0.3
POLL_S = 0.002
CAUGHT_UP_DEADLINE_S = 60.0


@dataclass
class Samples:
    seconds: dict[str, list[float]] = field(default_factory=dict)
    action_cpu: list[float] = field(default_factory=list)  # the action's own process
    caught_up: list[float] = field(default_factory=list)  # start until read models at head


def _seconds(args: list[str], env: dict[str, str]) -> float:
    seconds, _ = timed(lambda: subprocess.run(args, check=True, env=env,
                                              stdout=subprocess.DEVNULL))
    return seconds


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def _behind(db: sqlite3.Connection) -> bool:
    head = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] or 0
    lowest = db.execute("SELECT MIN(position) FROM rm_positions").fetchone()[0]
    return lowest is None or lowest < head


def _wait_until(done: Callable[[], bool]) -> None:
    deadline = time.perf_counter() + CAUGHT_UP_DEADLINE_S
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the read models did not catch up in {CAUGHT_UP_DEADLINE_S} s")
        time.sleep(POLL_S)


@contextlib.contextmanager
def _opened(path: Path | None) -> Iterator[sqlite3.Connection | None]:
    if path is None:
        yield None
        return
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        yield db
    finally:
        db.close()


def _quiet(url: str) -> None:
    """Wait until no follower of the ledger runs or waits (taking both its locks in turn)."""
    for role in ("waiting", "running"):
        fd = follow.take(follow.lock_dir() / f"{follow.ledger_key(url)}.{role}", wait=True)
        assert fd is not None
        follow.release(fd)


def _action(args: list[str], env: dict[str, str], db: sqlite3.Connection | None,
            samples: Samples) -> None:
    """The action's wall and CPU seconds to its exit; then until caught up (polled after the
    exit, so the polling never competes with the action)."""
    start = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    exited = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, args)
    samples.seconds["action"].append(exited)
    samples.action_cpu.append(usage.ru_utime + usage.ru_stime)
    if db is not None:
        _wait_until(lambda: not _behind(db))
        samples.caught_up.append(time.perf_counter() - start)


def _samples(env: dict[str, str], client: str, repeats: int) -> Samples:
    url = env["PRACTICE_DB"]
    commands = {
        "pass": [sys.executable, "-c", "pass"],
        "import": [sys.executable, "-c", "import practice_es.commands.main"],
        "action": [PRACTICE, "client", "update", client, "--phone", "555"],
    }
    for args in commands.values():
        _seconds(args, env)  # compiles the bytecode once, as an installed package has it
    _quiet(url)
    samples = Samples({name: [] for name in commands})
    with _opened(_sqlite_file(url)) as db:
        for _ in range(repeats):  # interleaved: a burst of load elsewhere hits all three alike
            for name, args in commands.items():
                if name == "action":
                    _action(args, env, db, samples)
                    _quiet(url)
                else:
                    samples.seconds[name].append(_seconds(args, env))
    return samples


def run(repeats: int = 15, db_url: str | None = None, client: str | None = None,
        label: str = "a new ledger", catch_up: str = "background",
        pythonpath: str | None = None) -> list[Figure]:
    """`pythonpath`: the children run that tree (e.g. `git archive` of an earlier commit)."""
    load_before = load_average()
    with tempfile.TemporaryDirectory() as folder:
        env = child_env({"PRACTICE_DB": db_url or f"sqlite:///{Path(folder) / 'cli.db'}",
                         "PRACTICE_ACTOR": "bench", "PRACTICE_CATCH_UP": catch_up,
                         **({"PYTHONPATH": pythonpath} if pythonpath else {})})
        if client is None:
            subprocess.run([PRACTICE, "init"], check=True, env=env, capture_output=True)
            client = subprocess.run([PRACTICE, "client", "intake", "--name", "Bench Client"],
                                    check=True, env=env, capture_output=True, text=True
                                    ).stdout.strip()
        samples = _samples(env, client, repeats)
    load = {"load_before": load_before, "load_after": load_average(), "catch_up": catch_up}
    bare, imported, act = (median(samples.seconds[k]) for k in ("pass", "import", "action"))
    figures = [
        Figure("cli: bare import of practice_es.commands.main", imported, "s median",
               "python -c pass", bare, extra=load),
        Figure(f"cli: one action (client update), {label}", act, "s median",
               "python -c pass", bare, target=f"< {TARGET_S} s", met=act < TARGET_S,
               extra={**load, "vs_bare_import": act / imported,
                      "cpu_seconds_median": median(samples.action_cpu),
                      "samples": sorted(samples.seconds["action"])}),
    ]
    if samples.caught_up:
        caught = median(samples.caught_up)
        figures.append(Figure(
            f"cli: read models caught up after the action ({catch_up})", caught, "s median",
            "the action's exit", act,
            extra={**load, "samples": sorted(samples.caught_up)}))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--db", help="a ledger's URL (default: a new one)")
    parser.add_argument("--client", help="a client of that ledger")
    parser.add_argument("--catch-up", choices=("background", "inline"), default="background",
                        help="PRACTICE_CATCH_UP of the action (default: background)")
    parser.add_argument("--pythonpath", metavar="DIR",
                        help="run the children on this source tree (a `git archive` of a commit)")
    args = parser.parse_args()
    figures = run(args.repeats, args.db, args.client, catch_up=args.catch_up,
                  pythonpath=args.pythonpath)
    print_table(figures)
    action = figures[1].extra
    print(f"action CPU seconds (median) {action['cpu_seconds_median']:.3f}; load average "
          f"{action['load_before']} before, {action['load_after']} after")


if __name__ == "__main__":
    main()
