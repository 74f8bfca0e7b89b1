"""A client's past visits, kept as a snapshot's text until a rule needs them whole (ADR 16):
whatever the order of closings, completions and snapshots, they answer as a set of closed
visits and a dict of completion dates would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from practice_es.domain.visits import PastVisits

IDS = [UUID(int=n * 7919 + 1) for n in range(6)]  # few ids: the same visit comes back
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])
MOMENTS = st.builds(lambda minutes, zone: datetime(2026, 1, 5, tzinfo=UTC).astimezone(zone)
                    + timedelta(minutes=minutes), st.integers(0, 10**6), ZONES)
# ("close", id) a cancelled or missed visit, ("complete", id, when), ("snapshot",) a round
# trip through the text a snapshot stores, as a load from it would read it back.
STEPS = st.lists(st.one_of(
    st.tuples(st.just("close"), st.sampled_from(IDS)),
    st.tuples(st.just("complete"), st.sampled_from(IDS), MOMENTS),
    st.tuples(st.just("snapshot"))), max_size=30)


@given(STEPS)
def test_past_visits_answer_as_a_set_and_a_dict_would(steps: list[tuple[Any, ...]]) -> None:
    visits, closed, dates = PastVisits(), set(), dict[UUID, datetime]()
    for step in steps:
        if step[0] == "close":
            visits.close(step[1])
            closed.add(step[1])
        elif step[0] == "complete":
            visits.complete(step[1], step[2])
            closed.add(step[1])
            dates[step[1]] = step[2]
        else:
            visits = PastVisits(visits.text())
        assert all((ident in visits) == (ident in closed) for ident in IDS)
    assert visits.ids() == closed
    assert visits.dates() == dates
    offsets = {ident: on.utcoffset() for ident, on in visits.dates().items()}
    assert offsets == {ident: on.utcoffset() for ident, on in dates.items()}  # kept in text


def test_a_loaded_client_reads_its_past_visits_only_when_a_rule_needs_them_whole() -> None:
    visits = PastVisits()
    visits.complete(IDS[0], datetime(2026, 1, 5, 9, tzinfo=UTC))
    visits.close(IDS[1])
    loaded = PastVisits(visits.text())
    loaded.close(IDS[2])
    assert IDS[1] in loaded and IDS[3] not in loaded and "not an id" not in loaded
    assert loaded.text().startswith(visits.text())  # kept as it was stored, not re-made
    assert loaded.ids() == set(IDS[:3])
    assert PastVisits(visits.text()) == visits != loaded


@pytest.mark.parametrize("text", ["a", "1234", ["x"]])
def test_past_visits_are_read_from_a_snapshot_s_text_only(text: object) -> None:
    with pytest.raises(ValueError, match="snapshot's text"):
        PastVisits._validate(text)
