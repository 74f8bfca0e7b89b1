"""The retention rule (SPEC §12) on its own: exactly N years is kept, a day more is due; a
minor is kept until the age plus N years; 29 February counts as the 28th in other years."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from practice_es.domain.errors import InvalidInput
from practice_es.domain.retention import RetentionRule, years_after
from tests.unit.given import day, intake, replayed

AS_OF = date(2026, 3, 1)


@given(st.dates(min_value=date(1990, 1, 1), max_value=AS_OF), st.integers(1, 30))
def test_an_adult_is_due_exactly_when_the_last_activity_is_more_than_n_years_back(
        last: date, years: int) -> None:
    client = replayed(intake(on="1990-01-01"))
    due = RetentionRule(years).is_due(client, last, AS_OF)
    assert due == (years_after(last, years) < AS_OF)


def test_a_minor_is_kept_until_the_age_plus_the_period() -> None:
    rule = RetentionRule(7, minors_until_age=18)
    born_then = replayed(intake(on="2010-01-01", date_of_birth=day("2001-03-01")))
    a_day_later = replayed(intake(on="2010-01-01", date_of_birth=day("2001-03-02")))
    assert rule.is_due(born_then, date(2010, 1, 1), AS_OF)
    assert not rule.is_due(a_day_later, date(2010, 1, 1), AS_OF)
    assert RetentionRule(7).is_due(a_day_later, date(2010, 1, 1), AS_OF)  # no minors' rule


def test_the_29th_of_february_and_bad_periods() -> None:
    assert years_after(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert years_after(date(2024, 2, 29), -4) == date(2020, 2, 29)
    assert RetentionRule(7).cutoff(AS_OF) == AS_OF.replace(year=2019)
    with pytest.raises(InvalidInput, match="years"):
        RetentionRule(0)
    with pytest.raises(InvalidInput, match="minors-until-age"):
        RetentionRule(7, minors_until_age=0)
