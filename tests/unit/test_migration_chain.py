"""The links an import's bulk insert writes are the audit chain's own (ADR 8): the same bytes
hashed, whether the event comes as a StoredEvent or as the import's (id bytes, version, topic,
state) row."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from practice_es.infrastructure.chain import GENESIS, chain_link, link_of

EVENT = StoredEvent(originator_id=UUID(int=1), originator_version=3,
                    topic="practice:Client.VisitCompleted", state=b'{"notes":null}')


def test_a_link_is_the_chain_format_s_known_value() -> None:
    """Computed by the chain's first implementation: a change of format would show here."""
    assert chain_link(GENESIS, 7, EVENT).hex() == (
        "cac93eec41bc4058e0e2ffe65e5ce5abc6682f266ead98948be49fb63d37d375")


@given(position=st.integers(1, 2**40), version=st.integers(1, 10**6),
       topic=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
       state=st.binary(max_size=300))
def test_a_row_s_link_is_its_stored_event_s(position: int, version: int, topic: str,
                                           state: bytes) -> None:
    ident = uuid4()
    event = StoredEvent(originator_id=ident, originator_version=version, topic=topic,
                        state=state)
    assert link_of(GENESIS, position, version, ident.bytes, topic, state) == chain_link(
        GENESIS, position, event)
