"""A correction (EntryCorrected) is what the reports use: a visit's corrected date moves it
between cohorts and along the timeline; corrected measures and notes replace the originals."""

from __future__ import annotations

from datetime import date
from typing import Any

from practice_es.application import PracticeLedger
from practice_es.projections.clients import find_clients
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from practice_es.reports.retention import retention_report
from practice_es.reports.timeline import timeline_report
from practice_es.reports.worklists import worklists_report
from tests.integration.report_histories import at, build_report


def test_a_corrected_visit_date_and_measures_are_what_reports_show(
        ledger: PracticeLedger) -> None:
    ivy = ledger.record_intake(name="Ivy", on=at("2026-01-05 09:00"))  # version 1
    ledger.record_assessment(ivy, findings="shoulder", measures={"pain": 8},
                             on=at("2026-01-05 09:30"))  # version 2
    ledger.complete_visit(ivy, measures={"pain": 6}, notes="first",
                          on=at("2026-01-30 10:00"))  # version 3
    before = build_report(ledger, lambda conn: retention_report(conn, "month"))
    assert before["cohorts"][0]["cohort"] == "2026-01"

    # The visit was really on 3 February, with pain 5 and a different note.
    ledger.correct_entry(ivy, version=3, reason="typed the wrong day",
                         changes={"occurred_on": "2026-02-03T10:00", "measures.pain": "5",
                                  "notes": "first visit"}, on=at("2026-02-04 09:00"))
    ledger.correct_entry(ivy, version=2, reason="misheard", changes={"findings": "neck"},
                         on=at("2026-02-04 09:05"))

    after = build_report(ledger, lambda conn: retention_report(conn, "month"))
    assert after["cohorts"] == [{"cohort": "2026-02", "clients": 1, "retained": [1],
                                 "rate": [1.0]}]
    timeline = build_report(ledger, lambda conn: timeline_report(conn, str(ivy),
                                                                 date(2026, 3, 1)))
    assert [(e["on"][:16], e["event"], e["summary"], e["measures"])
            for e in timeline["entries"]] == [
        ("2026-01-05T09:00", "IntakeRecorded", "intake", {}),
        ("2026-01-05T09:30", "AssessmentRecorded", "assessment: neck", {"pain": 8}),
        ("2026-02-03T10:00", "VisitCompleted", "visit completed: first visit", {"pain": 5}),
        ("2026-02-04T09:00", "EntryCorrected",
         "corrected the VisitCompleted entry (measures, notes, occurred_on): "
         "typed the wrong day", {}),
        ("2026-02-04T09:05", "EntryCorrected",
         "corrected the AssessmentRecorded entry (findings): misheard", {}),
    ]


def _directory(ledger: PracticeLedger, search: str | None = None) -> list[tuple[Any, ...]]:
    rows = build_report(ledger, lambda conn: find_clients(conn, search=search))
    return [(r["name"], r["email"], r["phone"], r["date_of_birth"]) for r in rows]


def test_a_corrected_name_email_phone_reaches_the_directory_search_and_worklists(
        ledger: PracticeLedger) -> None:
    ann = ledger.record_intake(name="Ann Lee", email="ann@old.example", phone="555-0100",
                               date_of_birth=date(1980, 4, 2), on=at("2026-01-05 09:00"))
    ledger.complete_visit(ann, on=at("2026-01-06 09:00"))
    ledger.correct_entry(ann, version=1, reason="typed from a form",
                         changes={"name": "Anne Lee", "email": "anne@new.example",
                                  "phone": "555-0199", "date_of_birth": "1980-04-20"},
                         on=at("2026-01-07 09:00"))

    assert _directory(ledger, "anne") == [
        ("Anne Lee", "anne@new.example", "555-0199", "1980-04-20")]
    assert _directory(ledger, "old.example") == []
    assert _directory(ledger, "0100") == []
    recalls = build_report(ledger, lambda conn: worklists_report(conn, date(2026, 3, 1)))
    assert [row["name"] for row in recalls["recall_due"]] == ["Anne Lee"]
    rebuilt = ProjectionRunner(ledger, all_projections())
    try:
        rebuilt.rebuild()
    finally:
        rebuilt.close()
    assert _directory(ledger) == [("Anne Lee", "anne@new.example", "555-0199", "1980-04-20")]


def test_a_correction_of_an_entry_older_than_the_latest_update_leaves_the_field(
        ledger: PracticeLedger) -> None:
    """As the client aggregate: the intake's e-mail corrected after she gave a new one keeps
    the new one; the name, never updated since, is corrected."""
    bo = ledger.record_intake(name="Bo", email="bo@a.example", on=at("2026-01-05 09:00"))
    ledger.update_contact(bo, email="bo@b.example", on=at("2026-01-06 09:00"))  # version 2
    ledger.correct_entry(bo, version=1, reason="typo",
                         changes={"name": "Beau", "email": "beau@a.example"},
                         on=at("2026-01-07 09:00"))
    assert _directory(ledger) == [("Beau", "bo@b.example", None, None)]
    shown = ledger.client(bo)
    assert (shown.name, shown.email) == ("Beau", "bo@b.example")
