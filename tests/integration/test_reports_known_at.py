"""`--as-known-at T`: a report exactly as it was at T, however much was back-dated since."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import eventsourcing.domain
import pytest
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


class RecordClock:
    """The ledger's record time, injected: each reading is one second after the last, so a
    moment read between two actions falls strictly between their record times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> RecordClock:
    clock = RecordClock()
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", clock)
    return clock


def test_back_dated_visits_change_today_s_report_but_not_the_one_known_then(
        ledger: PracticeLedger, clock: RecordClock) -> None:
    ids = record_clinic(ledger)
    first = _report(ledger, retention_report)
    moment = clock()
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
        ledger: PracticeLedger, clock: RecordClock) -> None:
    ids = record_clinic(ledger)
    reports: list[Callable[[Connection], Any]] = [
        referrals_report,
        lambda conn: timeline_report(conn, str(ids.c), date(2026, 11, 27)),
        lambda conn: worklists_report(conn, date(2026, 3, 15)),
    ]
    before = [_report(ledger, make) for make in reports]
    moment = clock()
    ledger.complete_visit(ids.c, measures={"pain": 2}, on=at("2026-02-24 10:00"))
    ledger.receive_referral(source="doctor", referrer="dr jones", prospect="Max",
                            on=at("2026-01-30 09:00"))
    after = [_report(ledger, make) for make in reports]
    assert [_report(ledger, make, known_at=moment) for make in reports] == before
    assert all(a != b for a, b in zip(after, before, strict=True))


def test_a_moment_before_anything_was_recorded_gives_empty_reports(
        ledger: PracticeLedger, clock: RecordClock) -> None:
    moment = clock()
    record_clinic(ledger)
    empty = _report(ledger, retention_report, known_at=moment)
    assert empty["cohorts"] == [] and empty["kpis"]["visits"] == 0
