"""Rebuild every practice of a group: worker processes, each rebuilding one practice (its own
schema, its own log), so a group's rebuild uses every core without two processes ever
writing the same practice's read models."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from practice_es.infrastructure.processes import start_python
from practice_es.projections.parallel import PROCESSES

WORKER = "practice_es.projections.group_rebuild"  # the module a worker runs

if TYPE_CHECKING:
    from practice_es.infrastructure.practices import Practice
    from practice_es.infrastructure.settings import Settings


@dataclass(frozen=True)
class Rebuilt:
    practice: str
    positions: int  # log positions replayed
    seconds: float


def rebuild_practice(settings: Settings, practice: str, url: str) -> Rebuilt:
    """One practice's projections rebuilt, in this process alone (the pool is the parallelism:
    a second process per practice would only compete with the other workers)."""
    from practice_es.application import PracticeLedger
    from practice_es.projections.registry import all_projections
    from practice_es.projections.runner import ProjectionRunner

    os.environ[PROCESSES] = "1"
    started = time.perf_counter()
    ledger = PracticeLedger(replace(settings, db_url=url, practice=practice), create=False)
    try:
        runner = ProjectionRunner(ledger, all_projections())
        try:
            positions = runner.rebuild()
        finally:
            runner.close()
    finally:
        ledger.close()
    return Rebuilt(practice, positions, time.perf_counter() - started)


def rebuild_group(settings: Settings, practices: Sequence[Practice],
                  workers: int) -> Iterator[Rebuilt]:
    """Each practice rebuilt, as each ends; `workers` processes at once (1: here, in turn).
    Each worker is a new interpreter rebuilding one practice, waited for by a thread here."""
    if workers <= 1 or len(practices) <= 1:
        for practice in practices:
            yield rebuild_practice(settings, practice.name, practice.url)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(practices))) as pool:
        futures = [pool.submit(_rebuild_in_worker, settings, p.name, p.url) for p in practices]
        for future in as_completed(futures):
            yield future.result()


def _rebuild_in_worker(settings: Settings, practice: str, url: str) -> Rebuilt:
    """`rebuild_practice` in a worker process, told what to do on its stdin (the settings
    hold the cipher key); its error is raised here."""
    worker = start_python(WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    answer, _ = worker.communicate(pickle.dumps((settings, practice, url)))
    if not answer:
        raise RuntimeError(f"the rebuild of {practice} stopped (exit {worker.returncode})")
    result = pickle.loads(answer)
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


def serve() -> None:
    """A worker: rebuild the practice read from stdin; write back its `Rebuilt` or error."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the answer
    settings, practice, url = pickle.load(sys.stdin.buffer)
    try:
        result: Rebuilt | Exception = rebuild_practice(settings, practice, url)
    except Exception as error:  # raised again in the parent, as a pool would
        result = error
    with answers:
        pickle.dump(result, answers)


if __name__ == "__main__":
    # The worker serves from the module under its own name, so that the `Rebuilt` it
    # pickles names a class the parent can find (not one of `__main__`).
    from practice_es.projections import group_rebuild

    group_rebuild.serve()
