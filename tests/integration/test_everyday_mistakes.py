"""SPEC §9's everyday mistakes through the service and the read models, on both backends:
the directory finds the same person again (D1) by corrected details and never an erased
client; a visit done without its booking's id closes that booking; T1 with a fixed clock."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from practice_es.application import PracticeLedger
from practice_es.domain.errors import RuleRefused
from practice_es.infrastructure.settings import Settings
from practice_es.projections.clients import clients_like
from practice_es.projections.visits import visits
from tests.integration.report_histories import at, build_report


def like(ledger: PracticeLedger, name: str, born: date | None, email: str | None
         ) -> list[UUID]:
    found = build_report(ledger, lambda conn: clients_like(conn, name, born, email))
    return [known.client_id for known in found]


def test_d1_finds_the_same_person_by_corrected_details_and_never_an_erased_one(
        ledger: PracticeLedger) -> None:
    ann = ledger.record_intake(name="Ann Lee", date_of_birth=date(1980, 4, 2),
                               on=at("2026-01-05 09:00"))
    bo = ledger.record_intake(name="Bo", email="bo@example.org", on=at("2026-01-05 09:10"))
    assert like(ledger, "ann lee", date(1980, 4, 2), None) == [ann]
    ledger.correct_entry(ann, version=1, reason="typo", changes={"name": "Anne Lee"},
                         on=at("2026-01-06 09:00"))
    assert like(ledger, "Ann Lee", date(1980, 4, 2), None) == []
    assert like(ledger, "Anne Lee", date(1980, 4, 2), None) == [ann]
    assert like(ledger, "Someone", None, "BO@example.org") == [bo]
    ledger.erase_client(bo, reason="asked", on=at("2026-01-07 09:00"))
    assert like(ledger, "Someone", None, "bo@example.org") == []
    with pytest.raises(RuleRefused, match="D1"):
        ledger.record_intake(name="Anne Lee", date_of_birth=date(1980, 4, 2),
                             known=build_report(ledger, lambda conn: clients_like(
                                 conn, "Anne Lee", date(1980, 4, 2), None)),
                             on=at("2026-01-08 09:00"))
    twin = ledger.record_intake(name="Anne Lee", date_of_birth=date(1980, 4, 2),
                                allow_duplicate=True, on=at("2026-01-08 09:00"))
    [first] = ledger.recorder.select_events(twin, limit=1)
    assert ledger.mapper.to_domain_event(first).duplicate_allowed  # type: ignore[attr-defined]


def test_a_visit_done_without_its_id_completes_that_days_booking(
        ledger: PracticeLedger) -> None:
    bob = ledger.record_intake(name="Bob", on=at("2026-01-05 09:00"))
    booked = ledger.schedule_visit(bob, at=at("2026-01-12 10:00"), on=at("2026-01-05 09:05"))
    done = ledger.complete_visit(bob, on=at("2026-01-12 10:00"))
    assert done == booked
    assert ledger.client(bob).scheduled == {}
    rows = build_report(ledger, lambda conn: conn.execute(
        select(visits.c.visit_id, visits.c.status)).all())
    assert [tuple(r) for r in rows] == [(str(booked), "completed")]


def test_t1_is_judged_against_the_clock_in_the_practice_zone(db_url: str) -> None:
    """At 10:00 in New York (15:00 UTC) a visit at 10:00 local is now, 10:01 is later."""
    zone_now = datetime.fromisoformat("2026-12-07T15:00:00+00:00")
    settings = Settings(db_url=db_url, actor="t", zone=ZoneInfo("America/New_York"))
    ledger = PracticeLedger(settings, clock=lambda: zone_now)
    try:
        ann = ledger.record_intake(name="Ann", on=datetime(2026, 12, 7, 9, 0))
        ledger.complete_visit(ann, on=datetime(2026, 12, 7, 10, 0))
        with pytest.raises(RuleRefused, match="T1"):
            ledger.complete_visit(ann, on=datetime(2026, 12, 7, 10, 1))
        with pytest.raises(RuleRefused, match="T1"):
            ledger.sweep_lapses([ann], as_of=date(2026, 12, 8))
        assert ledger.client(ann).completed_visits == 1
    finally:
        ledger.close()
