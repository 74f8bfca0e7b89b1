"""Rebuild every practice of a group: a pool of worker processes, each rebuilding one practice
at a time (its own schema, its own log), so a group's rebuild uses every core without two
processes ever writing the same practice's read models."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import TYPE_CHECKING

from practice_es.projections.parallel import PROCESSES

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
    Workers are new interpreters (spawn), opening their own connections."""
    if workers <= 1 or len(practices) <= 1:
        for practice in practices:
            yield rebuild_practice(settings, practice.name, practice.url)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(practices)),
                             mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(rebuild_practice, settings, p.name, p.url) for p in practices]
        for future in as_completed(futures):
            yield future.result()
