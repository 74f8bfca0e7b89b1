"""Timeline summaries: a booking's time reads the same however it is printed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from practice_es.projections.summaries import _when

ZONES = st.sampled_from([None, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30))])


@given(st.datetimes(timezones=ZONES))
def test_a_booked_time_reads_as_year_month_day_hour_minute(moment: datetime) -> None:
    assert _when(moment) == moment.strftime("%Y-%m-%d %H:%M")
