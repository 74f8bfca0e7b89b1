"""History as facts: the events one legacy row records, as the domain records them.

An export says what happened; the import does not re-decide it. So the events are built here
without the decision checks that guard new actions (C2 contraindication gate, C3, P1 evidence,
P2 specifics, P5): the same event classes and fields, dated by the export (`occurred_on`), with
the file and row as the actor (`migration:<file>:<row>`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, date, datetime
from typing import Any, NamedTuple
from uuid import UUID, SafeUUID

from eventsourcing.utils import get_topic

from practice_es.domain.client import Client
from practice_es.domain.events import DomainEvent, PracticeAggregate
from practice_es.domain.keys import PRACTICE_NAMESPACE
from practice_es.domain.program import ProgramOfCare
from practice_es.migration.rows import Appointment, HistoryRow, ProgramRow

NO_ASSESSMENT = UUID(int=0)  # a migrated program cites no assessment: the export has none
UNSTATED_PHASE = "unstated"
CREATED = "created"  # the presence key of an aggregate's first event
_VISIT_EVENTS = (Client.VisitScheduled, Client.VisitRescheduled, Client.VisitCancelled,
                 Client.VisitMissed, Client.VisitCompleted)


class Change(NamedTuple):  # (named tuples: an import makes millions of these)
    """One event to record: its class and fields (not its id, version or record time)."""

    event_class: type[DomainEvent]
    fields: dict[str, Any]


class Unit(NamedTuple):
    """Everything one legacy row records, on one aggregate: all of it or none of it."""

    aggregate_id: UUID
    aggregate_class: type[PracticeAggregate]
    changes: tuple[Change, ...]
    creates: bool = False

    @property
    def key(self) -> Hashable:
        first = self.changes[0]
        return presence_key(first.event_class, first.fields)


def presence_key(event_class: type[Any], fields: Mapping[str, Any]) -> Hashable:
    """What makes a recorded fact the same fact on a re-run (None: not one we look for)."""
    if event_class in (Client.IntakeRecorded, ProgramOfCare.ProgramRecommended):
        return CREATED
    if event_class in _VISIT_EVENTS:
        visit_id: UUID = fields["visit_id"]
        return visit_id.bytes
    if event_class is Client.HealthHistoryUpdated:
        on: datetime = fields["occurred_on"]
        return ("history", on.astimezone(UTC).isoformat(), tuple(fields["conditions"]),
                tuple(fields["medications"]), tuple(fields["contraindications"]))
    return None


def ids_under(*parts: str) -> Callable[[str], UUID]:
    """`derived_id(*parts, last)` as a function of `last`: the hash of the common start is
    taken once, not once per id (an import derives an id per appointment row)."""
    start = hashlib.sha1(PRACTICE_NAMESPACE.bytes)
    start.update("".join(f"{part}/" for part in parts).encode())

    def derive(last: str) -> UUID:
        digest = start.copy()
        digest.update(last.encode())
        return _uuid5(int.from_bytes(digest.digest()[:16]))

    return derive


def _uuid5(value: int) -> UUID:
    """`UUID(int=value, version=5)` without its checks and keyword handling, which would
    otherwise run once per derived id: the version and variant bits set as `UUID.__init__`
    sets them."""
    ident = object.__new__(UUID)
    object.__setattr__(ident, "int", value & _CLEAR | _VERSION_5)
    object.__setattr__(ident, "is_safe", SafeUUID.unknown)
    return ident


_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # the variant and version bits
_VERSION_5 = (0x8000 << 48) | (5 << 76)  # RFC 4122 variant, version 5


def actor(file: str, row: int) -> str:
    return f"migration:{file}:{row}"


def intake(client_id: UUID, on: datetime, who: str, **intake: Any) -> Unit:
    fields = {"occurred_on": on, "actor": who, **intake,
              "originator_topic": get_topic(Client)}
    return Unit(client_id, Client, (Change(Client.IntakeRecorded, fields),), creates=True)


def visit(client_id: UUID, visit_id: UUID, row: Appointment, status: str, who: str,
          notes: str | None, measures: dict[str, float]) -> Unit:
    """A booking, then what became of it (README: completed, cancelled, no-show, scheduled).

    Each event's fields are all given, in the order of the event's model: the import's
    encoder then takes them as they are (see `StateEncoder`)."""
    booked = min(row.booked_on or row.start, row.start)
    changes = [Change(Client.VisitScheduled, {"occurred_on": booked, "actor": who,
                                              "visit_id": visit_id, "at": row.start,
                                              "program_id": None})]
    if status == "completed":
        changes.append(Change(Client.VisitCompleted, {
            "occurred_on": row.start, "actor": who, "visit_id": visit_id,
            "measures": measures, "notes": notes, "program_id": None}))
    elif status == "cancelled":
        changes.append(Change(Client.VisitCancelled, {
            "occurred_on": row.cancelled_at or row.start, "actor": who, "visit_id": visit_id,
            "reason": row.reason}))
    elif status == "no-show":
        changes.append(Change(Client.VisitMissed, {
            "occurred_on": row.start, "actor": who, "visit_id": visit_id,
            "reason": row.reason}))
    return Unit(client_id, Client, tuple(changes))


def health_history(client_id: UUID, row: HistoryRow, who: str) -> Unit:
    fields = {"occurred_on": row.on, "actor": who, "conditions": row.conditions,
              "medications": row.medications, "contraindications": row.contraindications}
    return Unit(client_id, Client, (Change(Client.HealthHistoryUpdated, fields),))


def program(program_id: UUID, client_id: UUID, number: int, row: ProgramRow, who: str,
            zone: Any) -> Unit:
    """A care plan as a program of care over START-STOP, inventing nothing (ADR 0007)."""
    start = midnight(row.start, zone)
    recommended = {
        "occurred_on": start, "actor": who, "originator_topic": get_topic(ProgramOfCare),
        "client_id": client_id, "number": number, "assessment_id": NO_ASSESSMENT,
        "phase": UNSTATED_PHASE, "visits": 0, "per_week": 0.0, "goals": [],
        "rationale": program_rationale(row), "reevaluate_after": 0,
        "expected_end": row.stop or row.start,
    }
    changes = [Change(ProgramOfCare.ProgramRecommended, recommended),
               Change(ProgramOfCare.ProgramAccepted, {"occurred_on": start, "actor": who})]
    if row.stop is not None:
        changes.append(Change(ProgramOfCare.ProgramCompleted, {
            "occurred_on": midnight(row.stop, zone), "actor": who,
            "reason": "stopped in the legacy export"}))
    return Unit(program_id, ProgramOfCare, tuple(changes), creates=True)


def program_rationale(row: ProgramRow) -> str:
    plan = row.description or "a care plan"
    why = f" for {row.reason}" if row.reason else ""
    until = f"until {row.stop}" if row.stop else "still active at export"
    return (f"Migrated care plan {row.legacy_id}: {plan}{why}, from {row.start} {until}. "
            "The export names no assessment, phase, number of visits, frequency or goals; "
            "none are invented here (0 and 'unstated' mean not stated).")


def midnight(day: date, zone: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)
