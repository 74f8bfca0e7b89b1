"""What the ledger records about a client: their state, and the events that change it.

The events are the client's history (intake, contact and health history, assessments,
bookings and visits, lapses and recalls, erasure and corrections); the state is what applying
them in order gives. The `Client` aggregate (client.py) decides which events to record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel

from practice_es.domain.corrections import CONTACT_FIELDS, personal_corrections
from practice_es.domain.erasure import erased_state
from practice_es.domain.events import (
    TOPIC_PREFIX,
    PracticeAggregate,
    PracticeCreated,
    PracticeEvent,
)
from practice_es.domain.keys import normalise_condition
from practice_es.domain.personal import Personal, PersonalEntries
from practice_es.domain.visits import PastVisits

ClientStatus = Literal["prospect", "active", "lapsed", "erased"]
VisitStatus = Literal["scheduled", "completed", "cancelled", "missed"]


class ScheduledVisit(BaseModel):
    visit_id: UUID
    at: datetime
    program_id: UUID | None = None
    practitioner: str | None = None  # who is to treat (booked with one)


def _event(name: str) -> str:
    return f"{TOPIC_PREFIX}Client.{name}"


def _corrected_personal() -> dict[str, Any]:
    """The personal fields of the entries a correction changes (in its `changes`, `original`)."""
    return personal_corrections(globals())


class ClientRecord(PracticeAggregate):
    """A client's state as their events leave it (the `Client` aggregate adds the rules)."""

    name: Annotated[str, Personal]
    date_of_birth: Annotated[date | None, Personal]
    email: Annotated[str | None, Personal]
    phone: Annotated[str | None, Personal]
    reasons: Annotated[list[str], Personal]
    goals: Annotated[list[str], Personal]
    conditions: Annotated[list[str], Personal]
    medications: Annotated[list[str], Personal]
    # normalised -> as first written
    open_contraindications: Annotated[dict[str, str], Personal]
    referral_source: str | None
    referrer: str | None
    referral_id: UUID | None
    legacy_id: str | None
    intake_on: datetime
    assessment_ids: list[UUID]
    scheduled: dict[UUID, ScheduledVisit]  # open bookings only
    past_visits: PastVisits  # closed ones (V1) and completion dates (corrections)
    completed_visits: int
    last_completed_on: datetime | None
    status: ClientStatus
    lapsed_on: date | None
    recall_since_lapse: UUID | None
    contact_set_at: dict[str, int]  # contact field -> version of the entry that set it

    def open_contraindication(self, names: list[str]) -> None:
        for name in names:
            self.open_contraindications.setdefault(normalise_condition(name), name)

    def close_visit(self, visit_id: UUID) -> None:
        self.scheduled.pop(visit_id, None)
        self.past_visits.close(visit_id)

    def apply_correction(self, event: EntryCorrected) -> None:
        """Contact fields change unless a later entry has set them since; a visit's date
        moves, and with it the last completed visit."""
        for field in CONTACT_FIELDS:
            if field in event.changes and (
                    event.corrected_version >= self.contact_set_at.get(field, 1)):
                value = event.changes[field]
                if field == "date_of_birth" and value is not None:
                    value = date.fromisoformat(value)
                setattr(self, field, value)
                self.contact_set_at[field] = event.corrected_version
        moved = event.changes.get("occurred_on")
        if moved is not None and event.entry_id in self.past_visits.dates():
            self.past_visits.complete(event.entry_id, datetime.fromisoformat(moved))
            self.last_completed_on = max(self.past_visits.dates().values())


class IntakeRecorded(PracticeCreated):
    TOPIC: ClassVar[str] = _event("IntakeRecorded")
    name: Annotated[str, Personal]
    date_of_birth: Annotated[date | None, Personal] = None
    email: Annotated[str | None, Personal] = None
    phone: Annotated[str | None, Personal] = None
    reasons: Annotated[list[str], Personal] = []
    goals: Annotated[list[str], Personal] = []
    conditions: Annotated[list[str], Personal] = []
    medications: Annotated[list[str], Personal] = []
    contraindications: Annotated[list[str], Personal] = []
    referral_source: str | None = None
    referrer: str | None = None
    referral_id: UUID | None = None
    legacy_id: str | None = None
    duplicate_allowed: bool = False  # D1 set aside: the user said it is another person

    def apply(self, client: ClientRecord) -> None:
        client.__dict__.update(
            name=self.name,
            date_of_birth=self.date_of_birth,
            email=self.email,
            phone=self.phone,
            reasons=list(self.reasons),
            goals=list(self.goals),
            conditions=list(self.conditions),
            medications=list(self.medications),
            open_contraindications={},
            referral_source=self.referral_source,
            referrer=self.referrer,
            referral_id=self.referral_id,
            legacy_id=self.legacy_id,
            intake_on=self.occurred_on,
            assessment_ids=[],
            scheduled={},
            past_visits=PastVisits(),
            completed_visits=0,
            last_completed_on=None,
            status="prospect",
            lapsed_on=None,
            recall_since_lapse=None,
            contact_set_at={},
        )
        client.open_contraindication(self.contraindications)

class ContactUpdated(PracticeEvent):
    TOPIC: ClassVar[str] = _event("ContactUpdated")
    name: Annotated[str | None, Personal] = None
    email: Annotated[str | None, Personal] = None
    phone: Annotated[str | None, Personal] = None

    def apply(self, client: ClientRecord) -> None:
        for field in ("name", "email", "phone"):
            value = getattr(self, field)
            if value is not None:
                setattr(client, field, value)
                client.contact_set_at[field] = self.originator_version

