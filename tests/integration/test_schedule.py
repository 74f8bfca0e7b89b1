"""The day sheet (SPEC §9): bookings of a day in time order, numbered within their program."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from practice_es.application import PracticeLedger
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from practice_es.reports.schedule import COLUMNS, schedule, to_ics
from practice_es.reports.window import Window

UTC = ZoneInfo("UTC")
DAY = date(2026, 3, 10)


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clinic(ledger: PracticeLedger) -> dict[str, str]:
    """Ann on a six-visit program (one booking cancelled), Bob a booking, Cy a walk-in."""
    on = datetime(2026, 3, 2, 8, tzinfo=UTC)
    ann = ledger.record_intake(name="Ann Lee", phone="555-0101", on=on)
    bob = ledger.record_intake(name="Bob Stone", on=on)
    cy = ledger.record_intake(name="Cy Dunn", on=on)
    ledger.record_assessment(ann, findings="stiff", on=on)
    plan = ledger.recommend_program(ann, phase="relief", visits=6, per_week=2,
                                    goals=["sleep"], rationale="acute", on=on)
    ledger.accept_program(plan, on=on)
    first = ledger.schedule_visit(ann, at=at(9, day=9), program=plan, on=on)
    ledger.complete_visit(ann, visit_id=first, on=at(9, day=9))
    dropped = ledger.schedule_visit(ann, at=at(9), program=plan, on=on)
    ledger.cancel_visit(ann, visit_id=dropped, on=on)
    second = ledger.schedule_visit(ann, at=at(14, 30), program=plan, on=on)
    booked = ledger.schedule_visit(bob, at=at(11), on=on)
    walk_in = ledger.complete_visit(cy, on=at(8, 15))  # (nothing booked that day)
    ledger.schedule_visit(bob, at=at(9, day=11), on=on)
    return {"ann": str(ann), "bob": str(bob), "plan": str(plan), "first": str(first),
            "dropped": str(dropped), "second": str(second), "booked": str(booked),
            "walk_in": str(walk_in)}


@pytest.fixture
def runner(ledger: PracticeLedger, clinic: dict[str, str]) -> ProjectionRunner:
    found = ProjectionRunner(ledger, all_projections())
    found.catch_up()
    return found


def sheet(runner: ProjectionRunner, window: Window | None = None,
          open_before: datetime | None = None, zone: ZoneInfo = UTC) -> list[dict[str, object]]:
    with runner.engine.connect() as conn:
        return schedule(conn, zone, window, open_before)


def test_the_day_in_booking_time_order_with_status_and_program_numbers(
        runner: ProjectionRunner, clinic: dict[str, str]) -> None:
    rows = sheet(runner, Window(DAY, DAY))
    assert [(r["visit_id"], r["status"], r["visit_number"], r["visits_planned"])
            for r in rows] == [
        (clinic["walk_in"], "completed", None, None),
        (clinic["dropped"], "cancelled", None, 6),
        (clinic["booked"], "scheduled", None, None),
        (clinic["second"], "scheduled", 2, 6),  # the cancelled booking takes no number
    ]
    assert all(tuple(row) == COLUMNS for row in rows)
    assert rows[3]["name"] == "Ann Lee" and rows[3]["phone"] == "555-0101"
    assert rows[3]["at"] == "2026-03-10T14:30:00+00:00"
    assert rows[3]["program_id"] == clinic["plan"] and rows[3]["practitioner"] is None


def test_open_bookings_are_the_past_ones_still_booked(runner: ProjectionRunner,
                                                      clinic: dict[str, str]) -> None:
    rows = sheet(runner, open_before=at(12))
    assert [r["visit_id"] for r in rows] == [clinic["booked"]]
    assert sheet(runner, Window(DAY, DAY), open_before=at(8)) == []


def test_times_are_in_the_practice_zone(runner: ProjectionRunner) -> None:
    rows = sheet(runner, Window(DAY, DAY), zone=ZoneInfo("Europe/London"))
    assert rows[0]["at"] == "2026-03-10T08:15:00+00:00"  # London is on UTC in March
    assert sheet(runner, Window(date(2026, 3, 11), None))[0]["visit_number"] is None


def test_the_ics_has_one_event_per_booking_with_a_stable_uid(
        runner: ProjectionRunner, clinic: dict[str, str]) -> None:
    rows = sheet(runner, Window(DAY, DAY))
    calendar = Calendar.from_ical(to_ics(rows, UTC, at(7)))
    events = calendar.walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"{r['visit_id']}@practice-es" for r in rows]
    assert [str(e["status"]) for e in events] == ["CONFIRMED", "CANCELLED", "CONFIRMED",
                                                  "CONFIRMED"]
    assert str(events[3]["summary"]) == "Ann Lee (visit 2 of 6)"
    assert events[3].decoded("dtstart") == at(14, 30)
