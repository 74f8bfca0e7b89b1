"""The Client aggregate: intake, health history, assessments, visits, lapses and recalls."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel

from practice_es.domain.corrections import CONTACT_FIELDS, build_correction, personal_corrections
from practice_es.domain.erasure import erased_state
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.events import (
    TOPIC_PREFIX,
    DomainEvent,
    PracticeAggregate,
    PracticeCreated,
    PracticeEvent,
    Stamp,
)
from practice_es.domain.keys import normalise_condition, normalise_key, practitioner_key
from practice_es.domain.measures import validate_measures
from practice_es.domain.moments import check_not_future
from practice_es.domain.personal import Personal, PersonalEntries
from practice_es.domain.visits import ArchiveReader, PastVisits


class VisitProgram(Protocol):
    """What rule C3 reads of the program a visit is for (a `program.ProgramOfCare`)."""

    @property
    def id(self) -> UUID: ...

    @property
    def client_id(self) -> UUID: ...

    @property
    def status(self) -> str: ...


SOURCE_KINDS = ("client", "doctor", "advertising", "online", "walk-in", "other")
RECALL_CHANNELS = ("phone", "email", "sms", "letter")
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
    return personal_corrections(Client)


class Client(PracticeAggregate):
    """A person the practice sees. Exists from `IntakeRecorded` (C1)."""

    TOPIC = TOPIC_PREFIX + "Client"

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

        def apply(self, client: Client) -> None:
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

        def apply(self, client: Client) -> None:
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

        def apply(self, client: Client) -> None:
            client.conditions.extend(self.conditions)
            client.medications.extend(self.medications)
            client.open_contraindication(self.contraindications)

    class AssessmentRecorded(PracticeEvent):
        TOPIC: ClassVar[str] = _event("AssessmentRecorded")
        assessment_id: UUID
        findings: Annotated[str, Personal]
        measures: dict[str, float] = {}
        contraindications: Annotated[list[str], Personal] = []

        def apply(self, client: Client) -> None:
            client.assessment_ids.append(self.assessment_id)
            client.open_contraindication(self.contraindications)

    class ContraindicationCleared(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ContraindicationCleared")
        contraindication: Annotated[str, Personal]
        by: str

        def apply(self, client: Client) -> None:
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

        def apply(self, client: Client) -> None:
            client.scheduled[self.visit_id] = ScheduledVisit(
                visit_id=self.visit_id, at=self.at, program_id=self.program_id,
                practitioner=self.practitioner,
            )

    class VisitRescheduled(PracticeEvent):
        TOPIC: ClassVar[str] = _event("VisitRescheduled")
        visit_id: UUID
        at: datetime

        def apply(self, client: Client) -> None:
            visit = client.scheduled[self.visit_id]
            client.scheduled[self.visit_id] = visit.model_copy(update={"at": self.at})

    class VisitCancelled(PracticeEvent):
        TOPIC: ClassVar[str] = _event("VisitCancelled")
        visit_id: UUID
        reason: Annotated[str | None, Personal] = None

        def apply(self, client: Client) -> None:
            client.close_visit(self.visit_id)

    class VisitMissed(PracticeEvent):
        TOPIC: ClassVar[str] = _event("VisitMissed")
        visit_id: UUID
        reason: Annotated[str | None, Personal] = None

        def apply(self, client: Client) -> None:
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

        def apply(self, client: Client) -> None:
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

        def apply(self, client: Client) -> None:
            client.status = "lapsed"
            client.lapsed_on = self.as_of
            client.recall_since_lapse = None

    class RecallSent(PracticeEvent):
        TOPIC: ClassVar[str] = _event("RecallSent")
        recall_id: UUID
        channel: str

        def apply(self, client: Client) -> None:
            if client.status == "lapsed":
                client.recall_since_lapse = self.recall_id

    class Reactivated(PracticeEvent):
        TOPIC: ClassVar[str] = _event("Reactivated")
        visit_id: UUID
        lapsed_on: date | None = None
        recall_id: UUID | None = None

        def apply(self, client: Client) -> None:
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

        def apply(self, client: Client) -> None:
            # As a replay reads them once the key is gone: what was said reads as erased.
            client.__dict__.update(erased_state(Client.State, client.__dict__),
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

        def apply(self, client: Client) -> None:
            client.apply_correction(self)

    # -- helpers used by the events' apply methods ------------------------------------------

    def open_contraindication(self, names: list[str]) -> None:
        for name in names:
            self.open_contraindications.setdefault(normalise_condition(name), name)

    def close_visit(self, visit_id: UUID) -> None:
        self.scheduled.pop(visit_id, None)
        self.past_visits.close(visit_id)

    # -- commands ---------------------------------------------------------------------------

    @classmethod
    def record_intake(cls, stamp: Stamp, client_id: UUID, **intake: Any) -> Client:
        """C1: the client exists from this event."""
        name = (intake.get("name") or "").strip()
        if not name:
            raise InvalidInput("name", "a client needs a name")
        intake["name"] = name
        _check_email(intake.get("email"))
        _check_source(intake)
        if intake.get("date_of_birth") and intake["date_of_birth"] > stamp.day:
            raise InvalidInput("dob", "the date of birth is after the intake date")
        return cls._create(cls.IntakeRecorded, id=client_id, **stamp.fields(), **intake)

    def update_contact(
        self, stamp: Stamp, name: str | None, email: str | None, phone: str | None
    ) -> None:
        if name is None and email is None and phone is None:
            raise InvalidInput("contact", "give at least one of --name, --email, --phone")
        if name is not None and not name.strip():
            raise InvalidInput("name", "a client needs a name")
        _check_email(email)
        self._trigger(self.ContactUpdated, stamp, name=name, email=email, phone=phone)

    def update_health_history(
        self, stamp: Stamp, conditions: list[str], medications: list[str],
        contraindications: list[str],
    ) -> None:
        if not (conditions or medications or contraindications):
            raise InvalidInput(
                "health history", "give a --condition, --medication or --contraindication"
            )
        self._trigger(
            self.HealthHistoryUpdated, stamp, conditions=conditions,
            medications=medications, contraindications=contraindications,
        )

    def record_assessment(
        self, stamp: Stamp, assessment_id: UUID, findings: str,
        measures: dict[str, float], contraindications: list[str],
    ) -> None:
        if not findings.strip():
            raise InvalidInput("findings", "an assessment records its findings")
        self._check_not_before_intake(stamp.on, "an assessment")
        self._trigger(
            self.AssessmentRecorded, stamp, assessment_id=assessment_id, findings=findings,
            measures=validate_measures(measures), contraindications=contraindications,
        )

    def clear_contraindication(self, stamp: Stamp, contraindication: str, by: str) -> None:
        if not by.strip():
            raise InvalidInput("by", "name who cleared the contraindication")
        if normalise_condition(contraindication) not in self.open_contraindications:
            raise RuleRefused(
                "C2", f"client {self.id} has no open contraindication '{contraindication}'"
            )
        self._trigger(self.ContraindicationCleared, stamp,
                      contraindication=contraindication, by=by)

    def check_no_open_contraindication(self, action: str) -> None:
        """C2: an open contraindication blocks recommending a program and completing a visit."""
        if self.open_contraindications:
            names = ", ".join(sorted(self.open_contraindications.values()))
            raise RuleRefused(
                "C2",
                f"cannot {action}: open contraindication ({names}) until "
                "ContraindicationCleared is recorded",
            )

    def schedule_visit(
        self, stamp: Stamp, visit_id: UUID, at: datetime, program: VisitProgram | None,
        practitioner: str | None = None,
    ) -> None:
        self._check_not_before_intake(at, "a visit")
        self._check_free(at, visit_id)
        self._check_program(program)
        program_id = program.id if program else None
        self._trigger(self.VisitScheduled, stamp, visit_id=visit_id, at=at, program_id=program_id,
                      practitioner=practitioner_key(practitioner))

    def reschedule_visit(self, stamp: Stamp, visit_id: UUID, at: datetime) -> None:
        self._scheduled_visit(visit_id, "reschedule")
        self._check_not_before_intake(at, "a visit")
        self._check_free(at, visit_id)
        self._trigger(self.VisitRescheduled, stamp, visit_id=visit_id, at=at)

    def booking_on(self, day: date) -> UUID | None:
        """The earliest open booking on that day (the practice's local date), if any: a visit
        done is never left open as booked."""
        found = sorted((v.at, str(v.visit_id), v.visit_id) for v in self.scheduled.values()
                       if v.at.date() == day)
        return found[0][2] if found else None

    def cancel_visit(self, stamp: Stamp, visit_id: UUID, reason: str | None) -> None:
        self._scheduled_visit(visit_id, "cancel")
        self._trigger(self.VisitCancelled, stamp, visit_id=visit_id, reason=reason)

    def miss_visit(self, stamp: Stamp, visit_id: UUID, reason: str | None) -> None:
        self._scheduled_visit(visit_id, "record a no-show for")
        self._trigger(self.VisitMissed, stamp, visit_id=visit_id, reason=reason)

    def complete_visit(
        self, stamp: Stamp, visit_id: UUID, program: VisitProgram | None,
        measures: dict[str, float], notes: str | None, booked: bool,
        practitioner: str | None = None,
    ) -> None:
        """Complete a booked visit (`booked`) or a walk-in one; C5 reactivates a lapsed client."""
        if booked:
            self._scheduled_visit(visit_id, "complete")
        elif visit_id in self.past_visits or visit_id in self.scheduled:
            raise InvalidInput("visit", f"visit {visit_id} is already recorded")
        self.check_no_open_contraindication("complete a visit")
        self._check_not_before_intake(stamp.on, "a visit")
        self._check_program(program)
        program_id = program.id if program else None
        if program_id is None and booked:
            program_id = self.scheduled[visit_id].program_id
        # Who treated: as given, else whom the visit was booked with.
        treated_by = practitioner_key(practitioner) or (
            self.scheduled[visit_id].practitioner if booked else None)
        was_lapsed, lapsed_on = self.status == "lapsed", self.lapsed_on
        recall = self.recall_since_lapse
        self._trigger(
            self.VisitCompleted, stamp, visit_id=visit_id, measures=validate_measures(measures),
            notes=notes, program_id=program_id, practitioner=treated_by,
        )
        if was_lapsed:
            self._trigger(self.Reactivated, stamp, visit_id=visit_id,
                          lapsed_on=lapsed_on, recall_id=recall)

    def lapse_due(self, as_of: date, after_days: int) -> bool:
        """C4: last completed visit (or intake) more than `after_days` before `as_of`, and no
        visit scheduled on or after `as_of`. A lapsed or erased client does not lapse again."""
        if self.status in ("lapsed", "erased"):
            return False
        since = (self.last_completed_on or self.intake_on).date()
        if (as_of - since).days <= after_days:
            return False
        return not any(v.at.date() >= as_of for v in self.scheduled.values())

    def record_lapse(self, stamp: Stamp, as_of: date, after_days: int) -> bool:
        if not self.lapse_due(as_of, after_days):
            return False
        last = self.last_completed_on.date() if self.last_completed_on else None
        self._trigger(self.Lapsed, stamp, as_of=as_of, after_days=after_days, last_visit_on=last)
        return True

    def send_recall(self, stamp: Stamp, recall_id: UUID, channel: str) -> None:
        if channel not in RECALL_CHANNELS:
            raise InvalidInput("channel", f"'{channel}' is not one of {', '.join(RECALL_CHANNELS)}")
        self._check_not_before_intake(stamp.on, "a recall")
        self._trigger(self.RecallSent, stamp, recall_id=recall_id, channel=channel)

    def erase(self, stamp: Stamp, reason: str) -> None:
        """Record ClientErased (the application destroys the client's key first)."""
        if not reason.strip():
            raise InvalidInput("reason", "an erasure says why it is made (not what was erased)")
        born = self.date_of_birth
        self._trigger(self.ClientErased, stamp, reason=reason.strip(),
                      birth_year=born.year if born else None)

    def _trigger(self, event_class: type[PracticeEvent], stamp: Stamp, **fields: Any) -> None:
        """E1: nothing more is recorded for an erased client."""
        if self.status == "erased":
            raise RuleRefused("E1", f"client {self.id} is erased: nothing more can be recorded")
        super()._trigger(event_class, stamp, **fields)

    def correct_entry(self, stamp: Stamp, original: DomainEvent, changes: dict[str, str],
                      reason: str) -> None:
        """Correct one of this client's recorded entries: a new event, nothing rewritten."""
        if original.originator_id != self.id:
            raise InvalidInput("version", f"that entry is not one of client {self.id}")
        if not reason.strip():
            raise InvalidInput("reason", "a correction says why it is made")
        corrected, was = build_correction(original, changes, stamp.on.tzinfo)
        _check_email(corrected.get("email"))
        if "occurred_on" in corrected:
            moved = datetime.fromisoformat(corrected["occurred_on"])
            self._check_not_before_intake(moved, "a visit")
            check_not_future("occurred_on", moved, stamp.on)  # T1: the correction is now
        entry_id = getattr(original, "visit_id", None) or getattr(original, "assessment_id", None)
        self._trigger(self.EntryCorrected, stamp, corrected_version=original.originator_version,
                      corrected_event=type(original).__name__, entry_id=entry_id,
                      changes=corrected, original=was, reason=reason.strip())

    def apply_correction(self, event: Client.EntryCorrected) -> None:
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

    def archive(self, after: int) -> str | None:
        """The past visits move into an archive once more than `after` are not in one."""
        if self.past_visits.unarchived() <= after:
            return None
        return self.past_visits.archive(self.version)

    def read_archives_with(self, reader: ArchiveReader) -> None:
        self.past_visits.archive_reader = reader

    def snapshot_state(self) -> dict[str, Any]:
        """The state as `client show` prints it: the past visits as a list and a dict."""
        state = super().snapshot_state()
        del state["past_visits"]
        state["closed_visit_ids"] = [str(ident) for ident in self.past_visits.ids()]
        state["visit_dates"] = {str(ident): on.isoformat()
                                for ident, on in self.past_visits.dates().items()}
        return state

    # -- rule checks ------------------------------------------------------------------------

    def _check_not_before_intake(self, when: datetime, what: str) -> None:
        if when.date() < self.intake_on.date():
            raise RuleRefused(
                "C3", f"{what} on {when.date()} would precede the intake on {self.intake_on.date()}"
            )

    def _check_free(self, at: datetime, visit_id: UUID) -> None:
        """V2: a client holds at most one booking at a start time."""
        for other in self.scheduled.values():
            if other.at == at and other.visit_id != visit_id:
                raise RuleRefused("V2", f"client {self.id} already has visit "
                                        f"{other.visit_id} booked at {at.isoformat()}")

    def _check_program(self, program: VisitProgram | None) -> None:
        """C3: a visit for a program is for an accepted, still-active program of this client."""
        if program is None:
            return
        if program.client_id != self.id:
            raise RuleRefused("C3", f"program {program.id} is not a program of client {self.id}")
        if program.status != "active":
            raise RuleRefused(
                "C3", f"program {program.id} is {program.status}, not accepted and active"
            )

    def _scheduled_visit(self, visit_id: UUID, action: str) -> ScheduledVisit:
        if visit_id in self.scheduled:
            return self.scheduled[visit_id]
        if visit_id in self.past_visits:
            raise RuleRefused("V1", f"cannot {action} visit {visit_id}: it is no longer scheduled")
        raise InvalidInput("visit", f"client {self.id} has no visit with id {visit_id}")


def _check_email(email: str | None) -> None:
    if email is not None and email.strip() and "@" not in email:
        raise InvalidInput("email", f"'{email}' is not an e-mail address")


def _check_source(intake: dict[str, Any]) -> None:
    kind = intake.get("referral_source")
    if kind is not None and kind not in SOURCE_KINDS:
        raise InvalidInput("source", f"'{kind}' is not one of {', '.join(SOURCE_KINDS)}")
    if intake.get("referrer"):
        intake["referrer"] = normalise_key(intake["referrer"])
