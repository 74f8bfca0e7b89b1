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


@given(STEPS, st.integers(0, 30))
def test_archived_past_visits_answer_as_the_whole_record(steps: list[tuple[Any, ...]],
                                                         cut: int) -> None:
    """Past visits moved into an archive at some step, and loaded back from a snapshot's
    text with a reader of the archive, answer as the record they were (ADR 16, third round)."""
    visits, archives = PastVisits(), {}
    for number, step in enumerate(steps):
        if number == cut:
            archives[number] = visits.archive(number)
        if step[0] == "close":
            visits.close(step[1])
        elif step[0] == "complete":
            visits.complete(step[1], step[2])
    whole = PastVisits(visits.all_text())
    loaded = PastVisits._validate(visits.text())
    loaded.archive_reader = archives.__getitem__
    assert all((ident in loaded) == (ident in whole) for ident in IDS)
    assert loaded.whole() == whole.whole()


def test_a_snapshot_s_text_names_its_archive_and_reads_it_only_when_asked() -> None:
    visits = PastVisits()
    visits.complete(IDS[0], datetime(2026, 1, 5, 9, tzinfo=UTC))
    archived = visits.archive(7)
    visits.close(IDS[0])  # cancelled after it completed: keeps its date
    visits.close(IDS[1])
    assert visits.text() == f"@7,{IDS[0].hex},{IDS[1].hex}"
    loaded = PastVisits._validate(visits.text())
    assert loaded.archived == 7 and loaded.unarchived() == 2
    assert IDS[1] in loaded  # in the snapshot's own text: no archive read
    with pytest.raises(LookupError, match="archived at version 7"):
        _ = IDS[2] in loaded  # not there: only the archive can say, and none can be read
    loaded.archive_reader = {7: archived}.__getitem__
    assert IDS[2] not in loaded
    assert loaded.dates() == {IDS[0]: datetime(2026, 1, 5, 9, tzinfo=UTC)}
