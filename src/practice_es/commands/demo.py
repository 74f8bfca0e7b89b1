"""`practice demo`: record a realistic demo practice, then print its reports and charts."""

from __future__ import annotations

from pathlib import Path

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import emit_rows, say
from practice_es.commands.schedule import TABLE_COLUMNS, readable


@click.command()
@click.option("--clients", default=120, show_default=True, type=click.IntRange(1, 5000),
              help="How many clients arrive over the 18 months.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same practice.")
@click.option("--charts", type=click.Path(file_okay=False),
              help="Write retention.png and referrals.png into this folder.")
@pass_practice
def demo(practice: PracticeContext, clients: int, seed: int, charts: str | None) -> None:
    """Record a demo practice (18 months up to 2026-11-27) into an empty ledger through the
    application service, then print cohorts, referral sources and a timeline, and end with
    the front desk's last day: its day sheet and the worklist to call from."""
    from practice_es.demo import TODAY, record_demo
    from practice_es.domain.errors import InvalidInput
    from practice_es.projections.references import client_names, short_id
    from practice_es.reports import charts as drawing
    from practice_es.reports import render
    from practice_es.reports.referrals import referrals_report
    from practice_es.reports.retention import retention_report
    from practice_es.reports.schedule import schedule
    from practice_es.reports.timeline import timeline_report
    from practice_es.reports.window import Window
    from practice_es.reports.worklists import worklists_report

    ledger, runner = practice.ledger(create=True), practice.runner()
    if ledger.recorder.max_notification_id():
        raise InvalidInput("db", "the demo records into an empty ledger; this one has events")
    summary = record_demo(ledger, runner, clients=clients, seed=seed)
    say(f"recorded {summary.clients} clients, {summary.events} events (seed {seed})")
    zone = practice.settings.zone
    with runner.engine.connect() as conn:
        retention = retention_report(conn)
        referrals = referrals_report(conn)
        worklists = worklists_report(conn, TODAY)
        timeline = (timeline_report(conn, str(summary.featured), TODAY, zone)
                    if summary.featured else None)
        featured = (client_names(conn, [str(summary.featured)]) if summary.featured else {})
        day_sheet = schedule(conn, zone, Window(TODAY, TODAY))
    render.emit_retention(retention, "table", None)
    render.emit(referrals, "table", render.referral_views(referrals), None)
    if timeline is not None and summary.featured is not None:
        click.echo(f"Timeline of {featured.get(str(summary.featured))} "
                   f"({short_id(summary.featured)})")
        render.emit(timeline, "table", render.timeline_views(timeline), None)
    click.echo(f"The front desk's day, {TODAY}: the day sheet, then who to call and why")
    emit_rows([readable(row, True) for row in day_sheet], TABLE_COLUMNS, "table",
              title=f"Schedule {TODAY}")
    render.emit(worklists, "table", render.worklist_views(worklists), "recall_due")
    say("every worklist: practice report recalls --as-of 2026-11-27 [--format csv]")
    if charts:
        folder = Path(charts)
        folder.mkdir(parents=True, exist_ok=True)
        for path in (drawing.cohort_heatmap(retention, str(folder / "retention.png")),
                     drawing.sources_bars(referrals, str(folder / "referrals.png"))):
            say(f"wrote {path}")
