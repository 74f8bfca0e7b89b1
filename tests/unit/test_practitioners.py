"""Who treats (SPEC §11): a booking names a practitioner, the completed visit keeps it unless
another is given, and events stored before practitioners existed read as naming none."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper
from tests.unit.given import at, intake, replayed, stamp


def completed(client: Client) -> Client.VisitCompleted:
    event = [e for e in client.collect_events() if isinstance(e, Client.VisitCompleted)][-1]
    assert isinstance(event, Client.VisitCompleted)
    return event


def test_a_visit_booked_with_a_practitioner_is_completed_by_them() -> None:
    client = intake()
    visit = uuid4()
    client.schedule_visit(stamp(), visit, at("2026-03-05T10:00"), None, "  Mia   Chen ")
    client.complete_visit(stamp("2026-03-05T10:30"), visit, None, {}, None, booked=True)
    assert completed(client).practitioner == "Mia Chen"


def test_whoever_is_named_at_completion_treated_and_the_actor_recorded() -> None:
    client = intake()
    visit = uuid4()
    client.schedule_visit(stamp(), visit, at("2026-03-05T10:00"), None, "Mia Chen")
    client.complete_visit(stamp("2026-03-05T10:30", actor="front-desk"), visit, None, {}, None,
                          booked=True, practitioner="Paul Ortiz")
    event = completed(client)
    assert (event.practitioner, event.actor) == ("Paul Ortiz", "front-desk")


def test_a_practitioner_key_past_100_characters_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="practitioner"):
        intake().schedule_visit(stamp(), uuid4(), at("2026-03-05T10:00"), None, "x" * 101)


def test_a_booking_with_its_practitioner_survives_a_replay() -> None:
    client = intake()
    visit = uuid4()
    client.schedule_visit(stamp(), visit, at("2026-03-05T10:00"), None, "Mia Chen")
    assert replayed(client).scheduled[visit].practitioner == "Mia Chen"


@pytest.mark.parametrize("event_class", [Client.VisitScheduled, Client.VisitCompleted])
def test_a_visit_event_stored_before_practitioners_reads_as_naming_none(
        event_class: type[Client.VisitScheduled | Client.VisitCompleted]) -> None:
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    state = {"timestamp": "2025-03-01T10:00:00+00:00",
             "occurred_on": "2025-03-01T09:55:00+00:00", "actor": "front-desk",
             "visit_id": str(uuid4()), "at": "2025-03-02T10:00:00+00:00", "program_id": None}
    if event_class is Client.VisitCompleted:
        state = {**state, "measures": {"pain": 3}, "notes": None}
        del state["at"]
    stored = StoredEvent(originator_id=uuid4(), originator_version=3,
                         topic=event_class.TOPIC, state=mapper.encode_state(state))
    event = mapper.to_domain_event(stored)
    assert isinstance(event, event_class)
    assert event.practitioner is None
