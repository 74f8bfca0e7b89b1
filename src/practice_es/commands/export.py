"""`practice export parquet DIR`: the facts analysts need, as Parquet (SPEC §11, ADR 32)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import say


@click.group()
def export() -> None:
    """Exports for analysts."""


@export.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_practice
def parquet(practice: PracticeContext, directory: Path) -> None:
    """Write visits, measures, programs, referrals and lapses as Parquet datasets under
    DIRECTORY, partitioned by practice and month, with no personal text. Run again, it adds
    only what was recorded since (DIRECTORY/manifest.json keeps where each practice is, and
    its hash-chain head there). On a group's database without --practice: every practice."""
    from practice_es.application import PracticeLedger
    from practice_es.reports.parquet import export_practice, read_manifest, write_manifest

    directory.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(directory)
    for name, url in _practices(practice):
        ledger = PracticeLedger(replace(practice.settings, db_url=url, practice=name),
                                create=False)
        try:
            done = export_practice(ledger, name, directory, manifest)
        finally:
            ledger.close()
        write_manifest(directory, manifest)
        rows = ", ".join(f"{n} {dataset}" for dataset, n in done.rows.items() if n)
        if done.first > done.position:
            say(f"{name}: nothing new since position {done.position}")
        else:
            say(f"{name}: positions {done.first}-{done.position} exported ({rows})")
    click.echo(directory)


def _practices(practice: PracticeContext) -> list[tuple[str, str]]:
    """The selected practice; else every practice of the group; else the ledger itself,
    named after its file or schema."""
    from practice_es.infrastructure.store import parse_store_url

    settings = practice.settings
    if settings.practice:
        return [(settings.practice, settings.db_url)]
    location = parse_store_url(settings.db_url)
    if location.backend == "postgres":
        from practice_es.infrastructure.practices import list_practices

        group = list_practices(settings.db_url)
        if group:
            return [(p.name, p.url) for p in group]
        return [(location.schema or "public", settings.db_url)]
    assert location.path is not None
    return [(location.path.stem, settings.db_url)]
