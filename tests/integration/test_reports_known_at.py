"""`--as-known-at T`: a report exactly as it was at T, however much was back-dated since."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from practice_es.application import PracticeLedger
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from practice_es.reports.referrals import referrals_report
from practice_es.reports.retention import retention_report
from practice_es.reports.source import build
from practice_es.reports.timeline import timeline_report
from practice_es.reports.worklists import worklists_report
from tests.integration.report_histories import at, record_clinic


def _report(ledger: PracticeLedger, make: Callable[[Connection], Any],
            known_at: datetime | None = None) -> Any:
    runner = ProjectionRunner(ledger, all_projections())
    try:
        return build(ledger, lambda: runner, known_at, make)
    finally:
        runner.close()


def _moment() -> datetime:
    """A record time strictly between what was recorded before and what comes after."""
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    return moment


def test_back_dated_visits_change_today_s_report_but_not_the_one_known_then(
        ledger: PracticeLedger) -> None:
    ids = record_clinic(ledger)
    first = _report(ledger, retention_report)
    moment = _moment()
    # Recorded now, but they happened in February: C came twice more, D once.
    ledger.complete_visit(ids.c, on=at("2026-02-24 10:00"))
    ledger.complete_visit(ids.c, on=at("2026-03-03 10:00"))
    ledger.complete_visit(ids.d, on=at("2026-06-20 10:00"))

    today = _report(ledger, retention_report)
    then = _report(ledger, retention_report, known_at=moment)

    assert then == first
    assert today != first
    assert today["kpis"]["visits"] == first["kpis"]["visits"] + 3
    # C is now seen in March too; D (06-20) makes June the last month with data.
    assert today["cohorts"][1]["retained"] == [1, 1, 0, 0, 0]


def test_every_report_can_be_reproduced_as_known_at_a_moment(
        ledger: PracticeLedger) -> None:
    ids = record_clinic(ledger)
    reports: list[Callable[[Connection], Any]] = [
        referrals_report,
        lambda conn: timeline_report(conn, str(ids.c), date(2026, 11, 27)),
        lambda conn: worklists_report(conn, date(2026, 3, 15)),
    ]
    before = [_report(ledger, make) for make in reports]
    moment = _moment()
    ledger.complete_visit(ids.c, measures={"pain": 2}, on=at("2026-02-24 10:00"))
    ledger.receive_referral(source="doctor", referrer="dr jones", prospect="Max",
                            on=at("2026-01-30 09:00"))
    after = [_report(ledger, make) for make in reports]
    assert [_report(ledger, make, known_at=moment) for make in reports] == before
    assert all(a != b for a, b in zip(after, before, strict=True))


def test_a_moment_before_anything_was_recorded_gives_empty_reports(
        ledger: PracticeLedger) -> None:
    moment = _moment()
    record_clinic(ledger)
    empty = _report(ledger, retention_report, known_at=moment)
    assert empty["cohorts"] == [] and empty["kpis"]["visits"] == 0
