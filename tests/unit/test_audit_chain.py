"""The chain link: every stored byte, the position and the previous link count."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from practice_es.infrastructure.chain import GENESIS, chain_link, chain_rows

EVENT = StoredEvent(originator_id=UUID(int=1), originator_version=3,
                    topic="practice:Client.VisitCompleted", state=b'{"pain":4}')


def test_the_same_event_at_the_same_place_always_has_the_same_link() -> None:
    assert chain_link(GENESIS, 7, EVENT) == chain_link(GENESIS, 7, replace(EVENT))
    assert len(chain_link(GENESIS, 7, EVENT)) == 32


def test_the_link_changes_with_position_previous_link_id_version_and_topic() -> None:
    base = chain_link(GENESIS, 7, EVENT)
    assert chain_link(GENESIS, 8, EVENT) != base
    assert chain_link(b"\0" * 32, 7, EVENT) != base
    assert chain_link(GENESIS, 7, replace(EVENT, originator_id=UUID(int=2))) != base
    assert chain_link(GENESIS, 7, replace(EVENT, originator_version=4)) != base
    assert chain_link(GENESIS, 7, replace(EVENT, topic="practice:Client.VisitMissed")) != base


def test_bytes_moved_between_topic_and_state_change_the_link() -> None:
    moved = replace(EVENT, topic=EVENT.topic + "{", state=EVENT.state[1:])
    assert chain_link(GENESIS, 7, moved) != chain_link(GENESIS, 7, EVENT)


def test_each_row_links_to_the_one_before() -> None:
    second = replace(EVENT, originator_version=4)
    rows = chain_rows(GENESIS, [1, 2], [EVENT, second])
    assert rows == [(1, chain_link(GENESIS, 1, EVENT)),
                    (2, chain_link(rows[0][1], 2, second))]


@settings(max_examples=60)
@given(state=st.binary(min_size=1, max_size=200), at=st.integers(min_value=0),
       bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_of_the_stored_state_changes_the_link(state: bytes, at: int,
                                                              bit: int) -> None:
    index = at % len(state)
    flipped = state[:index] + bytes([state[index] ^ (1 << bit)]) + state[index + 1:]
    original = replace(EVENT, state=state)
    assert chain_link(GENESIS, 1, replace(original, state=flipped)) != chain_link(
        GENESIS, 1, original)
