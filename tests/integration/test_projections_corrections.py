"""A correction (EntryCorrected) is what the reports use: a visit's corrected date moves it
between cohorts and along the timeline; corrected measures and notes replace the originals."""

from __future__ import annotations

from datetime import date

from practice_es.application import PracticeLedger
from practice_es.reports.retention import retention_report
from practice_es.reports.timeline import timeline_report
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
