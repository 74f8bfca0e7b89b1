"""A rebuild in two processes: the projections split in two groups of about equal work, one
group caught up here and the other in a child process, each working its pages out outside
the write lock and taking turns only to write (runner.py, `optimistic`).

Each process reads and decodes the events its own group needs; a page's rows and position are
committed together as always, so a child that dies (or is killed) leaves its projections at a
page boundary and this process simply catches them up after it, itself.

Used for a long replay when a core is idle over the last minute (PRACTICE_REBUILD_PROCESSES=1
never): each process then does more than half of one process's work (both decode the events
the timeline and the visits read) and they wait for each other's writes, so the gain is
modest. On a busy machine the two would only share one core and take turns on the write
lock, slower than one process, so it stays one (figures: docs/performance.md, ADR 15).
"""

from __future__ import annotations

import os
import pickle
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from practice_es.infrastructure.processes import start_python
from practice_es.projections.base import Projection

if TYPE_CHECKING:
    from practice_es.infrastructure.settings import Settings

PROCESSES = "PRACTICE_REBUILD_PROCESSES"  # "1": one process; else two when worth it
PARALLEL_FROM = 50_000  # events to replay before a second process is worth its start-up
IDLE_MARGIN = 0.5  # the load average (ours included) must stay this far below the cores
CHILD = "practice_es.projections.rebuild_child"  # the module the second process runs


def worth_it(chosen: Sequence[Projection], head: int) -> bool:
    """Whether replaying `head` events into the chosen projections is worth two processes."""
    return (os.environ.get(PROCESSES) != "1" and len(chosen) > 1 and head >= PARALLEL_FROM
            and _idle_core())


def _idle_core() -> bool:
    """Whether a core is free for a second process. On a busy machine two processes only
    share the same core and take turns on the write lock: slower than one (measured)."""
    cores = os.cpu_count() or 1
    return cores > 1 and os.getloadavg()[0] < cores - IDLE_MARGIN


def split(projections: Sequence[Projection]) -> tuple[list[Projection], list[Projection]]:
    """Two groups of about equal weight, the heaviest projections placed first."""
    groups: tuple[list[Projection], list[Projection]] = ([], [])
    for projection in sorted(projections, key=lambda p: (-p.weight, p.name)):
        lighter = min(groups, key=lambda g: sum(p.weight for p in g))
        lighter.append(projection)
    return groups


def start_child(settings: Settings,
                projections: Sequence[Projection]) -> subprocess.Popen[bytes]:
    """`python -m practice_es.projections.rebuild_child`, told what to do on its stdin (a
    pickle: the settings hold the cipher key, which must not show in a process listing)."""
    child = start_python(CHILD, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdin is not None
    with child.stdin:
        pickle.dump((settings, [type(p) for p in projections], os.getpid()), child.stdin)
    return child


@contextmanager
def alongside(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """Wait for the child after the block; stop it if the block fails (its page is rolled
    back, and the next catch-up resumes from there)."""
    try:
        yield
    except BaseException:
        child.terminate()
        child.wait()
        raise
    child.wait()
