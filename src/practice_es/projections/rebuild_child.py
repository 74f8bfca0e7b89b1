"""The second process of a rebuild in two (parallel.py): catch its projections up, then exit.

Run as `python -m practice_es.projections.rebuild_child` with a pickle on stdin: the settings,
the projection classes and the parent's process id.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Sequence

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.projections.base import Projection
from practice_es.projections.runner import ProjectionRunner


def catch_up_child(settings: Settings, classes: Sequence[type[Projection]],
                   parent: int) -> None:
    """The child: catch its projections up, optimistically, until done or orphaned."""
    ledger = PracticeLedger(settings)
    runner = ProjectionRunner(ledger, [cls() for cls in classes])
    runner._ready = True  # the parent made the tables and left some indexes out on purpose

    def orphaned(done: int, total: int) -> None:
        if os.getppid() != parent:  # the parent died: it will not wait for us
            raise SystemExit(1)

    try:
        runner.catch_up(orphaned, optimistic=True)
    finally:
        runner.close()
        ledger.close()


if __name__ == "__main__":
    catch_up_child(*pickle.load(sys.stdin.buffer))
