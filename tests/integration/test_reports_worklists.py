"""Worklists (SPEC §4, `report recalls --as-of D`): recalls due, re-evaluations due and lapsed
clients to reactivate, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import pytest

from practice_es.application import PracticeLedger
from practice_es.reports.worklists import worklists_report
from tests.integration.report_histories import at, build_report


@dataclass
class Desk:
    eve: UUID
    fay: UUID
    gus: UUID
    hal: UUID
    program: UUID


def contact(ident: UUID, name: str) -> dict[str, object]:
    return {"client_id": str(ident), "name": name, "phone": None, "email": None}


@pytest.fixture
def desk(ledger: PracticeLedger) -> Desk:
    """Gus (visit 2025-11-01) and Hal (2025-10-01) lapse at the 2026-02-15 sweep; Hal is
    recalled by phone 02-20. Fay (visit 01-02) has a visit booked for 03-20. Eve starts a
    relief program 03-01 (4 visits at 2/week, re-evaluate after 2) and makes 2 visits, the
    last on 03-05, then books nothing."""
    gus = ledger.record_intake(name="Gus", on=at("2025-11-01 09:00"))
    ledger.complete_visit(gus, on=at("2025-11-01 10:00"))
    hal = ledger.record_intake(name="Hal", on=at("2025-10-01 09:00"))
    ledger.complete_visit(hal, on=at("2025-10-01 10:00"))
    fay = ledger.record_intake(name="Fay", on=at("2026-01-02 09:00"))
    ledger.complete_visit(fay, on=at("2026-01-02 10:00"))
    ledger.schedule_visit(fay, at=at("2026-03-20 10:00"), on=at("2026-01-02 10:30"))
    ledger.sweep_lapses([gus, hal, fay], as_of=date(2026, 2, 15))
    ledger.send_recall(hal, channel="phone", on=at("2026-02-20 09:00"))
    eve = ledger.record_intake(name="Eve", on=at("2026-03-01 09:00"))
    ledger.record_assessment(eve, findings="hip", measures={"pain": 6},
                             on=at("2026-03-01 09:30"))
    program = ledger.recommend_program(eve, phase="relief", visits=4, per_week=2,
                                       reevaluate_after=2, goals=["run"], rationale="acute",
                                       on=at("2026-03-01 09:40"))
    ledger.accept_program(program, on=at("2026-03-01 09:45"))
    ledger.complete_visit(eve, program=program, on=at("2026-03-02 10:00"))
    ledger.complete_visit(eve, program=program, on=at("2026-03-05 10:00"))
    return Desk(eve, fay, gus, hal, program)


def test_worklists_as_of_a_day_give_each_reason(ledger: PracticeLedger, desk: Desk) -> None:
    report = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 10)))
    assert report["as_of"] == "2026-03-10"
    # Gus lapsed and was not recalled; Eve's last visit is 5 days old against her program's
    # 3.5-day interval. Fay is booked ahead; Hal was recalled since his lapse.
    gus, eve, hal = (contact(desk.gus, "Gus"), contact(desk.eve, "Eve"),
                     contact(desk.hal, "Hal"))
    assert report["recall_due"] == [
        {**gus, "last_visit_on": "2025-11-01",
         "interval_days": None, "reasons": ["lapsed on 2026-02-15, not recalled since"]},
        {**eve, "last_visit_on": "2026-03-05", "interval_days": 3.5,
         "reasons": ["last visit 5 days ago, nothing booked (program visits every 3.5 days)"]},
    ]
    assert report["reevaluation_due"] == [{
        "program_id": str(desk.program), **eve,
        "phase": "relief", "visits_completed": 2, "visits_planned": 4, "reevaluate_after": 2,
        "reasons": ["2 of 4 visits completed; re-evaluation due at visit 2 (2026-03-05), "
                    "none recorded since"],
    }]
    assert report["reactivate"] == [
        {**gus, "lapsed_on": "2026-02-15",
         "last_visit_on": "2025-11-01", "recalled_on": None,
         "reasons": ["lapsed on 2026-02-15 (last visit 2025-11-01); not recalled yet"]},
        {**hal, "lapsed_on": "2026-02-15",
         "last_visit_on": "2025-10-01", "recalled_on": "2026-02-20",
         "reasons": ["lapsed on 2026-02-15 (last visit 2025-10-01); recalled by phone on "
                     "2026-02-20, not back yet"]},
    ]


def test_before_the_sweep_clients_out_of_a_program_are_due_after_28_days(
        ledger: PracticeLedger, desk: Desk) -> None:
    report = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 2, 10)))
    # Nobody has lapsed yet; Hal (132 days) and Gus (101 days) are due by the default
    # 28-day interval; Fay is booked ahead; Eve has not come in yet.
    assert [(r["name"], r["reasons"]) for r in report["recall_due"]] == [
        ("Hal", ["last visit 132 days ago, nothing booked (no program: default 28 days)"]),
        ("Gus", ["last visit 101 days ago, nothing booked (no program: default 28 days)"]),
    ]
    assert report["reevaluation_due"] == []
    assert report["reactivate"] == []


def test_a_reevaluation_clears_the_program_from_the_worklist(
        ledger: PracticeLedger, desk: Desk) -> None:
    ledger.reevaluate_program(desk.program, findings="improving", outcome="continue",
                              on=at("2026-03-06 09:00"))
    report = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 10)))
    assert report["reevaluation_due"] == []


def test_prospects_are_intakes_with_nothing_booked_or_done(ledger: PracticeLedger,
                                                            desk: Desk) -> None:
    ivy = ledger.record_intake(name="Ivy", phone="555-0107", email="ivy@example.org",
                               referral_source="doctor", referrer="Dr Jones",
                               on=at("2026-03-03 09:00"))
    booked = ledger.record_intake(name="Jo", on=at("2026-03-03 09:00"))
    ledger.schedule_visit(booked, at=at("2026-03-20 09:00"), on=at("2026-03-03 09:10"))
    report = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 10)))
    assert report["prospects"] == [{
        "client_id": str(ivy), "name": "Ivy", "phone": "555-0107", "email": "ivy@example.org",
        "intake_on": "2026-03-03",
        "reasons": ["intake on 2026-03-03, 7 days ago; no visit booked or completed "
                    "(came by doctor dr jones)"],
    }]
    before = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 2)))
    assert before["prospects"] == []


def test_referrals_awaiting_an_answer_one_row_per_client(ledger: PracticeLedger,
                                                         desk: Desk) -> None:
    first = ledger.make_referral(desk.eve, to="Dr Jones", reason="x-ray",
                                 on=at("2026-03-02 09:00"))
    second = ledger.make_referral(desk.eve, to="Dr Smith", reason="bloods",
                                  on=at("2026-03-04 09:00"))
    answered = ledger.make_referral(desk.fay, to="Dr Jones", reason="x-ray",
                                    on=at("2026-03-02 09:00"))
    ledger.record_referral_outcome(answered, cleared=False, on=at("2026-03-03 09:00"))
    report = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 10)))
    assert report["awaiting_answer"] == [{
        **contact(desk.eve, "Eve"), "referral_ids": [str(first), str(second)],
        "providers": ["dr jones", "dr smith"], "made_on": "2026-03-02",
        "reasons": ["referred out to dr jones on 2026-03-02, 8 days ago; no answer yet",
                    "referred out to dr smith on 2026-03-04, 6 days ago; no answer yet"],
    }]


def test_an_erased_client_is_on_no_list(ledger: PracticeLedger, desk: Desk) -> None:
    ledger.erase_client(desk.gus, reason="asked", on=at("2026-03-06 09:00"))
    report = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 10)))
    lists = ("recall_due", "reevaluation_due", "reactivate", "prospects", "awaiting_answer")
    assert all(row["client_id"] != str(desk.gus) for key in lists for row in report[key])
