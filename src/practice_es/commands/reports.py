"""`practice report …`: retention, referrals, timeline, recalls — tables, JSON, CSV, charts.

Every report catches its read models up first, and takes `--as-known-at T`: what it would
have shown at T, from only the events recorded by then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import FORMATS
from practice_es.commands.params import DATE, DATETIME
from practice_es.commands.references import CLIENT

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def report_options(window: bool = False) -> Decorator:
    """--format and --as-known-at on every report; --from/--to where SPEC §4 has them."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--as-known-at", "known_at", type=DATETIME, default=None,
            help="Report what the ledger knew at this moment (only events recorded by then).",
        )(func)
        func = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                            show_default=True)(func)
        if window:
            func = click.option("--to", "end", type=DATE, help="Last day (included).")(func)
            func = click.option("--from", "start", type=DATE, help="First day.")(func)
        return pass_practice(func)
    return decorate


@click.group()
def report() -> None:
    """Reports from the read models (caught up first)."""


@report.command()
@click.option("--by", type=click.Choice(("month", "quarter", "age-band")), default="month",
              show_default=True, help="Cohort period, or the age band at the first visit "
                                      "(followed month by month; erased clients included).")
@click.option("--view", type=click.Choice(("cohorts", "kpis", "dropoff", "practitioners")),
              default=None, help="One part only (CSV shows the cohorts unless told).")
@click.option("--by-practitioner", "by_practitioner", is_flag=True,
              help="Each practitioner's visits, new clients, PVA and rebooking rate.")
@click.option("--chart", type=click.Path(dir_okay=False), help="Write a heatmap (.png/.svg).")
@report_options(window=True)
def retention(practice: PracticeContext, by: str, view: str | None, by_practitioner: bool,
              chart: str | None, start: date | None, end: date | None, fmt: str,
              known_at: datetime | None) -> None:
    """Retention cohorts, drop-off by visit number, and the KPIs of the window.

    \b
    pva         completed visits in the window of the clients new in it, per new client
    pva_period  every completed visit in the window per new client (consultants' PVA)
    Rates print as percentages in tables; JSON keeps the exact number, CSV 4 decimals.
    Every figure is defined in docs/reports.md."""
    from practice_es.reports import charts, render
    from practice_es.reports.age_bands import age_band_report
    from practice_es.reports.practitioners import practitioner_rows
    from practice_es.reports.retention import retention_report
    from practice_es.reports.window import Window

    window = Window(start, end)
    if chart:
        charts.check_chart_path(chart)
    by_practitioner = by_practitioner or view == "practitioners"
    view = view or ("practitioners" if by_practitioner else None)

    def make(conn: Any) -> dict[str, Any]:
        data = (age_band_report(conn, window) if by == "age-band"
                else retention_report(conn, by, window))
        if by_practitioner:
            data["practitioners"] = practitioner_rows(conn, window)
        return data

    data = practice.read(make, known_at)
    if chart:
        charts.cohort_heatmap(data, chart)
    render.emit_retention(data, fmt, view)


@report.command()
@click.option("--view", type=click.Choice(("sources", "providers")), default=None)
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Write a bar chart of new clients by source (.png/.svg).")
@report_options(window=True)
def referrals(practice: PracticeContext, view: str | None, chart: str | None,
              start: date | None, end: date | None, fmt: str,
              known_at: datetime | None) -> None:
    """Referral sources (referrals, conversions, new clients, visits) and provider balance."""
    from practice_es.reports import charts, render
    from practice_es.reports.referrals import referrals_report
    from practice_es.reports.window import Window

    window = Window(start, end)
    if chart:
        charts.check_chart_path(chart)
    data = practice.read(lambda conn: referrals_report(conn, window), known_at)
    if chart:
        charts.sources_bars(data, chart)
    render.emit(data, fmt, render.referral_views(data), view)


@report.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--as-of", "as_of", type=DATE, help="Report date (default today).")
@click.option("--view", type=click.Choice(("entries", "programs")), default=None)
@report_options()
def timeline(practice: PracticeContext, client_id: UUID, as_of: date | None,
             view: str | None, fmt: str, known_at: datetime | None) -> None:
    """A client's history, and per program its adherence and measure change."""
    from practice_es.reports import render
    from practice_es.reports.source import report_day
    from practice_es.reports.timeline import timeline_report

    day = report_day(practice.ledger(), as_of, known_at)
    zone = practice.settings.zone
    data = practice.read(lambda conn: timeline_report(conn, str(client_id), day, zone),
                         known_at)
    render.emit(data, fmt, render.timeline_views(data), view)


@report.command()
@click.option("--as-of", "as_of", type=DATE, help="The worklists' day (default today).")
@click.option("--view", type=click.Choice(("all", "recall_due", "reevaluation_due", "reactivate",
                                           "prospects", "awaiting_answer")), default=None,
              help="One list only (CSV: every list in one file unless told).")
@report_options()
def recalls(practice: PracticeContext, as_of: date | None, view: str | None, fmt: str,
            known_at: datetime | None) -> None:
    """Worklists: recalls due, re-evaluations due, lapsed clients to reactivate, prospects
    with nothing booked, referrals out awaiting an answer. Each row: name, phone, e-mail,
    reasons; a client once per list. CSV is ready for a mailing or SMS tool."""
    from practice_es.reports import render
    from practice_es.reports.source import report_day
    from practice_es.reports.worklists import worklists_report

    day = report_day(practice.ledger(), as_of, known_at)
    data = practice.read(lambda conn: worklists_report(conn, day), known_at)
    render.emit(data, fmt, render.worklist_views(data), view)
