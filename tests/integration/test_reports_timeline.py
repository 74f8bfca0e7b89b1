"""The progress timeline (SPEC §4): entries in business-time order, programs with adherence
and measure change."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from practice_es.application import PracticeLedger
from practice_es.domain.errors import NotFound
from practice_es.reports.timeline import timeline_report
from tests.integration.report_histories import Clinic, at, build_report, record_clinic


@pytest.fixture
def clinic(ledger: PracticeLedger) -> tuple[PracticeLedger, Clinic]:
    return ledger, record_clinic(ledger)


def test_entries_are_in_business_time_order_with_their_measures(
        clinic: tuple[PracticeLedger, Clinic]) -> None:
    ledger, ids = clinic
    report = build_report(ledger, lambda conn: timeline_report(conn, str(ids.a),
                                                               date(2026, 11, 27)))
    entries = report["entries"]
    # A's own events, P1's and the referrals that concern A (R1 converted by A's intake, the
    # referral out to dr jones and its care report), ordered by occurred_on — the referral
    # out (01-12) was recorded before C's visits but comes before A's 02-05 visit.
    assert [(e["on"][:16], e["event"]) for e in entries] == [
        ("2026-01-10T09:00", "IntakeRecorded"),
        ("2026-01-10T09:00", "ReferralConverted"),
        ("2026-01-10T09:30", "AssessmentRecorded"),
        ("2026-01-10T09:40", "ProgramRecommended"),
        ("2026-01-10T09:45", "ProgramAccepted"),
        ("2026-01-10T10:00", "VisitCompleted"),
        ("2026-01-10T10:30", "VisitScheduled"),
        ("2026-01-12T09:00", "ReferralMade"),
        ("2026-02-05T10:00", "VisitCompleted"),
        ("2026-03-20T10:00", "VisitCompleted"),
        ("2026-03-20T11:00", "ProgramReevaluated"),
        ("2026-03-20T11:00", "ProgramCompleted"),
        ("2026-03-21T09:00", "CareReportSent"),
        ("2026-07-01T00:00", "Lapsed"),
    ]
    assert entries[1]["summary"] == "came by referral from doctor dr jones"
    assert entries[2]["measures"] == {"pain": 7, "ndi": 40}
    assert entries[5] == {"on": "2026-01-10T10:00:00+00:00", "event": "VisitCompleted",
                          "summary": "visit completed", "program_id": str(ids.p1),
                          "measures": {"pain": 6}}
    assert entries[0]["program_id"] is None


def test_a_completed_program_shows_adherence_and_measure_change(
        clinic: tuple[PracticeLedger, Clinic]) -> None:
    ledger, ids = clinic
    report = build_report(ledger, lambda conn: timeline_report(conn, str(ids.a),
                                                               date(2026, 11, 27)))
    # P1: 3 visits planned at 1/week from its acceptance on 01-10; it ended 03-20, by when
    # all 3 were due (69 days); 3 completed. Measures: the cited assessment is the baseline
    # (pain 7, ndi 40), then visits pain 6, 5, 3 and the re-evaluation pain 3, ndi 30.
    assert report["programs"] == [{
        "program_id": str(ids.p1), "phase": "relief", "visits_planned": 3,
        "visits_completed": 3, "adherence": 1.0, "status": "completed",
        "measures": {"ndi": {"first": 40, "latest": 30, "change": -10},
                     "pain": {"first": 7, "latest": 3, "change": -4}},
    }]


def test_nothing_is_due_before_the_programs_first_visit_is_booked(
        clinic: tuple[PracticeLedger, Clinic]) -> None:
    ledger, ids = clinic
    report = build_report(ledger, lambda conn: timeline_report(conn, str(ids.b),
                                                               date(2026, 5, 20)))
    # P3: 6 visits at 2/week accepted 05-10, no visit booked for it by 05-20: nothing is due
    # yet (adherence null). The 07-01 lapse is after the report date: not shown.
    assert report["programs"] == [{
        "program_id": str(ids.p3), "phase": "relief", "visits_planned": 6,
        "visits_completed": 0, "adherence": None, "status": "active",
        "measures": {"pain": {"first": 6, "latest": 6, "change": 0}},
    }]
    assert report["entries"][-1]["event"] == "ProgramAccepted"


def test_a_declined_program_has_nothing_due(clinic: tuple[PracticeLedger, Clinic]) -> None:
    ledger, ids = clinic
    report = build_report(ledger, lambda conn: timeline_report(conn, str(ids.c),
                                                               date(2026, 11, 27)))
    assert [(p["program_id"], p["status"], p["adherence"]) for p in report["programs"]] == [
        (str(ids.p2), "declined", None)]


def test_an_unknown_client_is_not_found(clinic: tuple[PracticeLedger, Clinic]) -> None:
    ledger, _ = clinic
    with pytest.raises(NotFound):
        build_report(ledger, lambda conn: timeline_report(
            conn, "00000000-0000-4000-8000-000000000000", date(2026, 11, 27)))


def _program(ledger: PracticeLedger, visits: int, per_week: float) -> tuple[UUID, UUID]:
    client = ledger.record_intake(name="Kim", on=at("2026-03-01 08:00"))
    ledger.record_assessment(client, findings="low back", measures={"odi": 28},
                             on=at("2026-03-01 08:10"))
    program = ledger.recommend_program(client, phase="relief", visits=visits,
                                       per_week=per_week, goals=["walk"], rationale="r",
                                       on=at("2026-03-01 08:20"))
    return client, program


def _programs(ledger: PracticeLedger, client: UUID, as_of: str) -> list[dict[str, Any]]:
    report = build_report(ledger, lambda conn: timeline_report(conn, str(client),
                                                               date.fromisoformat(as_of)))
    return list(report["programs"])


def test_adherence_counts_from_the_first_visit_after_a_reschedule(
        ledger: PracticeLedger) -> None:
    """Booked for 03-02, moved to 03-09; every slot kept from then: 3 of 3 due by 03-16
    (from 03-09: ⌊7 × 2 / 7⌋ + 1), not 3 of 5 counted from the acceptance on 03-01."""
    client, program = _program(ledger, visits=6, per_week=2)
    ledger.accept_program(program, on=at("2026-03-01 08:30"))
    first = ledger.schedule_visit(client, at=at("2026-03-02 10:00"), program=program,
                                  on=at("2026-03-01 08:40"))
    ledger.reschedule_visit(client, visit_id=first, at=at("2026-03-09 10:00"),
                            on=at("2026-03-01 18:00"))
    for day in ("03-09", "03-12", "03-16"):
        ledger.complete_visit(client, program=program, on=at(f"2026-{day} 10:00"))
    [shown] = _programs(ledger, client, "2026-03-16")
    assert (shown["visits_completed"], shown["adherence"]) == (3, 1.0)
    [early] = _programs(ledger, client, "2026-03-08")  # booked, not yet due
    assert early["adherence"] is None


def test_adherence_is_capped_at_one(ledger: PracticeLedger) -> None:
    """Seven visits in a week of a once-a-week program: 1 due, adherence 1.0 (not 7.0)."""
    client, program = _program(ledger, visits=4, per_week=1)
    ledger.accept_program(program, on=at("2026-03-01 08:30"))
    for day in range(1, 8):
        ledger.complete_visit(client, program=program, on=at(f"2026-03-0{day} 10:00"))
    [shown] = _programs(ledger, client, "2026-03-07")
    assert (shown["visits_completed"], shown["adherence"]) == (7, 1.0)


def test_a_declined_or_withdrawn_program_shows_no_measure_progress(
        ledger: PracticeLedger) -> None:
    client, declined = _program(ledger, visits=4, per_week=2)
    ledger.decline_program(declined, reason="cost", on=at("2026-03-01 08:30"))
    withdrawn = ledger.recommend_program(client, phase="relief", visits=4, per_week=2,
                                         goals=["walk"], rationale="r",
                                         on=at("2026-03-01 08:40"))
    ledger.withdraw_program(withdrawn, reason="entered twice", on=at("2026-03-01 08:45"))
    ledger.complete_visit(client, measures={"odi": 20}, on=at("2026-03-02 10:00"))
    shown = _programs(ledger, client, "2026-03-05")
    assert [(p["status"], p["adherence"], p["measures"]) for p in shown] == [
        ("declined", None, {}), ("withdrawn", None, {})]
    entries = build_report(ledger, lambda conn: timeline_report(
        conn, str(client), date(2026, 3, 5)))["entries"]
    assert "recommendation withdrawn (entered twice)" in [e["summary"] for e in entries]
