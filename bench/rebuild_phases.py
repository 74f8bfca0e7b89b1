"""When each phase of one full rebuild ends: the two processes' replays, and the indexes.

    python -m bench.rebuild_phases sqlite:////tmp/ledger.db

Whole-rebuild totals on this shared machine spread by 15-20 % from run to run; the phases of
one run show where a change moved time (ADR 15, fifth round). Prints seconds since the start.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.projections import indexes
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner

STARTED = time.perf_counter()


def since_start() -> float:
    return time.perf_counter() - STARTED


def phase(label: Callable[..., str], func: Callable[..., Any]) -> Callable[..., Any]:
    """`func`, printing `label(*args)` with when it started and ended."""
    def wrapper(*args: Any) -> Any:
        began = since_start()
        try:
            return func(*args)
        finally:
            print(f"{began:7.1f} -> {since_start():7.1f} s  {label(*args)}", flush=True)
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    url = parser.parse_args().url

    def names(conn: Any, projections: Iterable[Any]) -> str:
        return "indexes of " + ", ".join(p.name for p in projections)

    ProjectionRunner._replay = phase(  # type: ignore[method-assign]
        lambda *a: "replay, both processes", ProjectionRunner._replay)
    indexes.restore = phase(names, indexes.restore)
    ledger = PracticeLedger(Settings(db_url=url, actor="bench"))
    runner = ProjectionRunner(ledger, all_projections())
    try:
        runner.rebuild()
    finally:
        runner.close()
        ledger.close()
    print(f"{since_start():7.1f} s  total")


if __name__ == "__main__":
    main()
