"""`practice group …`: the practices of a group on one PostgreSQL database (SPEC §11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import FORMATS, emit_rows, say
from practice_es.commands.params import DATE


@click.group()
def group() -> None:
    """Many practices on one PostgreSQL database, one schema each; select one for any other
    command with --practice NAME (or PRACTICE_PRACTICE)."""


@group.command()
@click.argument("name")
@pass_practice
def add(practice: PracticeContext, name: str) -> None:
    """Add a practice NAME (a slug: lowercase letters, digits, dashes; at most 40) and create
    its ledger in a schema of its own. Prints the name."""
    from practice_es.infrastructure.practices import add_practice

    added = add_practice(practice.settings.db_url, name)
    created = PracticeContext(replace(practice.settings, db_url=added.url, practice=name))
    try:
        created.ledger(create=True)
        created.runner().ensure()
    finally:
        created.close()
    say(f"practice {name} added (schema {added.schema})")
    click.echo(name)


@group.command("list")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table")
@pass_practice
def list_(practice: PracticeContext, fmt: str) -> None:
    """The practices of the group, by name."""
    from practice_es.infrastructure.practices import list_practices

    rows = [{"practice": p.name, "schema": p.schema, "added_at": p.added_at}
            for p in list_practices(practice.settings.db_url)]
    emit_rows(rows, ("practice", "schema", "added_at"), fmt, title="Practices")


@group.command("report")
@click.argument("kind", type=click.Choice(("retention", "referrals")))
@click.option("--from", "start", type=DATE, help="First day.")
@click.option("--to", "end", type=DATE, help="Last day (included).")
@click.option("--by", type=click.Choice(("month", "quarter")), default="month",
              show_default=True, help="Cohort period (retention).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Retention: each practice's cohort heatmap side by side (.png/.svg).")
@pass_practice
def report(practice: PracticeContext, kind: str, start: date | None, end: date | None, by: str,
           fmt: str, chart: str | None) -> None:
    """One row per practice and the group's total, computed from the facts (counts summed
    across practices, then divided: never an average of rates)."""
    from practice_es.infrastructure.practices import list_practices
    from practice_es.reports import charts, render
    from practice_es.reports.group import each_practice, group_report
    from practice_es.reports.window import Window

    window = Window(start, end)
    if chart:
        if kind != "retention":
            raise click.BadParameter("only the retention report draws a chart", param_hint="chart")
        charts.check_chart_path(chart)
    practices = list_practices(practice.settings.db_url)
    figures = list(each_practice(practice.settings, practices, kind, window, by))
    for each in figures:
        if each.lag is not None:
            say(f"{each.practice}: read models as they are (PRACTICE_CATCH_UP=off): {each.lag}")
    data = group_report(figures, kind, window)
    if chart:
        charts.group_heatmaps([(f.practice, f.report) for f in figures], chart)
    render.emit_group(data, fmt)


@group.command("rebuild")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Practices rebuilt at once, each in its own process (default: the cores).")
@pass_practice
def rebuild(practice: PracticeContext, workers: int | None) -> None:
    """Rebuild every practice's read models from its log, several practices at once."""
    import os

    from practice_es.infrastructure.practices import list_practices
    from practice_es.projections.group_rebuild import rebuild_group

    practices = list_practices(practice.settings.db_url)
    total = 0
    for done in rebuild_group(practice.settings, practices, workers or os.cpu_count() or 1):
        total += done.positions
        say(f"{done.practice}: {done.positions} log positions replayed in {done.seconds:.1f} s")
    say(f"rebuilt {len(practices)} practices: {total} log positions replayed")
