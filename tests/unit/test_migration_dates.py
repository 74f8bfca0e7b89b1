"""Legacy dates: US and European slashed dates, ISO, times, offsets, the practice's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from practice_es.domain.errors import InvalidInput
from practice_es.migration.dates import DateReader, check_order, slashed_order

UTC = ZoneInfo("UTC")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def test_slashed_dates_are_read_in_the_order_given() -> None:
    assert DateReader(UTC, "MM/DD/YYYY").day("03/04/2024") == date(2024, 3, 4)
    assert DateReader(UTC, "DD/MM/YYYY").day("03/04/2024") == date(2024, 4, 3)
    assert DateReader(UTC, None).day("2024-04-03") == date(2024, 4, 3)


def test_a_utc_timestamp_lands_on_the_business_day_of_the_practice() -> None:
    reader = DateReader(LOS_ANGELES, None)
    moment = reader.moment("2024-03-05T02:00:00Z")
    assert moment == datetime(2024, 3, 4, 18, 0, tzinfo=LOS_ANGELES)
    assert reader.day("2024-03-05T02:00:00Z") == date(2024, 3, 4)
    assert reader.moment("2024-03-05T02:00:00+01:00").date() == date(2024, 3, 4)


def test_a_time_without_offset_is_the_practice_local_time() -> None:
    reader = DateReader(LOS_ANGELES, "MM/DD/YYYY")
    assert reader.moment("11/30/2024", "9:00 PM") == datetime(2024, 11, 30, 21,
                                                              tzinfo=LOS_ANGELES)
    assert reader.moment("11/30/2024 10:15") == datetime(2024, 11, 30, 10, 15,
                                                         tzinfo=LOS_ANGELES)
    assert reader.moment("2024-11-30 09:00:00") == datetime(2024, 11, 30, 9,
                                                            tzinfo=LOS_ANGELES)


@pytest.mark.parametrize(("text", "message"), [
    ("02/31/2025", "day is out of range"), ("13/01/2025", "month must be in 1..12"),
    ("yesterday", "not a date")])
def test_an_impossible_date_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DateReader(UTC, "MM/DD/YYYY").day(text)


def test_a_slashed_date_without_an_order_asks_for_date_format() -> None:
    with pytest.raises(ValueError, match="--date-format"):
        DateReader(UTC, None).day("03/04/2024")


def test_the_order_is_told_by_the_first_part_above_12() -> None:
    assert slashed_order(["01/02/2024", "11/27/2024"]) == "MM/DD/YYYY"
    assert slashed_order(["01/02/2024", "27/11/2024"]) == "DD/MM/YYYY"
    assert slashed_order(["01/02/2024", "2024-11-27", "12/12/2024"]) is None


def test_an_unknown_date_format_is_invalid_input() -> None:
    assert check_order("DD/MM/YYYY") == "DD/MM/YYYY"
    assert check_order("YYYY-MM-DD") is None
    with pytest.raises(InvalidInput, match="date-format"):
        check_order("D.M.Y")
