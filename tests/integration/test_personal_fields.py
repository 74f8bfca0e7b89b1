"""A personal field is declared once, on its event, and nothing else is edited (ADR 9).

`HomeCareGiven` is an event only this test knows, with one field marked `Personal`. With no
list anywhere naming it, the ledger seals it at rest under the client's own key, keeps it out
of every stored byte (snapshots included), opens it for a projection that names its topic,
and reads it as `[erased]` once the client is erased. A projection that reads it without
naming the topic fails instead of reading a default. On both backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing.utils import register_topic
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select

from practice_es.application import PracticeLedger
from practice_es.domain.client import Client
from practice_es.domain.erasure import ERASED
from practice_es.domain.events import DomainEvent, PracticeEvent
from practice_es.domain.personal import Personal
from practice_es.infrastructure.snapshots import SNAPSHOT_EVERY
from practice_es.projections import decoding
from practice_es.projections.base import Projection, Write, text_id
from practice_es.projections.runner import ProjectionRunner
from tests.integration.stored_bytes import stored_bytes

ADVICE = "ice the left knee after the school run"


class HomeCareGiven(PracticeEvent):
    """Advice given to a client to follow at home (a test's own event)."""

    TOPIC: ClassVar[str] = "practice:Client.HomeCareGiven"
    advice: Annotated[str | None, Personal] = None  # the one declaration: personal

    def apply(self, client: Client) -> None:
        pass


register_topic(HomeCareGiven.TOPIC, HomeCareGiven)


def home_care_model(name: str, names_its_topic: bool) -> Projection:
    """A read model of the advice given: one that names the topic whose personal fields it
    reads, or one that reads them without naming it."""
    table = Table(f"rm_{name}", MetaData(), Column("client_id", String(36), primary_key=True),
                  Column("version", Integer, primary_key=True), Column("advice", String))

    class HomeCare(Projection):
        tables = (table,)
        topics = (HomeCareGiven.TOPIC,)
        reads_personal_of = frozenset(topics if names_its_topic else ())

        def prepare(self, conn: Connection,
                    events: Sequence[tuple[int, DomainEvent]]) -> Write:
            rows = [{"client_id": text_id(e.originator_id), "version": e.originator_version,
                     "advice": e.advice} for _, e in events if isinstance(e, HomeCareGiven)]

            def write(conn: Connection) -> None:
                if rows:
                    conn.execute(table.insert(), rows)

            return write

    HomeCare.name = name
    return HomeCare()


def advice_given(ledger: PracticeLedger, times: int) -> UUID:
    """A client given the same advice `times` times; their id."""
    client_id = ledger.record_intake(name="Ada Brook")
    client = ledger.client(client_id)
    for _ in range(times):
        client._trigger(HomeCareGiven, ledger.stamp(None), advice=ADVICE)
    ledger.save(client)
    return client_id


def stored_states(ledger: PracticeLedger, client_id: UUID) -> list[dict[str, Any]]:
    return [ledger.mapper.decode_state(e) for e in ledger.recorder.select_events(client_id)
            if e.topic == HomeCareGiven.TOPIC]


def advice_read(ledger: PracticeLedger, client_id: UUID) -> list[str]:
    return [ledger.mapper.to_domain_event(e).advice  # type: ignore[attr-defined]
            for e in ledger.recorder.select_events(client_id)
            if e.topic == HomeCareGiven.TOPIC]


def rebuilt(ledger: PracticeLedger, projection: Projection) -> list[str]:
    """The advice column after a rebuild as a long replay decodes it (the one that leaves
    unread topics shut)."""
    runner = ProjectionRunner(ledger, [projection])
    try:
        runner.rebuild()
        with runner.engine.connect() as conn:
            return list(conn.execute(select(projection.tables[0].c.advice)).scalars())
    finally:
        runner.close()


def test_a_field_marked_personal_is_sealed_opened_and_erased_with_no_list_to_edit(
        ledger: PracticeLedger, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding, "REPLAY_MODELS_FROM", 0)
    client_id = advice_given(ledger, times=SNAPSHOT_EVERY + 2)
    assert ledger.snapshots is not None and list(ledger.snapshots.get(client_id))  # taken

    # Sealed at rest under the client's key: the stored state names the field, never says it.
    assert all(state["_sealed"]["f"] == ["advice"] and "advice" not in state
               for state in stored_states(ledger, client_id))
    assert ADVICE.encode() not in stored_bytes(db_url)  # the events, snapshots, everything

    # Opened for the ledger and for a projection that names the topic it reads.
    assert advice_read(ledger, client_id) == [ADVICE] * (SNAPSHOT_EVERY + 2)
    assert rebuilt(ledger, home_care_model("home_care", True)) == [ADVICE] * (SNAPSHOT_EVERY + 2)

    # A projection that reads it without naming the topic fails loudly, never reads a default.
    with pytest.raises(AttributeError, match="advice"):
        rebuilt(ledger, home_care_model("careless", False))

    # Erased: the client's key is gone, the field reads as the marker everywhere.
    ledger.erase_client(client_id, reason="client request")
    assert advice_read(ledger, client_id) == [ERASED] * (SNAPSHOT_EVERY + 2)
    assert rebuilt(ledger, home_care_model("home_care", True)) == [ERASED] * (SNAPSHOT_EVERY + 2)
