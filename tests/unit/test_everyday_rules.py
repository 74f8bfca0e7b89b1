"""SPEC §9's everyday mistakes as domain rules: T1 (no fact in the future) and the bounds of
a date, V2 (one booking per start time), D1 (one person, one client) and which booking a
visit done without its id completes."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from practice_es.domain.duplicates import KnownClient, check_not_duplicate, short_id
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.moments import (
    booking_horizon,
    check_booking,
    check_day_not_future,
    check_not_future,
)
from tests.unit.given import at, intake, replayed, stamp, then

NOW = at("2026-12-07T10:00")


# -- T1 and the bounds of a date -----------------------------------------------------------

def test_t1_a_fact_up_to_now_is_accepted_one_minute_later_is_refused() -> None:
    check_not_future("--on", NOW, NOW)
    with pytest.raises(RuleRefused) as caught:
        check_not_future("--on", at("2026-12-07T10:01"), NOW)
    assert caught.value.rule == "T1" and "later than now" in caught.value.message


def test_t1_a_sweep_as_of_today_is_accepted_tomorrow_is_refused() -> None:
    check_day_not_future("--as-of", date(2026, 12, 7), date(2026, 12, 7))
    with pytest.raises(RuleRefused, match="T1"):
        check_day_not_future("--as-of", date(2026, 12, 8), date(2026, 12, 7))


def test_a_booking_up_to_two_years_ahead_is_accepted_not_later() -> None:
    check_booking("at", at("2028-12-07T10:00"), NOW)
    with pytest.raises(InvalidInput) as caught:
        check_booking("at", at("2028-12-07T10:01"), NOW)
    assert caught.value.field == "at"
    assert booking_horizon(at("2028-02-29T09:00")) == at("2030-02-28T09:00")


@pytest.mark.parametrize("check", [
    lambda: check_not_future("--on", at("1899-12-31T23:00"), NOW),
    lambda: check_booking("at", at("1800-01-01T10:00"), NOW),
    lambda: check_day_not_future("--as-of", date(1, 1, 1), NOW.date()),
])
def test_a_date_before_1900_is_invalid_input(check: object) -> None:
    assert callable(check)
    with pytest.raises(InvalidInput, match="before 1900"):
        check()


# -- V2 --------------------------------------------------------------------------------------

def test_v2_a_client_cannot_hold_two_bookings_at_the_same_start_time() -> None:
    client = intake()
    first = uuid4()
    client.schedule_visit(stamp(), first, at("2026-01-09T10:00"), None)
    client = replayed(client)
    with pytest.raises(RuleRefused) as caught:
        client.schedule_visit(stamp(), uuid4(), at("2026-01-09T10:00"), None)
    assert caught.value.rule == "V2" and str(first) in caught.value.message
    second = uuid4()
    client.schedule_visit(stamp(), second, at("2026-01-09T11:00"), None)
    with pytest.raises(RuleRefused, match="V2"):
        client.reschedule_visit(stamp(), second, at("2026-01-09T10:00"))
    client.reschedule_visit(stamp(), first, at("2026-01-09T10:00"))  # (to its own time)
    assert then(client) == ["VisitScheduled", "VisitRescheduled"]


# -- a visit done without its booking's id ---------------------------------------------------

def test_the_booking_a_visit_done_completes_is_the_earliest_open_one_that_day() -> None:
    client = intake()
    late, early, other_day = uuid4(), uuid4(), uuid4()
    client.schedule_visit(stamp(), late, at("2026-01-09T15:00"), None)
    client.schedule_visit(stamp(), early, at("2026-01-09T09:00"), None)
    client.schedule_visit(stamp(), other_day, at("2026-01-10T09:00"), None)
    client = replayed(client)
    assert client.booking_on(date(2026, 1, 9)) == early
    client.cancel_visit(stamp(), early, None)
    assert client.booking_on(date(2026, 1, 9)) == late
    assert client.booking_on(date(2026, 1, 11)) is None


# -- D1 --------------------------------------------------------------------------------------

ANN = KnownClient(uuid4(), "Ann Lee", date(1980, 4, 2), "ann@example.org")


@pytest.mark.parametrize(("name", "born", "email", "why"), [
    ("ann  LEE", date(1980, 4, 2), None, "the same name and date of birth"),
    ("Annie Lee", None, "ANN@example.org", "the same e-mail"),
])
def test_d1_the_same_person_again_is_refused_naming_the_client_short_id(
        name: str, born: date | None, email: str | None, why: str) -> None:
    with pytest.raises(RuleRefused) as caught:
        check_not_duplicate(name, born, email, [ANN])
    assert caught.value.rule == "D1"
    assert f"client {short_id(ANN.client_id)} has {why}" in caught.value.message
    assert len(short_id(ANN.client_id)) == 8


@pytest.mark.parametrize(("name", "born", "email"), [
    ("Ann Lee", None, None),  # a namesake of unknown birth
    ("Ann Lee", date(1991, 1, 1), "other@example.org"),
    ("Bo Lee", date(1980, 4, 2), ""),
])
def test_d1_a_namesake_or_a_shared_birthday_is_another_person(
        name: str, born: date | None, email: str | None) -> None:
    check_not_duplicate(name, born, email, [ANN])


def test_the_booking_horizon_at_the_end_of_the_calendar_is_its_last_moment() -> None:
    assert booking_horizon(at("9999-06-01T09:00")).year == 9999
