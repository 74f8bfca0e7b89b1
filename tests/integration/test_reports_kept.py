"""Property: a report kept client by client (the front desk's report pages) and brought up to
date after every action equals the same report built afresh from the read models, whatever
was recorded: visits, cancellations, lapses, recalls, programs, referrals, corrections,
erasures. A kept report re-reads only the clients the new events touched."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice_es.application import PracticeLedger
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from practice_es.reports.referrals import KeptReferrals, referrals_report
from practice_es.reports.retention import KeptRetention, retention_report
from practice_es.reports.window import Window
from practice_es.reports.worklists import KeptWorklists, worklists_report
from tests.integration.desk_steps import OPS, POSTGRES_URL, START, Desk, fresh_ledger

WINDOW = Window(date(2026, 2, 1), date(2026, 6, 30))
DAYS = (START + timedelta(days=30), START + timedelta(days=90))
Kept = KeptRetention | KeptWorklists | KeptReferrals
# Three clients first (one by each way of coming), then a working month or two of anything.
OPENING = [("intake", pick, 0) for pick in range(3)]
STEPS = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 3), st.integers(0, 6)),
                 min_size=5, max_size=40).map(lambda steps: OPENING + steps)


def kept_reports() -> dict[str, Kept]:
    return {"retention": KeptRetention("month"),
            "retention, a window": KeptRetention("quarter", WINDOW),
            **{f"worklists on {day}": KeptWorklists(day) for day in DAYS},
            "referrals": KeptReferrals(),
            "referrals, a window": KeptReferrals(WINDOW)}


def afresh(conn: Any) -> dict[str, Any]:
    return {"retention": retention_report(conn, "month"),
            "retention, a window": retention_report(conn, "quarter", WINDOW),
            **{f"worklists on {day}": worklists_report(conn, day) for day in DAYS},
            "referrals": referrals_report(conn),
            "referrals, a window": referrals_report(conn, WINDOW)}


def check(backend: str, steps: list[tuple[str, int, int]]) -> None:
    with fresh_ledger(backend) as ledger:
        runner = ProjectionRunner(ledger, all_projections())
        kept, since = kept_reports(), -1
        try:
            desk = Desk(ledger)
            for op, pick, gap in steps:
                desk.play(op, pick, gap)
                since = bring_up_to_date(ledger, runner, kept, since)
            with runner.engine.connect() as conn:
                assert {name: k.report(conn) for name, k in kept.items()} == afresh(conn)
        finally:
            runner.close()


def bring_up_to_date(ledger: PracticeLedger, runner: ProjectionRunner, kept: dict[str, Kept],
                     since: int) -> int:
    """What the front desk does on a report page: the head first, then the read models."""
    head = ledger.recorder.max_notification_id() or 0
    runner.catch_up()
    changed = None if since < 0 else ledger.touched_since(since, head, 2_000)
    with runner.engine.connect() as conn:
        for report in kept.values():
            report.refresh(conn, changed)
    return head


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_kept_reports_equal_reports_built_afresh_on_sqlite(
        steps: list[tuple[str, int, int]]) -> None:
    check("sqlite", steps)


@pytest.mark.skipif(not POSTGRES_URL, reason="PRACTICE_TEST_POSTGRES_URL is not set")
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_kept_reports_equal_reports_built_afresh_on_postgres(
        steps: list[tuple[str, int, int]]) -> None:
    check("postgres", steps)


def test_touched_since_names_the_clients_of_new_events(ledger: PracticeLedger) -> None:
    first = ledger.record_intake(name="First")
    head = ledger.recorder.max_notification_id() or 0
    second = ledger.record_intake(name="Second")
    ledger.send_recall(first, channel="sms")
    now = ledger.recorder.max_notification_id() or 0
    assert ledger.touched_since(head, now, 10) == {str(first), str(second)}
    assert ledger.touched_since(now, now, 10) == set()
    assert ledger.touched_since(0, now, 2) is None  # too many: build afresh


def test_a_program_accepted_moves_its_client_onto_the_recall_list(ledger: PracticeLedger,
                                                                   ) -> None:
    """A program's events name the program, not the client: the kept worklists still read
    that client again (a program of 3 visits a week makes them due after 3 days)."""
    from datetime import datetime

    client = ledger.record_intake(name="Program Client", on=datetime(2026, 3, 1, 9))
    ledger.complete_visit(client, on=datetime(2026, 3, 2, 9))
    ledger.record_assessment(client, findings="f", measures={"pain": 7},
                             on=datetime(2026, 3, 2, 9, 30))
    program = ledger.recommend_program(client, phase="relief", visits=6, per_week=3,
                                       goals=["g"], rationale="r", on=datetime(2026, 3, 2, 10))
    runner = ProjectionRunner(ledger, all_projections())
    try:
        kept = {"worklists": KeptWorklists(date(2026, 3, 10))}
        since = bring_up_to_date(ledger, runner, kept, -1)
        with runner.engine.connect() as conn:
            assert kept["worklists"].report(conn)["recall_due"] == []  # 8 days < 28
        ledger.accept_program(program, on=datetime(2026, 3, 2, 11))
        bring_up_to_date(ledger, runner, kept, since)
        with runner.engine.connect() as conn:
            due = kept["worklists"].report(conn)["recall_due"]
            assert [row["name"] for row in due] == ["Program Client"]
            assert kept["worklists"].report(conn) == worklists_report(conn, date(2026, 3, 10))
    finally:
        runner.close()
