"""`practice projections …`: status, catch-up and rebuild of the read models."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import emit_rows, say

if TYPE_CHECKING:
    from practice_es.projections.runner import Progress


@click.group()
def projections() -> None:
    """Read models: where each stands in the event log, catch-up and rebuild."""


@projections.command()
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table")
@pass_practice
def status(practice: PracticeContext, fmt: str) -> None:
    """Each projection's position against the head of the log, and its rows; and whether the
    last background catch-up after an action failed."""
    rows = [
        {"name": s.name, "version": s.version, "position": s.position, "head": s.head,
         "behind": s.behind, "rows": s.rows}
        for s in practice.runner().status()
    ]
    emit_rows(rows, ("name", "version", "position", "head", "behind", "rows"), fmt,
              title="Projections")
    _warn_of_follower_failure(practice)


def _warn_of_follower_failure(practice: PracticeContext) -> None:
    """A detached follower's failure reaches no terminal: it is kept, and told here (ADR 14)."""
    from practice_es.projections.follow import last_failure

    failure = last_failure(practice.settings.db_url)
    if failure is not None:
        say(f"warning: the last background catch-up failed ({failure}); "
            "`practice projections catch-up` or any report catches up")


@projections.command("catch-up")
@pass_practice
def catch_up(practice: PracticeContext) -> None:
    """Apply every event recorded since each projection's position."""
    applied = _with_progress(lambda progress: practice.runner().catch_up(progress))
    say(f"caught up: {applied} log positions applied")


@projections.command()
@click.argument("names", nargs=-1)
@pass_practice
def rebuild(practice: PracticeContext, names: tuple[str, ...]) -> None:
    """Rebuild the named projections (all if none) from nothing."""
    practice.recorded = ("nothing was recorded in the ledger; the read models resume from "
                         "where the rebuild stopped at the next command (or rebuild again)")
    applied = _with_progress(lambda progress: practice.runner().rebuild(names, progress))
    say(f"rebuilt {', '.join(names) or 'every projection'}: {applied} log positions replayed")


def _with_progress(run: Callable[[Progress | None], int]) -> int:
    if not sys.stderr.isatty():
        return run(None)
    from rich.console import Console
    from rich.progress import Progress as Bar

    # On stderr, where the terminal was detected: stdout stays clean for scripts.
    with Bar(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replaying the log", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run(progress)

