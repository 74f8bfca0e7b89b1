"""`practice schedule`: the day sheet (SPEC §9), as a table, JSON, CSV or iCalendar."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import FORMATS, emit_rows, say
from practice_es.commands.params import DATE
from practice_es.reports.window import Window

TABLE_COLUMNS = ("at", "name", "phone", "status", "visit", "visit_id", "client_id")


@click.command()
@click.option("--day", type=DATE, help="The day to show (default today, PRACTICE_TZ).")
@click.option("--from", "start", type=DATE, help="First day of a span (instead of --day).")
@click.option("--to", "end", type=DATE, help="Last day of a span (included).")
@click.option("--open", "open_only", is_flag=True,
              help="Only past bookings never completed, cancelled or marked missed "
                   "(every day unless --day or --from/--to narrows it).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True)
@click.option("--ics", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the bookings to this iCalendar file (RFC 5545).")
@pass_practice
def schedule(practice: PracticeContext, day: date | None, start: date | None,
             end: date | None, open_only: bool, fmt: str, ics: Path | None) -> None:
    """The day sheet: each booking of the day in time order, with the client's name and
    phone, its status (scheduled, completed, cancelled, missed) and, for a program's
    visit, its number of the visits planned (3/6)."""
    from practice_es.reports.schedule import COLUMNS, day_window, to_ics
    from practice_es.reports.schedule import schedule as day_sheet

    if day is not None and (start is not None or end is not None):
        raise click.UsageError("give --day, or --from/--to, not both")
    zone = practice.settings.zone
    now = datetime.now(zone)
    window = day_window(day, start, end, now.date(), open_only)
    rows = practice.read(lambda conn: day_sheet(
        conn, zone, window, open_before=now if open_only else None))
    if ics is not None:
        _write_whole(ics, to_ics(rows, zone, now))
        say(f"wrote {len(rows)} booking(s) to {ics}")
    if fmt == "table":
        one_day = window.start is not None and window.start == window.end
        emit_rows([readable(row, one_day) for row in rows],
                  TABLE_COLUMNS, fmt, title=_title(window, open_only))
    else:
        emit_rows(rows, COLUMNS, fmt)


def _write_whole(path: Path, data: bytes) -> None:
    """Write the file whole or not at all, owner-only and never through a link: a calendar
    that syncs it never reads half, and bookings name clients."""
    from practice_es.infrastructure.outputs import check_output, replaced

    with replaced(check_output("--ics", path)) as part:
        part.write_bytes(data)


def readable(row: dict[str, object], one_day: bool) -> dict[str, object]:
    at = datetime.fromisoformat(str(row["at"]))
    number, planned = row["visit_number"], row["visits_planned"]
    return {**row, "at": at.strftime("%H:%M" if one_day else "%Y-%m-%d %H:%M"),
            "visit": f"{number}/{planned}" if number and planned else ""}


def _title(window: Window, open_only: bool) -> str:
    what = "Open bookings" if open_only else "Schedule"
    if window.start is None and window.end is None:
        return what
    if window.start == window.end:
        return f"{what} {window.start}"
    return f"{what} {window.start or '…'} to {window.end or '…'}"
