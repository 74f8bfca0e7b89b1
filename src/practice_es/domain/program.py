"""The ProgramOfCare aggregate (treatment plan, care plan): P1–P5."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from practice_es.domain.client import Client
from practice_es.domain.days import days_after
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.events import (
    TOPIC_PREFIX,
    PracticeAggregate,
    PracticeCreated,
    PracticeEvent,
    Stamp,
)
from practice_es.domain.measures import validate_measures
from practice_es.domain.personal import Personal

PHASES = ("relief", "corrective", "maintenance")
OUTCOMES = ("continue", "new-program", "discharge")
ProgramStatus = Literal["recommended", "active", "declined", "completed", "discontinued",
                        "withdrawn"]


def _event(name: str) -> str:
    return f"{TOPIC_PREFIX}ProgramOfCare.{name}"


def expected_end(start: date, visits: int, per_week: float) -> date:
    """The last planned visit falls this many days after the start, at `per_week` visits."""
    return days_after(start, math.ceil((visits - 1) * 7 / per_week))


class ProgramOfCare(PracticeAggregate):
    """A recommendation that is evidence-based (P1), specific (P2) and honest (P3)."""

    TOPIC = TOPIC_PREFIX + "ProgramOfCare"

    client_id: UUID
    number: int
    assessment_id: UUID
    phase: str
    visits: int
    per_week: float
    goals: Annotated[list[str], Personal]
    rationale: Annotated[str, Personal]
    reevaluate_after: int
    expected_end: date
    status: ProgramStatus

    class ProgramRecommended(PracticeCreated):
        TOPIC: ClassVar[str] = _event("ProgramRecommended")
        client_id: UUID
        number: int
        assessment_id: UUID
        phase: str
        visits: int
        per_week: float
        goals: Annotated[list[str], Personal]
        rationale: Annotated[str, Personal]
        reevaluate_after: int
        expected_end: date

        def apply(self, program: ProgramOfCare) -> None:
            # The program is what was recommended (every field but the envelope), and a status.
            fields = self.model_dump(include=set(program.State.model_fields))
            program.__dict__.update(fields, status="recommended")

    class ProgramAccepted(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ProgramAccepted")
        reason: Annotated[str | None, Personal] = None  # why the client accepts, in their words

        def apply(self, program: ProgramOfCare) -> None:
            program.status = "active"

    class ProgramDeclined(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ProgramDeclined")
        reason: str | None = None

        def apply(self, program: ProgramOfCare) -> None:
            program.status = "declined"

    class ProgramWithdrawn(PracticeEvent):
        """A recommendation entered by mistake: it never was one, so it counts in no rate."""

        TOPIC: ClassVar[str] = _event("ProgramWithdrawn")
        reason: str

        def apply(self, program: ProgramOfCare) -> None:
            program.status = "withdrawn"

    class ProgramReevaluated(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ProgramReevaluated")
        findings: Annotated[str, Personal]
        measures: dict[str, float] = {}
        outcome: str

        def apply(self, program: ProgramOfCare) -> None:
            pass  # an outcome that ends the program is followed by ProgramCompleted

    class ProgramCompleted(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ProgramCompleted")
        reason: str | None = None

        def apply(self, program: ProgramOfCare) -> None:
            program.status = "completed"

    class ProgramDiscontinued(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ProgramDiscontinued")
        reason: str | None = None

        def apply(self, program: ProgramOfCare) -> None:
            program.status = "discontinued"

    @classmethod
    def recommend(
        cls, stamp: Stamp, client: Client, program_id: UUID, number: int,
        assessment_id: UUID | None, phase: str, visits: int, per_week: float,
        goals: list[str], rationale: str, reevaluate_after: int | None,
    ) -> ProgramOfCare:
        cited = _cited_assessment(client, assessment_id)
        client.check_no_open_contraindication("recommend a program")
        _check_specific(phase, visits, per_week, goals, reevaluate_after)
        if not rationale.strip():
            raise RuleRefused("P3", "a recommendation records its rationale (non-empty text)")
        return cls._create(
            cls.ProgramRecommended, id=program_id, **stamp.fields(), client_id=client.id,
            number=number, assessment_id=cited, phase=phase, visits=visits,
            per_week=per_week, goals=[g.strip() for g in goals], rationale=rationale.strip(),
            reevaluate_after=reevaluate_after or visits,
            expected_end=expected_end(stamp.day, visits, per_week),
        )

    def accept(self, stamp: Stamp, others: list[ProgramOfCare], reason: str | None = None
               ) -> None:
        """P5: at most one active program per client at a time."""
        self._check_status("recommended", "accept", "P4")
        active = [p for p in others if p.status == "active" and p.id != self.id]
        if active:
            raise RuleRefused(
                "P5", f"client {self.client_id} already has an active program {active[0].id}; "
                "complete or discontinue it first",
            )
        self._trigger(self.ProgramAccepted, stamp, reason=_said(reason))

    def decline(self, stamp: Stamp, reason: str | None) -> None:
        """P4: the client is free to decline; the program stays on record as declined."""
        self._check_status("recommended", "decline", "P4")
        self._trigger(self.ProgramDeclined, stamp, reason=reason)

    def withdraw(self, stamp: Stamp, reason: str) -> None:
        """P4: only a recommendation not yet accepted or declined can be withdrawn."""
        if not reason.strip():
            raise InvalidInput("reason", "a withdrawal says why the recommendation was a "
                                         "mistake")
        self._check_status("recommended", "withdraw", "P4")
        self._trigger(self.ProgramWithdrawn, stamp, reason=reason.strip())

    def reevaluate(
        self, stamp: Stamp, findings: str, measures: dict[str, float], outcome: str
    ) -> None:
        if outcome not in OUTCOMES:
            raise InvalidInput("outcome", f"'{outcome}' is not one of {', '.join(OUTCOMES)}")
        if not findings.strip():
            raise InvalidInput("findings", "a re-evaluation records its findings")
        self._check_status("active", "re-evaluate", "P5")
        self._trigger(self.ProgramReevaluated, stamp, findings=findings,
                      measures=validate_measures(measures), outcome=outcome)
        if outcome != "continue":
            self._trigger(self.ProgramCompleted, stamp, reason=outcome)

    def complete(self, stamp: Stamp, reason: str | None) -> None:
        self._check_status("active", "complete", "P5")
        self._trigger(self.ProgramCompleted, stamp, reason=reason)

    def discontinue(self, stamp: Stamp, reason: str | None) -> None:
        self._check_status("active", "discontinue", "P5")
        self._trigger(self.ProgramDiscontinued, stamp, reason=reason)

    def _check_status(self, wanted: str, action: str, rule: str) -> None:
        if self.status != wanted:
            raise RuleRefused(rule, f"cannot {action} program {self.id}: it is {self.status}")


def _said(text: str | None) -> str | None:
    """What was said, or None if nothing was."""
    if text is None or not text.strip():
        return None
    return text.strip()


def _cited_assessment(client: Client, assessment_id: UUID | None) -> UUID:
    """P1: a recommendation cites an assessment on record for this client."""
    if not client.assessment_ids:
        raise RuleRefused(
            "P1", f"client {client.id} has no assessment on record; record one before "
            "recommending a program",
        )
    if assessment_id is None:
        return client.assessment_ids[-1]
    if assessment_id not in client.assessment_ids:
        raise RuleRefused("P1", f"assessment {assessment_id} is not on record for {client.id}")
    return assessment_id


def _check_specific(
    phase: str, visits: int, per_week: float, goals: list[str], reevaluate_after: int | None
) -> None:
    """P2: the phase, number of visits, frequency, goals and re-evaluation point."""
    if phase not in PHASES:
        raise InvalidInput("phase", f"'{phase}' is not one of {', '.join(PHASES)}")
    if visits < 1:
        raise RuleRefused("P2", f"a program plans at least 1 visit, not {visits}")
    if not 0 < per_week <= 7:
        raise RuleRefused(
            "P2", f"visits per week must be more than 0 and at most 7, not {per_week:g}"
        )
    if not [g for g in goals if g.strip()]:
        raise RuleRefused("P2", "a program names at least one goal")
    if reevaluate_after is not None and not 1 <= reevaluate_after <= visits:
        raise RuleRefused("P2", f"re-evaluate after 1 to {visits} visits, not {reevaluate_after}")
