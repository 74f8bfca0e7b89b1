"""Stored events: stable topics, pydantic + orjson round trips, upcasting a stored v1 payload."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, ClassVar
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import register_topic, resolve_topic

from practice_es.domain.client import Client
from practice_es.domain.events import DomainEvent, PracticeAggregate, PracticeEvent
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper
from tests.unit.given import assessed, at, day, intake, recommend, replayed, stamp

AGGREGATES: tuple[type[PracticeAggregate], ...] = (Client, ProgramOfCare, Referral)


def event_classes() -> list[type[DomainEvent]]:
    """Every event class the aggregates declare (their own nested classes, not `Event`)."""
    return [
        value for aggregate in AGGREGATES for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, DomainEvent) and name != "Event"
    ]


def mapper() -> PydanticMapper:
    return PydanticMapper(transcoder=OrjsonTranscoder())


# -- stable topics ---------------------------------------------------------------------------

def test_every_event_has_an_explicit_stable_topic_that_resolves_to_it() -> None:
    classes = event_classes()
    assert len(classes) >= 24  # SPEC §2 names 24 events besides EntryCorrected
    topics = [cls.TOPIC for cls in classes]
    assert len(set(topics)) == len(topics)
    for cls in classes:
        owner = cls.__qualname__.split(".")[0]
        assert f"practice:{owner}.{cls.__name__}" == cls.TOPIC
        assert resolve_topic(cls.TOPIC) is cls


def test_the_stored_topic_is_the_stable_topic_not_the_module_path() -> None:
    client = intake()
    client.complete_visit(stamp("2026-01-06"), uuid4(), None, {"pain": 3}, None, booked=False)
    completed = client.collect_events()[-1]
    stored = mapper().to_stored_event(completed)
    assert stored.topic == "practice:Client.VisitCompleted"
    assert "practice_es" not in stored.topic


def test_a_fresh_process_resolves_the_snapshot_topic_before_any_snapshot_is_taken() -> None:
    # Aggregates register their events' topics when defined; the snapshot class must be too,
    # or a new process cannot load a client of more than 100 events.
    code = (
        "import practice_es.application\n"
        "from eventsourcing.utils import resolve_topic\n"
        "from practice_es.domain.events import PracticeSnapshot\n"
        "assert resolve_topic('practice:Snapshot') is PracticeSnapshot\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- round trips -----------------------------------------------------------------------------

def test_events_round_trip_through_the_mapper_with_their_types() -> None:
    client = intake(date_of_birth=day("1980-02-29"), email="ann@example.org",
                    contraindications=["DVT"], referral_id=uuid4(), referral_source="doctor",
                    referrer="Dr Jones")
    client.clear_contraindication(stamp(), "dvt", "Dr Jones")
    assessed(client, measures={"pain": 6.5, "rom_cervical": 45})
    client.schedule_visit(stamp(), uuid4(), at("2026-01-08T09:30+01:00"), None)
    client.record_lapse(stamp("2026-09-01"), day("2026-09-01"), 90)
    client = replayed(client)
    program = recommend(client)
    events = [*client.collect_events(), *program.collect_events()]
    events = [*intake().collect_events(), *events]
    for event in events:
        decoded = mapper().to_domain_event(mapper().to_stored_event(event))
        assert decoded == event
        assert type(decoded) is type(event)


def test_a_stored_payload_is_json_without_the_envelope() -> None:
    [event] = intake(name="Ann Smith").collect_events()
    stored = mapper().to_stored_event(event)
    payload = orjson.loads(stored.state)
    assert payload["name"] == "Ann Smith"
    assert payload["actor"] == "tester"
    assert payload["occurred_on"].startswith("2026-01-05T00:00:00")
    assert "originator_id" not in payload
    assert "class_version" not in payload  # version 1 is implicit


# -- upcasting -------------------------------------------------------------------------------

TEST_TOPIC = "practice-test:Client.PhoneRecorded"


class PhoneRecorded(PracticeEvent):
    """A test-only event at version 2: version 1 stored one `phone` text; version 2 keeps the
    country code apart. Old stored events must replay as version 2."""

    TOPIC: ClassVar[str] = TEST_TOPIC
    class_version: ClassVar[int] = 2
    country_code: str
    number: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        code, _, number = state.pop("phone").partition(" ")
        state["country_code"] = code
        state["number"] = number

    def apply(self, aggregate: Any) -> None:
        aggregate.phone = f"{self.country_code} {self.number}"


register_topic(TEST_TOPIC, PhoneRecorded)


def stored_v1(phone: str) -> StoredEvent:
    """An event as version 1 wrote it, years ago: no class_version, a single `phone`."""
    state = {
        "timestamp": "2024-03-01T10:00:00+00:00",
        "occurred_on": "2024-03-01T09:55:00+00:00",
        "actor": "front-desk",
        "phone": phone,
    }
    return StoredEvent(originator_id=uuid4(), originator_version=4, topic=TEST_TOPIC,
                       state=mapper().encode_state(state))


def test_a_stored_v1_payload_decodes_as_version_2() -> None:
    stored = stored_v1("+44 7700 900123")
    event = mapper().to_domain_event(stored)
    assert isinstance(event, PhoneRecorded)
    assert (event.country_code, event.number) == ("+44", "7700 900123")
    assert (event.originator_id, event.originator_version) == (stored.originator_id, 4)
    assert event.actor == "front-desk"
    assert event.occurred_on == at("2024-03-01T09:55:00")


def test_a_version_2_event_is_stored_with_its_version_and_not_upcast_again() -> None:
    event = mapper().to_domain_event(stored_v1("+1 555 0101"))
    stored = mapper().to_stored_event(event)
    assert stored.topic == TEST_TOPIC
    assert orjson.loads(stored.state)["class_version"] == 2
    assert mapper().to_domain_event(stored) == event


def test_a_payload_that_cannot_be_read_is_a_clear_error() -> None:
    from eventsourcing.persistence import MapperDeserialisationError

    broken = StoredEvent(originator_id=uuid4(), originator_version=1, topic=TEST_TOPIC,
                         state=b"\x00not json")
    with pytest.raises(MapperDeserialisationError, match="cannot read the stored event"):
        mapper().to_domain_event(broken)


def test_an_erasure_stored_before_birth_years_were_kept_reads_as_year_unknown() -> None:
    """ClientErased v1 (before SPEC §12) kept no year of birth; v2 keeps it in clear."""
    state = {"timestamp": "2025-03-01T10:00:00+00:00", "actor": "front-desk",
             "occurred_on": "2025-03-01T09:55:00+00:00", "reason": "client request"}
    stored = StoredEvent(originator_id=uuid4(), originator_version=9,
                         topic=Client.ClientErased.TOPIC, state=mapper().encode_state(state))
    event = mapper().to_domain_event(stored)
    assert isinstance(event, Client.ClientErased)
    assert (event.reason, event.birth_year) == ("client request", None)
    client = replayed(intake(date_of_birth=day("1984-07-02")))
    client.erase(stamp("2026-01-05"), "retention")
    erased = client.collect_events()[-1]
    assert orjson.loads(mapper().to_stored_event(erased).state)["birth_year"] == 1984


def test_a_snapshot_shape_follows_the_declared_state_and_nothing_else() -> None:
    from pydantic import create_model

    from practice_es.domain.shapes import state_shape

    def shape(**fields: Any) -> str:
        return state_shape(create_model("S", **{k: (v, ...) for k, v in fields.items()}))

    assert shape(a=int, b=str) == shape(a=int, b=str)
    assert shape(a=int, b=str) != shape(a=int, b=str | None)  # a type changed
    assert shape(a=int, b=str) != shape(a=int, c=str)  # a field renamed
    assert shape(a=int, b=str) != shape(a=int, b=str, c=int)  # a field added
