"""Given / when / then for the domain, with no database.

A test's "given" is a history of events: `replayed(aggregate)` takes the events an aggregate has
pending and builds a new aggregate from them alone, so what the "when" acts on is exactly what
the ledger would load. `then(aggregate)` names the events the "when" produced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from practice_es.domain.client import Client
from practice_es.domain.events import PracticeAggregate, Stamp
from practice_es.domain.keys import program_id
from practice_es.domain.program import ProgramOfCare

A = TypeVar("A", bound=PracticeAggregate)

INTAKE_DAY = "2026-01-05"


def at(text: str) -> datetime:
    """`2026-01-05` or `2026-01-05T09:30` as an aware date-time (the practice's zone is UTC)."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def day(text: str) -> date:
    return date.fromisoformat(text)


def stamp(text: str = INTAKE_DAY, actor: str = "tester") -> Stamp:
    return Stamp(on=at(text), actor=actor)


def replayed(aggregate: A) -> A:
    """A new aggregate built only from the events `aggregate` has not yet handed over."""
    rebuilt: Any = None
    for event in aggregate.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, type(aggregate))
    return rebuilt


def then(aggregate: PracticeAggregate) -> list[str]:
    """The names of the events the last action recorded (and hands them over)."""
    return [type(event).__name__ for event in aggregate.collect_events()]


def intake(on: str = INTAKE_DAY, **fields: Any) -> Client:
    """A client's intake, not yet replayed: chain more actions, then `replayed`."""
    fields.setdefault("name", "Ann Smith")
    return Client.record_intake(stamp(on), uuid4(), **fields)


def assessed(client: Client, on: str = INTAKE_DAY, **fields: Any) -> UUID:
    assessment_id = uuid4()
    client.record_assessment(
        stamp(on), assessment_id, fields.pop("findings", "stiff neck"),
        fields.pop("measures", {"pain": 6}), fields.pop("contraindications", []),
    )
    return assessment_id


def recommend(client: Client, number: int = 1, on: str = INTAKE_DAY,
              **overrides: Any) -> ProgramOfCare:
    """A recommendation for `client`, valid unless `overrides` make it otherwise."""
    fields: dict[str, Any] = {
        "assessment_id": None, "phase": "relief", "visits": 6, "per_week": 2.0,
        "goals": ["turn the head freely"], "rationale": "acute neck pain, improving",
        "reevaluate_after": None,
    }
    fields.update(overrides)
    return ProgramOfCare.recommend(
        stamp(on), client, program_id(client.id, number), number, **fields
    )


def active_program(client: Client, number: int = 1, on: str = INTAKE_DAY) -> ProgramOfCare:
    """A program recommended and accepted, replayed from its events."""
    program = recommend(client, number, on)
    program.accept(stamp(on), [])
    return replayed(program)
