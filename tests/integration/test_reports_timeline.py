"""The progress timeline (SPEC §4): entries in business-time order, programs with adherence
and measure change."""

from __future__ import annotations

from datetime import date

import pytest

from practice_es.application import PracticeLedger
from practice_es.domain.errors import NotFound
from practice_es.reports.timeline import timeline_report
from tests.integration.report_histories import Clinic, build_report, record_clinic


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


def test_adherence_counts_only_visits_due_by_the_report_date(
        clinic: tuple[PracticeLedger, Clinic]) -> None:
    ledger, ids = clinic
    report = build_report(ledger, lambda conn: timeline_report(conn, str(ids.b),
                                                               date(2026, 5, 20)))
    # P3: 6 visits at 2/week accepted 05-10. By 05-20 (10 days): floor(10 × 2 / 7) + 1 = 3
    # visits were due, none completed. The 07-01 lapse is after the report date: not shown.
    assert report["programs"] == [{
        "program_id": str(ids.p3), "phase": "relief", "visits_planned": 6,
        "visits_completed": 0, "adherence": 0.0, "status": "active",
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
