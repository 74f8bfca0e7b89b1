"""Retention cohorts, drop-off and KPIs (SPEC §4) on the hand-worked clinic history."""

from __future__ import annotations

from datetime import date

import pytest

from practice_es.application import PracticeLedger
from practice_es.reports.retention import retention_report
from practice_es.reports.window import Window
from tests.integration.report_histories import at, build_report, record_clinic


@pytest.fixture
def clinic(ledger: PracticeLedger) -> PracticeLedger:
    record_clinic(ledger)
    return ledger


def test_monthly_cohorts_count_clients_seen_k_months_after_their_first_visit(
        clinic: PracticeLedger) -> None:
    report = build_report(clinic, lambda conn: retention_report(conn, "month"))
    # Completed visits: A 01-10, 02-05, 03-20; B 01-20, 05-10; C 02-03, 02-10.
    # Cohort 2026-01 = {A, B}; 2026-02 = {C}. The last month with data is 2026-05 (B).
    # 2026-01: Jan A,B=2; Feb A=1; Mar A=1; Apr none=0; May B=1.
    # 2026-02: Feb C=1; Mar, Apr, May none.
    assert report["by"] == "month"
    assert report["cohorts"] == [
        {"cohort": "2026-01", "clients": 2, "retained": [2, 1, 1, 0, 1],
         "rate": [1.0, 0.5, 0.5, 0.0, 0.5]},
        {"cohort": "2026-02", "clients": 1, "retained": [1, 0, 0, 0],
         "rate": [1.0, 0.0, 0.0, 0.0]},
    ]


def test_quarterly_cohorts(clinic: PracticeLedger) -> None:
    report = build_report(clinic, lambda conn: retention_report(conn, "quarter"))
    # 2026-Q1 = {A, B, C}; in Q2 only B came back (05-10).
    assert report["cohorts"] == [
        {"cohort": "2026-Q1", "clients": 3, "retained": [3, 1], "rate": [1.0, 1 / 3]},
    ]


def test_kpis_over_all_time(clinic: PracticeLedger) -> None:
    report = build_report(clinic, lambda conn: retention_report(conn, "month"))
    assert report["kpis"] == {
        "new_clients": 3,  # A, B, C (D has no completed visit)
        "visits": 7,
        "visit_average": 7 / 3,  # 7 visits by 3 distinct clients
        "pva": 7 / 3,  # every visit is a new client's here
        "pva_period": 7 / 3,
        # rebooked: A 01-10 (booked 10:30 that day), C 02-03 (booked 18:00 that day).
        # Not: B 01-20 (booked the next day), C 02-10 (booked and cancelled that day), and
        # the visits after which nothing was booked.
        "rebooking_rate": 2 / 7,
        "lapsed": 3,  # B at the 05-01 sweep; A and C at the 07-01 sweep
        "reactivated": 1,  # B, walking in 05-10
        "reactivation_rate": 1 / 3,
        "program_acceptance_rate": 2 / 3,  # P1, P3 accepted; P2 declined
        "program_completion_rate": 0.5,  # P1 discharged; P3 still active
    }


def test_dropoff_shows_the_visit_after_which_new_clients_stop(
        clinic: PracticeLedger) -> None:
    report = build_report(clinic, lambda conn: retention_report(conn, "month"))
    # A made 3 visits, B 2, C 2; none has a visit booked ahead now.
    assert report["dropoff"] == [
        {"visit": 1, "reached": 3, "stopped": 0, "still_coming": 0, "stop_rate": 0.0},
        {"visit": 2, "reached": 3, "stopped": 2, "still_coming": 0, "stop_rate": 2 / 3},
        {"visit": 3, "reached": 1, "stopped": 1, "still_coming": 0, "stop_rate": 1.0},
    ]


def test_a_window_counts_only_its_own_period(clinic: PracticeLedger) -> None:
    window = Window(date(2026, 2, 1), date(2026, 3, 31))
    report = build_report(clinic, lambda conn: retention_report(conn, "month", window))
    # New in Feb–Mar: C only. Visits in the window: A 02-05, 03-20; C 02-03, 02-10.
    # C's cohort runs to the window's end (March): Feb 1, Mar 0.
    assert (report["from"], report["to"]) == ("2026-02-01", "2026-03-31")
    assert report["cohorts"] == [
        {"cohort": "2026-02", "clients": 1, "retained": [1, 0], "rate": [1.0, 0.0]},
    ]
    assert report["kpis"] == {
        "new_clients": 1,
        "visits": 4,
        "visit_average": 2.0,  # 4 visits by A and C
        "pva": 2.0,  # C's 2 visits
        "pva_period": 4.0,  # A's and C's 4 visits in the window, over C, the one new client
        "rebooking_rate": 0.25,  # C 02-03 only
        "lapsed": 0,
        "reactivated": 0,
        "reactivation_rate": None,  # nothing to divide by: JSON null
        "program_acceptance_rate": 0.0,  # P2 recommended 02-03, declined
        "program_completion_rate": None,  # no program accepted in the window
    }
    assert report["dropoff"] == [
        {"visit": 1, "reached": 1, "stopped": 0, "still_coming": 0, "stop_rate": 0.0},
        {"visit": 2, "reached": 1, "stopped": 1, "still_coming": 0, "stop_rate": 1.0},
    ]


def test_a_client_with_a_visit_booked_ahead_is_still_coming(
        ledger: PracticeLedger) -> None:
    from tests.integration.report_histories import at

    eve = ledger.record_intake(name="Eve", on=at("2026-03-01 09:00"))
    ledger.complete_visit(eve, on=at("2026-03-01 10:00"))
    ledger.schedule_visit(eve, at=at("2026-03-08 10:00"), on=at("2026-03-01 10:30"))
    report = build_report(ledger, lambda conn: retention_report(conn, "month"))
    assert report["dropoff"] == [
        {"visit": 1, "reached": 1, "stopped": 0, "still_coming": 1, "stop_rate": 0.0},
    ]
    assert report["kpis"]["rebooking_rate"] == 1.0


def test_a_withdrawn_recommendation_counts_in_no_rate(ledger: PracticeLedger) -> None:
    """A program recommended twice by mistake: withdrawn, it leaves acceptance at 2/3 where
    declining it would have made it 2/4."""
    clinic, a = ledger, record_clinic(ledger).a
    clinic.record_assessment(a, findings="again", on=at("2026-03-21 10:00"))
    twice = clinic.recommend_program(a, phase="relief", visits=3, per_week=1, goals=["walk"],
                                     rationale="entered twice", on=at("2026-03-21 10:05"))
    clinic.withdraw_program(twice, reason="entered twice", on=at("2026-03-21 10:06"))
    report = build_report(clinic, lambda conn: retention_report(conn, "month"))
    assert report["kpis"]["program_acceptance_rate"] == 2 / 3
    assert report["kpis"]["program_completion_rate"] == 0.5
