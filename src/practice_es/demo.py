"""A demo practice: 18 months of a realistic massage/chiro practice, recorded through the
application service (the same methods the CLI calls), deterministic for a given seed.

Each client is a small process on one agenda ordered by business time: intake (often from a
referral), assessment, programs of care through relief → corrective → maintenance, or "hit
and miss" walk-ins; bookings at each visit, cancellations and no-shows; monthly lapse sweeps,
recalls and reactivations. Business dates are fixed relative to `TODAY`, not the wall clock.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from practice_es.domain.errors import RuleRefused

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger
    from practice_es.projections.runner import ProjectionRunner

TODAY = date(2026, 11, 27)
MONTHS = 18
DOCTORS = ("dr-jones", "dr-okafor", "dr-lindqvist", "physio-marsh")
CAMPAIGNS = ("flyer-spring", "radio-local")
FIRST = ("Ann", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
         "Liam", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Vik")
LAST = ("Abbott", "Berg", "Costa", "Dahl", "Evans", "Fischer", "Gomez", "Hale", "Ito", "Jung",
        "Khan", "Lund", "Moreau", "Novak", "Ortiz", "Park", "Quist", "Reyes", "Silva", "Tan")
CONTRAINDICATIONS = ("suspected DVT", "uncontrolled hypertension")
PLANS = {"relief": (6, 2.0), "corrective": (8, 1.0), "maintenance": (6, 0.25)}
NEXT_PHASE = {"relief": "corrective", "corrective": "maintenance"}

Step = Callable[[datetime], None]


@dataclass
class Agenda:
    """Steps to run in business-time order (ties in the order they were planned)."""

    steps: list[tuple[datetime, int, Step]] = field(default_factory=list)
    planned: int = 0

    def at(self, when: datetime, step: Step) -> None:
        heapq.heappush(self.steps, (when, self.planned, step))
        self.planned += 1

    def run(self, until: datetime) -> None:
        while self.steps and self.steps[0][0] <= until:
            when, _, step = heapq.heappop(self.steps)
            step(when)


@dataclass
class DemoPractice:
    ledger: PracticeLedger
    runner: ProjectionRunner
    rng: random.Random
    agenda: Agenda = field(default_factory=Agenda)
    clients: list[DemoClient] = field(default_factory=list)
    refused: int = 0

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def attempt(self, action: Callable[[], object]) -> bool:
        """Run an action; a refusal is counted, not fatal (the demo must always finish)."""
        try:
            action()
        except RuleRefused:
            self.refused += 1
            return False
        return True

    def no_show_referral(self, when: datetime) -> None:
        kind = self.rng.choice(("doctor", "advertising"))
        referrer = self.rng.choice(DOCTORS if kind == "doctor" else CAMPAIGNS)
        self.ledger.receive_referral(source=kind, referrer=referrer, prospect="a prospect",
                                     on=when, referral_id=self.uuid())

    def sweep(self, when: datetime) -> None:
        """The monthly lapse sweep (C4), then recalls for most of those who lapsed."""
        from practice_es.projections.clients import lapse_candidates

        self.runner.catch_up()
        with self.runner.engine.connect() as conn:
            candidates = [UUID(c) for c in lapse_candidates(conn, when.date(), 90)]
        lapsed = set(self.ledger.sweep_lapses(candidates, as_of=when.date()))
        for client in self.clients:
            if client.id in lapsed and self.rng.random() < 0.85:
                self.agenda.at(when + timedelta(days=self.rng.randint(2, 10), hours=11),
                               client.recall)


@dataclass
class DemoClient:
    practice: DemoPractice
    name: str
    id: UUID = field(init=False)
    pain: float = 0.0
    program: UUID | None = None
    phase: str = ""
    done_in_program: int = 0
    co_managing: UUID | None = None  # the referral out to the doctor who referred them
    stopped: bool = False

    @property
    def ledger(self) -> PracticeLedger:
        return self.practice.ledger

    @property
    def rng(self) -> random.Random:
        return self.practice.rng

    def later(self, when: datetime, days: float, step: Step, hour: int = 10) -> None:
        day = (when + timedelta(days=days)).date()
        self.practice.agenda.at(datetime.combine(day, time(hour, 0)), step)

    # -- arrival ----------------------------------------------------------------------------

    def arrive(self, when: datetime) -> None:
        kind, referrer = self._source()
        referral = None
        if referrer and kind != "walk-in" and self.rng.random() < 0.8:
            referral = self.practice.uuid()
            self.ledger.receive_referral(source=kind, referrer=referrer, prospect=self.name,
                                         on=when - timedelta(days=3), referral_id=referral)
        contraindicated = self.rng.random() < 0.12
        self.id = self.practice.uuid()
        number = len(self.practice.clients) + 1  # (not from the seed: the demo stays the same)
        self.ledger.record_intake(
            on=when, client_id=self.id, referral_id=referral, name=self.name,
            phone=f"555-{number:04d}",
            email=f"{self.name.lower().replace(' ', '.')}@example.org",
            referral_source=kind, referrer=referrer, reasons=["low back pain"],
            goals=["walk without pain"],
            contraindications=[self.rng.choice(CONTRAINDICATIONS)] if contraindicated else [],
        )
        self.practice.clients.append(self)
        self.pain = self.rng.randint(6, 9)
        self.ledger.record_assessment(self.id, findings="restricted lumbar flexion",
                                      measures={"pain": self.pain}, on=when)
        if kind == "doctor" and referrer and self.rng.random() < 0.6:
            self.co_managing = self.ledger.make_referral(self.id, to=referrer,
                                                         reason="co-management", on=when)
        if contraindicated:
            self._refer_out(when)
        else:
            self.first_visit(when)

    def _source(self) -> tuple[str, str | None]:
        roll = self.rng.random()
        if roll < 0.35:
            return "doctor", self.rng.choice(DOCTORS)
        if roll < 0.55:
            return "advertising", self.rng.choice(CAMPAIGNS)
        if roll < 0.75 and self.practice.clients:  # a few happy clients refer most friends
            return "client", str(self.rng.choice(self.practice.clients[:6]).id)
        return self.rng.choice((("online", None), ("walk-in", None)))

    def _refer_out(self, when: datetime) -> None:
        """An open contraindication: refer out, wait for the doctor to clear it (C2)."""
        reason = next(iter(self.ledger.client(self.id).open_contraindications.values()))
        referral = self.ledger.make_referral(self.id, to=self.rng.choice(DOCTORS[:3]),
                                             reason=reason, on=when)

        def cleared(later: datetime) -> None:
            self.ledger.record_referral_outcome(referral, cleared=True, on=later)
            self.first_visit(later)

        self.later(when, self.rng.randint(5, 14), cleared, hour=9)

    def first_visit(self, when: datetime) -> None:
        self.complete(when + timedelta(hours=1), None)
        if self.rng.random() < 0.6:
            self.recommend(when + timedelta(hours=2), "relief")
        else:
            self.walk_in_later(when)

    # -- programs of care -------------------------------------------------------------------

    def recommend(self, when: datetime, phase: str) -> None:
        visits, per_week = PLANS[phase]
        program = self.ledger.recommend_program(
            self.id, phase=phase, visits=visits, per_week=per_week, goals=["walk without pain"],
            rationale=f"{phase} care for low back pain", on=when)
        if self.rng.random() < 0.15:
            self.ledger.decline_program(program, reason="cost", on=when)
            self.walk_in_later(when)
            return
        self.ledger.accept_program(program, on=when)
        self.program, self.phase, self.done_in_program = program, phase, 0
        self.book(when, 7 / per_week)

    def book(self, when: datetime, days: float) -> None:
        visit = self.practice.uuid()
        at = datetime.combine((when + timedelta(days=round(days))).date(),
                              time(self.rng.randint(9, 16), 0))
        self.ledger.schedule_visit(self.id, at=at, on=when + timedelta(minutes=30),
                                   program=self.program, visit_id=visit)
        self.practice.agenda.at(at, lambda moment: self.attend(moment, visit))

    def attend(self, when: datetime, visit: UUID) -> None:
        roll = self.rng.random()
        if roll < 0.07:
            self.ledger.cancel_visit(self.id, visit_id=visit, reason="unwell",
                                     on=when - timedelta(hours=20))
            self.book(when - timedelta(hours=20), 2)
        elif roll < 0.13:
            self.ledger.miss_visit(self.id, visit_id=visit, on=when + timedelta(hours=1))
            if self.rng.random() < 0.5:
                self.book(when + timedelta(hours=1), 3)
            else:
                self.stopped = True
        elif self.practice.attempt(lambda: self.complete(when, visit)):
            self.after_program_visit(when)

    def complete(self, when: datetime, visit: UUID | None) -> None:
        self.pain = max(0.0, self.pain - self.rng.choice((0, 0.5, 1)))
        self.ledger.complete_visit(self.id, visit_id=visit, measures={"pain": self.pain},
                                   on=when, program=None if visit else self.program)

    def after_program_visit(self, when: datetime) -> None:
        if self.program is None:
            return
        self.done_in_program += 1
        visits, per_week = PLANS[self.phase]
        if self.done_in_program >= visits:
            self.reevaluate(when + timedelta(minutes=45))
        elif self.rng.random() < 0.04:
            self.stopped = True  # stops coming mid-program: shows on the worklists
        elif self.rng.random() < 0.03:
            self.ledger.discontinue_program(self.program, reason="moved away", on=when)
            self.program, self.stopped = None, True
        else:
            self.book(when, 7 / per_week if self.rng.random() < 0.85 else 7 / per_week + 3)

    def reevaluate(self, when: datetime) -> None:
        assert self.program is not None
        phase = self.phase
        outcome = "new-program" if phase in NEXT_PHASE and self.rng.random() < 0.7 else (
            "discharge")
        self.ledger.reevaluate_program(self.program, findings=f"end of {phase} care",
                                       measures={"pain": self.pain}, outcome=outcome, on=when)
        if self.co_managing is not None:
            self.ledger.send_care_report(self.co_managing, on=when,
                                         summary=f"{phase} care done, pain {self.pain:g}/10")
        self.program = None
        if outcome == "new-program":
            self.recommend(when + timedelta(minutes=5), NEXT_PHASE[phase])
        else:
            self.walk_in_later(when)

    # -- hit and miss, lapses, recalls ------------------------------------------------------

    def walk_in_later(self, when: datetime) -> None:
        if self.rng.random() < 0.3:
            self.stopped = True
            return
        self.later(when, self.rng.randint(10, 75), self.walk_in, hour=self.rng.randint(9, 16))

    def walk_in(self, when: datetime) -> None:
        self.complete(when, None)
        self.walk_in_later(when)

    def recall(self, when: datetime) -> None:
        self.ledger.send_recall(self.id, channel=self.rng.choice(("phone", "email", "sms")),
                                on=when)
        if self.stopped and self.rng.random() < 0.5:
            self.stopped = False
            self.later(when, self.rng.randint(3, 20), self.walk_in, hour=15)


@dataclass(frozen=True)
class DemoSummary:
    clients: int
    events: int
    refused: int
    featured: UUID | None  # a client with programs and measures: the timeline to show


def record_demo(ledger: PracticeLedger, runner: ProjectionRunner, clients: int = 120,
                seed: int = 7, today: date = TODAY) -> DemoSummary:
    """Record the demo practice into an empty ledger."""
    practice = DemoPractice(ledger, runner, random.Random(seed))
    start = today - timedelta(days=round(MONTHS * 30.44))
    span = (today - timedelta(days=21) - start).days
    for number in range(clients):
        name = f"{practice.rng.choice(FIRST)} {practice.rng.choice(LAST)} {number + 1}"
        arrival = datetime.combine(start + timedelta(days=practice.rng.randint(0, span)),
                                   time(practice.rng.randint(9, 15), 0))
        practice.agenda.at(arrival, DemoClient(practice, name).arrive)
        if practice.rng.random() < 0.15:  # referred, but never came in
            practice.agenda.at(arrival, practice.no_show_referral)
    for month in _month_starts(start, today):
        practice.agenda.at(datetime.combine(month, time(0, 0)), practice.sweep)
    practice.agenda.run(until=datetime.combine(today, time(23, 59)))
    runner.catch_up()
    featured = next((c.id for c in practice.clients if len(ledger.programs_of(c.id)) >= 2),
                    practice.clients[0].id if practice.clients else None)
    return DemoSummary(len(practice.clients), ledger.recorder.max_notification_id() or 0,
                       practice.refused, featured)


def _month_starts(start: date, today: date) -> list[date]:
    months, day = [], date(start.year, start.month, 1)
    while day <= today:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day <= today:
            months.append(day)
    return months
