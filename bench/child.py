"""What a measured child process runs, so that its peak RSS is its own: one import, one rebuild.

    python -m bench.child import EXPORT_FOLDER DB_URL [--domain] [--batch N]
    python -m bench.child rebuild DB_URL [--page-size N]

Prints JSON lines on stdout for bench.common.run_child: progress as it goes (a parent that
stops a slow child at its deadline still knows how far it got), then the result.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import emit


class Passes:
    """The importer's progress: one line as each pass over a file starts (so a parent that
    stops the import knows how long the passes before recording took)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def start(self, label: str, total: int) -> None:
        emit(done=0, label=label, seconds=time.perf_counter() - self.started)

    def update(self, done: int) -> None:
        pass


def import_export_once(export: Path, url: str, domain: bool, batch: int) -> None:
    """`migrate import` of a generic-layout export, timed without the read models' catch-up
    (the rebuild is measured on its own)."""
    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.settings import Settings
    from practice_es.migration.importer import ImportRequest, import_export
    from practice_es.migration.mapping import load_preset

    ledger = PracticeLedger(Settings(db_url=url, actor="bench"))
    request = ImportRequest(paths=(export,), mapping=load_preset("generic"),
                            rejects=export.parent / "rejects.csv", fast=not domain,
                            batch_events=batch)
    passes = Passes()
    summary = import_export(ledger, request, passes)
    seconds = time.perf_counter() - passes.started
    ledger.close()
    emit(result={"seconds": seconds, "rows": summary.rows, "events": summary.events,
                 "clients": summary.clients, "visits": summary.visits,
                 "rejected": summary.rejected})


def rebuild_once(url: str, page_size: int | None) -> None:
    """`practice projections rebuild` of every projection, reporting each page done."""
    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.settings import Settings
    from practice_es.projections import runner as runner_module
    from practice_es.projections.registry import all_projections

    if page_size is not None:
        runner_module.PAGE_SIZE = page_size  # the ADR's before/after: pages vs event by event
    ledger = PracticeLedger(Settings(db_url=url, actor="bench"))
    runner = runner_module.ProjectionRunner(ledger, all_projections())
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        emit(done=done, total=total, seconds=time.perf_counter() - start)

    runner.rebuild(progress=progress)
    seconds = time.perf_counter() - start
    events = ledger.recorder.max_notification_id() or 0
    runner.close()
    ledger.close()
    emit(result={"seconds": seconds, "events": events})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    one = verbs.add_parser("import")
    one.add_argument("export", type=Path)
    one.add_argument("url")
    one.add_argument("--domain", action="store_true", help="the domain path, not the fast one")
    one.add_argument("--batch", type=int, default=10_000, help="events per transaction")
    two = verbs.add_parser("rebuild")
    two.add_argument("url")
    two.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args()
    if args.verb == "import":
        import_export_once(args.export, args.url, args.domain, args.batch)
    else:
        rebuild_once(args.url, args.page_size)


if __name__ == "__main__":
    main()