class HealthHistoryUpdated(PracticeEvent):
    TOPIC: ClassVar[str] = _event("HealthHistoryUpdated")
    conditions: Annotated[list[str], Personal] = []
    medications: Annotated[list[str], Personal] = []
    contraindications: Annotated[list[str], Personal] = []

    def apply(self, client: ClientRecord) -> None:
        client.conditions.extend(self.conditions)
        client.medications.extend(self.medications)
        client.open_contraindication(self.contraindications)

class AssessmentRecorded(PracticeEvent):
    TOPIC: ClassVar[str] = _event("AssessmentRecorded")
    assessment_id: UUID
    findings: Annotated[str, Personal]
    measures: dict[str, float] = {}
    contraindications: Annotated[list[str], Personal] = []

    def apply(self, client: ClientRecord) -> None:
        client.assessment_ids.append(self.assessment_id)
        client.open_contraindication(self.contraindications)

class ContraindicationCleared(PracticeEvent):
    TOPIC: ClassVar[str] = _event("ContraindicationCleared")
    contraindication: Annotated[str, Personal]
    by: str

    def apply(self, client: ClientRecord) -> None:
        client.open_contraindications.pop(normalise_condition(self.contraindication), None)

class VisitScheduled(PracticeEvent):
    """v2: `practitioner`, who is to treat (SPEC §11); the actor is who booked it."""

    TOPIC: ClassVar[str] = _event("VisitScheduled")
    class_version: ClassVar[int] = 2
    visit_id: UUID
    at: datetime
    program_id: UUID | None = None
    practitioner: str | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["practitioner"] = None  # booked before practitioners were recorded

    def apply(self, client: ClientRecord) -> None:
        client.scheduled[self.visit_id] = ScheduledVisit(
            visit_id=self.visit_id, at=self.at, program_id=self.program_id,
            practitioner=self.practitioner,
        )

class VisitRescheduled(PracticeEvent):
    TOPIC: ClassVar[str] = _event("VisitRescheduled")
    visit_id: UUID
    at: datetime

    def apply(self, client: ClientRecord) -> None:
        visit = client.scheduled[self.visit_id]
        client.scheduled[self.visit_id] = visit.model_copy(update={"at": self.at})

class VisitCancelled(PracticeEvent):
    TOPIC: ClassVar[str] = _event("VisitCancelled")
    visit_id: UUID
    reason: Annotated[str | None, Personal] = None

    def apply(self, client: ClientRecord) -> None:
        client.close_visit(self.visit_id)

class VisitMissed(PracticeEvent):
    TOPIC: ClassVar[str] = _event("VisitMissed")
    visit_id: UUID
    reason: Annotated[str | None, Personal] = None

    def apply(self, client: ClientRecord) -> None:
        client.close_visit(self.visit_id)

class VisitCompleted(PracticeEvent):
    """v2: `practitioner`, who treated (SPEC §11); the actor is who recorded it."""

    TOPIC: ClassVar[str] = _event("VisitCompleted")
    class_version: ClassVar[int] = 2
    visit_id: UUID
    measures: dict[str, float] = {}
    notes: Annotated[str | None, Personal] = None
    program_id: UUID | None = None
    practitioner: str | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["practitioner"] = None  # recorded before practitioners were

    def apply(self, client: ClientRecord) -> None:
        client.scheduled.pop(self.visit_id, None)
        client.past_visits.complete(self.visit_id, self.occurred_on)
        client.completed_visits += 1
        last = client.last_completed_on
        if last is None or self.occurred_on >= last:
            client.last_completed_on = self.occurred_on
        if client.status == "prospect":
            client.status = "active"

class Lapsed(PracticeEvent):
    TOPIC: ClassVar[str] = _event("Lapsed")
    as_of: date
    after_days: int
    last_visit_on: date | None = None

    def apply(self, client: ClientRecord) -> None:
        client.status = "lapsed"
        client.lapsed_on = self.as_of
        client.recall_since_lapse = None

class RecallSent(PracticeEvent):
    TOPIC: ClassVar[str] = _event("RecallSent")
    recall_id: UUID
    channel: str

    def apply(self, client: ClientRecord) -> None:
        if client.status == "lapsed":
            client.recall_since_lapse = self.recall_id

class Reactivated(PracticeEvent):
    TOPIC: ClassVar[str] = _event("Reactivated")
    visit_id: UUID
    lapsed_on: date | None = None
    recall_id: UUID | None = None

    def apply(self, client: ClientRecord) -> None:
        client.status = "active"
        client.lapsed_on = None
        client.recall_since_lapse = None

class ClientErased(PracticeEvent):
    """Right to erasure: the client's own key is destroyed; their personal fields read as
    erased from now on (ADR 9). The reason says why, never what."""

    TOPIC: ClassVar[str] = _event("ClientErased")
    class_version: ClassVar[int] = 2  # 2: the year of birth, kept outside the shredded key
    reason: str
    birth_year: int | None = None  # not identifying alone: age bands still count them

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["birth_year"] = None  # erased before it was kept: unknown

    def apply(self, client: ClientRecord) -> None:
        # As a replay reads them once the key is gone: what was said reads as erased.
        client.__dict__.update(erased_state(ClientRecord.State, client.__dict__),
                               status="erased")

class EntryCorrected(PracticeEvent):
    """Corrects the client's entry at `corrected_version` (see domain/corrections.py)."""

    TOPIC: ClassVar[str] = _event("EntryCorrected")
    corrected_version: int
    corrected_event: str
    entry_id: UUID | None = None  # the visit or assessment the entry is about
    changes: Annotated[dict[str, Any], PersonalEntries(_corrected_personal)]
    original: Annotated[dict[str, Any], PersonalEntries(_corrected_personal)] = {}
    reason: Annotated[str, Personal]

    def apply(self, client: ClientRecord) -> None:
        client.apply_correction(self)
