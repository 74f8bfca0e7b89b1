"""`practice schedule`: the day sheet on the command line (SPEC §9)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.cli.helpers import Practice

KEYS = ["visit_id", "client_id", "name", "phone", "at", "status", "program_id",
        "visit_number", "visits_planned", "practitioner"]


@pytest.fixture
def practice(db_url: str) -> Practice:
    cli = Practice(db_url, zone="America/New_York")
    cli.ok("init")
    cli.new("client", "intake", "--name", "Ann Lee", "--phone", "555-0101", "--on", "2026-03-02")
    cli.new("visit", "schedule", "Ann Lee", "--at", "2026-03-10T09:30", "--on", "2026-03-02")
    cli.new("visit", "schedule", "Ann Lee", "--at", "2026-03-11T10:00", "--on", "2026-03-02")
    return cli


def test_the_day_sheet_as_json_csv_and_table(practice: Practice) -> None:
    rows = practice.json("schedule", "--day", "2026-03-10", "--format", "json")
    assert [list(row) for row in rows] == [KEYS]
    assert rows[0]["at"] == "2026-03-10T09:30:00-04:00"  # New York, summer time from 8 March
    assert rows[0]["status"] == "scheduled" and rows[0]["name"] == "Ann Lee"
    table = practice.ok("schedule", "--day", "2026-03-10")
    assert "09:30" in table and "Ann Lee" in table and rows[0]["visit_id"][:8] in table
    span = list(csv.DictReader(io.StringIO(practice.ok(
        "schedule", "--from", "2026-03-10", "--to", "2026-03-11", "--format", "csv"))))
    assert [row["at"][:10] for row in span] == ["2026-03-10", "2026-03-11"]


def test_open_bookings_and_the_ics_file(practice: Practice, tmp_path: Path) -> None:
    opened = practice.json("schedule", "--open", "--format", "json")
    assert [row["at"][:10] for row in opened] == ["2026-03-10", "2026-03-11"]
    ics = tmp_path / "day.ics"
    practice.ok("schedule", "--day", "2026-03-11", "--ics", str(ics))
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Ann Lee"]
    assert ics.stat().st_mode & 0o777 == 0o600  # bookings name clients: owner-only


def test_the_ics_file_is_never_written_through_a_link(practice: Practice,
                                                      tmp_path: Path) -> None:
    decoy = tmp_path / "decoy.txt"
    decoy.write_text("keep me")
    (tmp_path / "day.ics").symlink_to(decoy)
    practice.fails(2, "schedule", "--day", "2026-03-11", "--ics", str(tmp_path / "day.ics"))
    assert decoy.read_text() == "keep me"


def test_a_day_and_a_span_at_once_is_bad_usage(practice: Practice) -> None:
    run = practice.fails(2, "schedule", "--day", "2026-03-10", "--from", "2026-03-09")
    assert "not both" in run.stderr
