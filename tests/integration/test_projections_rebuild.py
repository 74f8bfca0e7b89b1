"""Property: for any valid sequence of actions, the read models (and every report built from
them) are the same whether kept up after each action, caught up once at the end, or rebuilt
from nothing — SPEC §4's "a rebuild gives exactly the rows that incremental updating gave".
With personal data sealed at rest, also when replayed by only the projections that name the
topics whose personal fields they read (`Projection.reads_personal_of`): the others' stay shut."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, select
from sqlalchemy.pool import StaticPool

from practice_es.application import PracticeLedger
from practice_es.projections import decoding
from practice_es.projections import runner as runner_module
from practice_es.projections.clients import find_clients
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from practice_es.reports.referrals import referrals_report
from practice_es.reports.retention import retention_report
from practice_es.reports.timeline import timeline_report
from practice_es.reports.window import Window
from practice_es.reports.worklists import worklists_report
from tests.integration.desk_steps import POSTGRES_URL, START, STEPS, Desk, fresh_ledger


def snapshot(conn: Connection, clients: list[uuid.UUID]) -> dict[str, Any]:
    """Every read-model row, and every report built from them."""
    tables = {
        table.name: sorted(tuple(row) for row in conn.execute(select(table)))
        for projection in all_projections() for table in projection.tables
    }
    window = Window(date(2026, 2, 1), date(2026, 6, 30))
    reports = {
        "retention": retention_report(conn, "month"),
        "retention_window": retention_report(conn, "quarter", window),
        "referrals": referrals_report(conn),
        "referrals_window": referrals_report(conn, window),
        "worklists": [worklists_report(conn, START + timedelta(days=d)) for d in (40, 200)],
        "timelines": [timeline_report(conn, str(c), date(2026, 12, 31)) for c in clients],
    }
    return {"tables": tables, "reports": reports}


def read(runner: ProjectionRunner, clients: list[uuid.UUID]) -> dict[str, Any]:
    with runner.engine.connect() as conn:
        return snapshot(conn, clients)


def check(backend: str, steps: list[tuple[str, int, int]], sealed: bool) -> None:
    with fresh_ledger(backend, sealed) as ledger:
        live = ProjectionRunner(ledger, all_projections())
        once = ProjectionRunner(ledger, all_projections(),
                                engine=create_engine("sqlite://", poolclass=StaticPool))
        try:
            desk = Desk(ledger)
            for op, pick, gap in steps:
                desk.play(op, pick, gap)
                live.catch_up()
            incremental = read(live, desk.clients)
            assert contacts_listed(live) == contacts_held(ledger, desk.clients)
            once.catch_up()
            assert read(once, desk.clients) == incremental
            live.rebuild()
            assert read(live, desk.clients) == incremental
            shut = opening_less(ledger)
            assert shut == {name: incremental["tables"][name] for name in shut}
        finally:
            live.close()
            once.close()


def contacts_listed(runner: ProjectionRunner) -> dict[str, tuple[Any, ...]]:
    """Each client's name, date of birth, e-mail and phone as the directory lists them."""
    with runner.engine.connect() as conn:
        return {row["client_id"]: (row["name"], row["date_of_birth"], row["email"],
                                   row["phone"]) for row in find_clients(conn)}


def contacts_held(ledger: PracticeLedger, clients: list[uuid.UUID]) -> dict[str, tuple[Any, ...]]:
    """The same as the client aggregates hold them (corrections and updates applied)."""
    held = {}
    for ident in clients:
        c = ledger.client(ident)
        born = c.date_of_birth.isoformat() if c.date_of_birth else None
        held[str(ident)] = (c.name, born, c.email, c.phone)
    return held


def opening_less(ledger: PracticeLedger) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of a replay by only the projections that name the topics whose personal
    fields they read, as the second process of a rebuild replays (every sealed field of
    another topic left shut), into a database of its own."""
    named = [p for p in all_projections() if p.reads_personal_of is not None]
    runner = ProjectionRunner(ledger, named,
                              engine=create_engine("sqlite://", poolclass=StaticPool))
    saved = decoding.REPLAY_MODELS_FROM
    decoding.REPLAY_MODELS_FROM = 0  # (the long replay's decoding)
    try:
        runner.catch_up()
        with runner.engine.connect() as conn:
            return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                    for projection in named for table in projection.tables}
    finally:
        decoding.REPLAY_MODELS_FROM = saved
        runner.close()


def check_with_small_pages(backend: str, steps: list[tuple[str, int, int]],
                           sealed: bool) -> None:
    saved = runner_module.PAGE_SIZE
    runner_module.PAGE_SIZE = 5  # many pages: a page boundary must never change a row
    try:
        check(backend, steps, sealed)
    finally:
        runner_module.PAGE_SIZE = saved


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, sealed=st.booleans())
def test_rebuild_and_one_catch_up_equal_incremental_updates_on_sqlite(
        steps: list[tuple[str, int, int]], sealed: bool) -> None:
    check_with_small_pages("sqlite", steps, sealed)


@pytest.mark.skipif(not POSTGRES_URL, reason="PRACTICE_TEST_POSTGRES_URL is not set")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, sealed=st.booleans())
def test_rebuild_and_one_catch_up_equal_incremental_updates_on_postgres(
        steps: list[tuple[str, int, int]], sealed: bool) -> None:
    check_with_small_pages("postgres", steps, sealed)
