"""Rows written straight to the driver (projections/bulk.py) are stored exactly as SQLAlchemy
Core would store them: the faster SQLite DATETIME text is the same text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, select

from practice_es.application import PracticeLedger
from practice_es.projections.base import local_time
from practice_es.projections.bulk import KEY, _sqlite_datetime, insert_rows, update_rows
from practice_es.projections.runner import ProjectionRunner
from practice_es.projections.visits import visits

SQLITE_DATETIME = visits.c.at.type.dialect_impl(create_engine("sqlite://").dialect)
CORE = SQLITE_DATETIME.bind_processor(create_engine("sqlite://").dialect)
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=-5, minutes=-30))])


@given(st.datetimes(timezones=ZONES) | st.dates())
def test_the_fast_datetime_text_is_sqlalchemys(value: datetime | date) -> None:
    assert _sqlite_datetime(CORE)(value) == CORE(value)


def test_rows_read_back_as_written_and_rows_must_name_the_same_columns() -> None:
    engine = create_engine("sqlite://")
    row = {"visit_id": "v1", "client_id": "c1", "program_id": None,
           "booked_on": datetime(2026, 1, 5, 9, 30), "at": datetime(2026, 1, 9, 10),
           "status": "scheduled", "closed_on": None}
    with engine.begin() as conn:
        visits.create(conn)
        insert_rows(conn, visits, [row])
        assert [dict(r._mapping) for r in conn.execute(select(visits))] == [row]
        with pytest.raises(ValueError):
            insert_rows(conn, visits, [{**row, "visit_id": "v2"},
                                       {**row, "visit_id": "v3", "extra": 1}])


def test_a_time_with_an_offset_is_written_as_its_wall_clock_time(ledger: PracticeLedger) -> None:
    """The projections pass an event's own time to the bulk writer (wall-clock time in the
    practice's zone, offset and all): each backend stores what `local_time` would have given."""
    from practice_es.projections.visits import VisitBook

    india = timezone(timedelta(hours=5, minutes=30))
    booked, at = datetime(2026, 1, 5, 23, 30, tzinfo=india), datetime(2026, 1, 9, 10, tzinfo=UTC)
    runner = ProjectionRunner(ledger, [VisitBook()])
    try:
        runner.ensure()
        with runner.transaction() as conn:
            insert_rows(conn, visits, [{"visit_id": "v1", "client_id": "c1", "program_id": None,
                                        "booked_on": booked, "at": at, "status": "scheduled",
                                        "closed_on": None}])
            update_rows(conn, visits, "visit_id", ("closed_on",),
                        [{"closed_on": booked, KEY: "v1"}])
            row = conn.execute(select(visits.c.booked_on, visits.c.at, visits.c.closed_on)).one()
        assert tuple(row) == (local_time(booked), local_time(at), local_time(booked))
    finally:
        runner.close()


@given(st.datetimes(timezones=ZONES))
def test_a_wall_clock_time_is_the_time_without_its_zone(moment: datetime) -> None:
    made = local_time(moment)
    assert made == moment.replace(tzinfo=None)
    assert (made.tzinfo, made.fold) == (None, moment.fold)


@given(st.lists(st.datetimes(timezones=ZONES), max_size=30))
def test_a_remembered_datetime_text_is_still_sqlalchemys(values: list[datetime]) -> None:
    """One processor over many values, each twice (the second from what it remembers)."""
    process = _sqlite_datetime(CORE)
    for value in values + values:
        assert process(value) == CORE(value)
