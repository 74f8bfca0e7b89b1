"""`practice migrate …`: import legacy exports (SPEC §6, docs/migration.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import dumps, say

if TYPE_CHECKING:
    from practice_es.migration.importer import Progress
    from practice_es.migration.mapping import Mapping
    from practice_es.migration.recording import Recorded


@click.group()
def migrate() -> None:
    """Move a practice in from older software."""


@migrate.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "preset", metavar="PRESET",
              help="A shipped layout: generic (default), cliniko, openemr, synthea.")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Your own mapping file (TOML, see docs/migration.md) for another layout.")
@click.option("--dry-run", is_flag=True, help="Validate everything, record nothing.")
@click.option("--rejects", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("rejects.csv"), show_default=True,
              help="Where rejected rows go (file, row, legacy id, reason).")
@click.option("--date-format", help="MM/DD/YYYY or DD/MM/YYYY, when the export's dates could "
              "be read either way (or YYYY-MM-DD).")
@click.option("--encoding", help="utf-8 or windows-1252 (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, hidden=True,
              help="Events per transaction.")
@pass_practice
def import_(practice: PracticeContext, paths: tuple[Path, ...], preset: str | None,
            mapping_file: Path | None, dry_run: bool, rejects: Path, date_format: str | None,
            encoding: str | None, as_json: bool, batch_size: int) -> None:
    """Import a legacy export: its files, or its folder. Re-running it records nothing new;
    an interrupted import run again finishes exactly as a clean one."""
    from practice_es.migration.importer import ImportRequest, import_export

    request = ImportRequest(
        paths=paths, mapping=_mapping(preset, mapping_file), dry_run=dry_run, rejects=rejects,
        date_format=date_format, encoding=encoding, batch_events=batch_size)
    ledger = practice.ledger(create=True)
    if not dry_run:
        practice.recorded = ("what this import recorded before it failed stays recorded; run "
                             "the same import again to finish it (nothing is recorded twice)")
    with _progress() as progress, _feeding(practice, dry_run) as recorded:
        summary = import_export(ledger, request, progress, recorded)
        progress.start("read models", 0)
    for line in summary.lines():
        say(line)
    if as_json:
        click.echo(dumps(summary.as_json()))


@contextmanager
def _feeding(practice: PracticeContext, dry_run: bool) -> Iterator[Recorded | None]:
    """The read models fed the events as the import records them (projections/feed.py)."""
    if dry_run:
        yield None
        return
    from practice_es.projections.feed import feeding

    with feeding(practice.runner()) as recorded:
        yield recorded


def _mapping(preset: str | None, mapping_file: Path | None) -> Mapping:
    from practice_es.migration.mapping import load_mapping, load_preset

    if preset and mapping_file:
        raise click.UsageError("give --format or --mapping, not both")
    if mapping_file is not None:
        return load_mapping(mapping_file)
    return load_preset(preset or "generic")


class _Bar:
    """A rich progress bar on stderr: one task per pass over a file."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, label: str, total: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(label, total=total or None)

    def update(self, done: int) -> None:
        self.progress.update(self.task, completed=done)


@contextmanager
def _progress() -> Iterator[Progress]:
    from practice_es.migration.importer import NoProgress

    if not sys.stderr.isatty():
        yield NoProgress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield _Bar(bar)
