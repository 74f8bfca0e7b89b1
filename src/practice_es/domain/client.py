"""The Client aggregate: the rules for recording intake, health history, assessments,
visits, lapses, recalls, erasure and corrections (what is recorded: client_record.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeAlias
from uuid import UUID

from practice_es.domain import client_record
from practice_es.domain.client_record import ClientRecord, ScheduledVisit
from practice_es.domain.client_rules import (
    RECALL_CHANNELS,
    SOURCE_KINDS,
    VisitProgram,
    check_email,
    check_source,
)
from practice_es.domain.corrections import build_correction
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.events import TOPIC_PREFIX, DomainEvent, PracticeEvent, Stamp
from practice_es.domain.keys import normalise_condition, practitioner_key
from practice_es.domain.measures import validate_measures
from practice_es.domain.moments import check_not_future
from practice_es.domain.visits import ArchiveReader

__all__ = ["SOURCE_KINDS", "Client"]  # the sources, as the web pages still import them


class Client(ClientRecord):
    """A person the practice sees. Exists from `IntakeRecorded` (C1)."""

    TOPIC = TOPIC_PREFIX + "Client"

    # The events, as `Client.IntakeRecorded` names them everywhere (their topics are their own).
    IntakeRecorded: TypeAlias = client_record.IntakeRecorded
    ContactUpdated: TypeAlias = client_record.ContactUpdated
    HealthHistoryUpdated: TypeAlias = client_record.HealthHistoryUpdated
    AssessmentRecorded: TypeAlias = client_record.AssessmentRecorded
    ContraindicationCleared: TypeAlias = client_record.ContraindicationCleared
    VisitScheduled: TypeAlias = client_record.VisitScheduled
    VisitRescheduled: TypeAlias = client_record.VisitRescheduled
    VisitCancelled: TypeAlias = client_record.VisitCancelled
    VisitMissed: TypeAlias = client_record.VisitMissed
    VisitCompleted: TypeAlias = client_record.VisitCompleted
    Lapsed: TypeAlias = client_record.Lapsed
    RecallSent: TypeAlias = client_record.RecallSent
    Reactivated: TypeAlias = client_record.Reactivated
    ClientErased: TypeAlias = client_record.ClientErased
    EntryCorrected: TypeAlias = client_record.EntryCorrected

    # -- commands ---------------------------------------------------------------------------

    @classmethod
    def record_intake(cls, stamp: Stamp, client_id: UUID, **intake: Any) -> Client:
        """C1: the client exists from this event."""
        name = (intake.get("name") or "").strip()
        if not name:
            raise InvalidInput("name", "a client needs a name")
        intake["name"] = name
        check_email(intake.get("email"))
        check_source(intake)
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
        check_email(email)
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
        check_email(corrected.get("email"))
        if "occurred_on" in corrected:
            moved = datetime.fromisoformat(corrected["occurred_on"])
            self._check_not_before_intake(moved, "a visit")
            check_not_future("occurred_on", moved, stamp.on)  # T1: the correction is now
        entry_id = getattr(original, "visit_id", None) or getattr(original, "assessment_id", None)
        self._trigger(self.EntryCorrected, stamp, corrected_version=original.originator_version,
                      corrected_event=type(original).__name__, entry_id=entry_id,
                      changes=corrected, original=was, reason=reason.strip())

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
