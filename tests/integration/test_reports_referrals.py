"""Referral sources and the provider balance (SPEC §4) on the hand-worked clinic history."""

from __future__ import annotations

from datetime import date

import pytest

from practice_es.application import PracticeLedger
from practice_es.reports.referrals import referrals_report
from practice_es.reports.timeline import timeline_report
from practice_es.reports.window import Window
from tests.integration.report_histories import at, build_report, record_clinic


@pytest.fixture
def clinic(ledger: PracticeLedger) -> PracticeLedger:
    record_clinic(ledger)
    return ledger


def test_sources_over_all_time(clinic: PracticeLedger) -> None:
    report = build_report(clinic, referrals_report)
    # "Dr Jones", "dr jones " and "DR JONES" are one referrer (R2): "dr jones".
    # dr jones: R1 (converted by A) and R2 (never came): 2 referrals, 1 converted; new
    #   clients A (through R1) and C (named at intake, no referral record); visits A 3 + C 2;
    #   both lapsed on 07-01, so no active client.
    # flyer: R3 converted by B; B's 2 visits; B is active again after reactivating.
    # online: D's intake, no referral record, no visit, a prospect (not active).
    assert report["sources"] == [
        {"kind": "doctor", "referrer": "dr jones", "referrer_name": None,
         "referrals": 2, "converted": 1,
         "conversion_rate": 0.5, "new_clients": 2, "visits": 5, "active_clients": 0},
        {"kind": "advertising", "referrer": "flyer", "referrer_name": None,
         "referrals": 1, "converted": 1,
         "conversion_rate": 1.0, "new_clients": 1, "visits": 2, "active_clients": 1},
        {"kind": "online", "referrer": None, "referrer_name": None,
         "referrals": 0, "converted": 0,
         "conversion_rate": None, "new_clients": 1, "visits": 0, "active_clients": 0},
    ]


def test_provider_balance_over_all_time(clinic: PracticeLedger) -> None:
    report = build_report(clinic, referrals_report)
    # dr jones referred in R1, R2 and C (named at intake, no record) = 3; we referred A out
    # to them once and sent them one care report. dr smith: C referred out, nothing back.
    assert report["providers"] == [
        {"provider": "dr jones", "referred_in": 3, "referred_out": 1, "care_reports_sent": 1},
        {"provider": "dr smith", "referred_in": 0, "referred_out": 1, "care_reports_sent": 0},
    ]


def test_a_window_counts_its_own_referrals_and_status_at_its_end(
        clinic: PracticeLedger) -> None:
    window = Window(date(2026, 2, 1), date(2026, 6, 30))
    report = build_report(clinic, lambda conn: referrals_report(conn, window))
    # No referral was received in Feb–Jun. Intakes: C (dr jones, 2 visits in the window,
    # still active on 06-30: C lapses only at the 07-01 sweep) and D (online).
    assert report["sources"] == [
        {"kind": "doctor", "referrer": "dr jones", "referrer_name": None,
         "referrals": 0, "converted": 0,
         "conversion_rate": None, "new_clients": 1, "visits": 2, "active_clients": 1},
        {"kind": "online", "referrer": None, "referrer_name": None,
         "referrals": 0, "converted": 0,
         "conversion_rate": None, "new_clients": 1, "visits": 0, "active_clients": 0},
    ]
    # dr jones: C in (intake 02-01); A's referral out (01-12) is before the window; the care
    # report (03-21) is in it. dr smith: C out (02-04).
    assert report["providers"] == [
        {"provider": "dr jones", "referred_in": 1, "referred_out": 0, "care_reports_sent": 1},
        {"provider": "dr smith", "referred_in": 0, "referred_out": 1, "care_reports_sent": 0},
    ]


def test_a_care_report_back_to_the_referring_doctor_counts_for_that_doctor(
        ledger: PracticeLedger) -> None:
    """Integrative care (SPEC §9): the report goes back on the inbound referral; it counts in
    care_reports_sent and not in referred_out."""
    referral = ledger.receive_referral(source="doctor", referrer="Dr Ng", prospect="Ann",
                                       on=at("2026-03-01 09:00"))
    ann = ledger.record_intake(name="Ann", referral_id=referral, on=at("2026-03-02 09:00"))
    ledger.send_care_report(referral, summary="improving", on=at("2026-03-20 09:00"))
    report = build_report(ledger, referrals_report)
    assert report["providers"] == [
        {"provider": "dr ng", "referred_in": 1, "referred_out": 0, "care_reports_sent": 1}]
    timeline = build_report(ledger, lambda conn: timeline_report(conn, str(ann),
                                                                 date(2026, 3, 31)))
    assert timeline["entries"][-1]["summary"] == "care report sent: improving"
