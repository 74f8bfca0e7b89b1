"""Model-based test: a hypothesis state machine drives the PracticeLedger (on a fresh SQLite
file) with random actions, and a small reference model of SPEC §2's rules predicts each
outcome: accepted with exactly these events, refused by this rule (exit 1), or invalid input
(exit 2) with nothing recorded. At the end, replaying each aggregate's events from the log —
in this process and in a fresh ledger — rebuilds the aggregates the ledger holds.

The model is deliberately naive (dicts and dates); its order of checks is the domain's, so a
refusal names the same rule. Snapshots are taken every 3 events, so loading goes through them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from hypothesis.stateful import run_state_machine_as_test as run_machine

from practice_es.application import PracticeLedger
from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.keys import normalise_condition
from practice_es.infrastructure.settings import Settings
from tests.soak import quick_and_soak

CONDITIONS = ("DVT", " dvt ", "fracture")  # two spellings of one contraindication
MAYBE_CONDITION = st.sampled_from((None,) * 6 + CONDITIONS)
RARELY = st.integers(0, 9).map(lambda n: n == 0)  # a blank field, now and then
START = date(2026, 1, 5)
Verdict = tuple[str, ...]  # ("ok", event names…) | ("refused", rule) | ("invalid",)
DECISIONS = {"accept": ("ProgramAccepted", "active"), "decline": ("ProgramDeclined", "declined"),
             "complete": ("ProgramCompleted", "completed"),
             "discontinue": ("ProgramDiscontinued", "discontinued")}
UTC_ZONE = ZoneInfo("UTC")


class SmallSnapshots(PracticeLedger):
    snapshotting_intervals = {Client: 3}


@dataclass
class MClient:
    intake: date
    open: dict[str, str] = field(default_factory=dict)
    assessed: bool = False
    scheduled: dict[UUID, tuple[date, UUID | None]] = field(default_factory=dict)
    closed: list[UUID] = field(default_factory=list)  # in order: ids are random
    last_visit: date | None = None
    status: str = "prospect"


@dataclass
class MProgram:
    client: UUID
    status: str = "recommended"


@dataclass
class MReferral:
    client: UUID
    linked: list[str]
    answered: bool = False


def when(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="model-")
        self.today = START
        # Now is the end of the model's day: every action of the day is in its past (T1).
        self.ledger = SmallSnapshots(Settings(db_url=f"sqlite:///{self.folder}/p.db",
                                              actor="model", zone=UTC_ZONE),
                                     clock=lambda: when(self.today + timedelta(days=1))
                                     - timedelta(seconds=1))
        self.clients: dict[UUID, MClient] = {}
        self.programs: dict[UUID, MProgram] = {}
        self.inbound: dict[UUID, bool] = {}  # referral received -> converted
        self.outbound: dict[UUID, MReferral] = {}
        self.seen = 0  # events in the log

    def teardown(self) -> None:
        try:
            self.check_replay()
        finally:
            self.ledger.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- the harness ------------------------------------------------------------------------

    def act(self, verdict: Verdict, call: Callable[[], Any]) -> Any:
        """Run one ledger action; its outcome and new events must be the model's verdict."""
        result: Any = None
        try:
            result = call()
            got: Verdict = ("ok",)
        except RuleRefused as refusal:
            got = ("refused", refusal.rule)
        except InvalidInput:
            got = ("invalid",)
        notes = self.ledger.recorder.select_notifications(start=self.seen, limit=100,
                                                          inclusive_of_start=False)
        names = tuple(n.topic.rsplit(".", 1)[1] for n in notes)
        self.seen = max([self.seen, *(n.id for n in notes)])
        assert got + (names if got == ("ok",) else ()) == verdict, (got, names, verdict)
        return result

    def pick(self, pool: dict[UUID, Any], index: int) -> UUID:
        """In the order they were made: ids are random, the choice must not be."""
        return list(pool)[index % len(pool)]

    def on(self, back: int) -> datetime:
        return when(self.today - timedelta(days=back))

    def client_checks(self, c: MClient, day: date | None) -> Verdict | None:
        """C3 (not before the intake), then E1 (nothing for an erased client)."""
        if day is not None and day < c.intake:
            return ("refused", "C3")
        return ("refused", "E1") if c.status == "erased" else None

    # -- time -------------------------------------------------------------------------------

    @rule(days=st.integers(0, 45))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    # -- clients ----------------------------------------------------------------------------

    @rule(contraindication=MAYBE_CONDITION, blank=RARELY,
          referral=st.integers(0, 9) | st.none(), assess=st.booleans())
    def intake(self, contraindication: str | None, blank: bool, referral: int | None,
               assess: bool) -> None:
        ref = self.pick(self.inbound, referral) if referral is not None and self.inbound else None
        verdict: Verdict = ("ok", "IntakeRecorded") + (("ReferralConverted",) if ref else ())
        if blank:
            verdict = ("invalid",)
        elif ref is not None and self.inbound[ref]:
            verdict = ("refused", "R1")
        ident = self.act(verdict, lambda: self.ledger.record_intake(
            name=" " if blank else "Ann", contraindications=[contraindication] * bool(
                contraindication), referral_id=ref, on=self.on(0)))
        if verdict[0] == "ok":
            self.clients[ident] = MClient(self.today)
            self.open(self.clients[ident], contraindication)
            if ref is not None:
                self.inbound[ref] = True
            if assess:  # the usual first visit: intake, then an assessment
                self.assess(0, 0, None, False, ident)

    def open(self, c: MClient, contraindication: str | None) -> None:
        if contraindication:
            c.open.setdefault(normalise_condition(contraindication), contraindication)

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), back=st.integers(0, 3), contraindication=MAYBE_CONDITION,
          blank=RARELY)
    def assess(self, i: int, back: int, contraindication: str | None, blank: bool,
               ident: UUID | None = None) -> None:
        ident = ident or self.pick(self.clients, i)
        c, day = self.clients[ident], self.today - timedelta(days=back)
        verdict = ("invalid",) if blank else self.client_checks(c, day) or (
            "ok", "AssessmentRecorded")
        self.act(verdict, lambda: self.ledger.record_assessment(
            ident, findings="" if blank else "tight", on=self.on(back),
            contraindications=[contraindication] * bool(contraindication)))
        if verdict[0] == "ok":
            c.assessed = True
            self.open(c, contraindication)

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), name=st.sampled_from(CONDITIONS))
    def clear(self, i: int, name: str) -> None:
        ident = self.pick(self.clients, i)
        c = self.clients[ident]
        verdict: Verdict = ("refused", "C2") if normalise_condition(name) not in c.open else (
            self.client_checks(c, None) or ("ok", "ContraindicationCleared"))
        self.act(verdict, lambda: self.ledger.clear_contraindication(
            ident, contraindication=name, by="dr k", on=self.on(0)))
        if verdict[0] == "ok":
            del c.open[normalise_condition(name)]

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99))
    def recall(self, i: int) -> None:
        ident = self.pick(self.clients, i)
        verdict = self.client_checks(self.clients[ident], self.today) or ("ok", "RecallSent")
        self.act(verdict, lambda: self.ledger.send_recall(ident, channel="sms", on=self.on(0)))

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), edge=st.integers(-1, 1))
    def lapse_sweep(self, i: int, edge: int) -> None:
        """C4 at its edge: `after` is one client's days since their last visit, ±1."""
        c = self.clients[self.pick(self.clients, i)]
        after = max(1, (self.today - (c.last_visit or c.intake)).days + edge)
        due = [i for i, c in self.clients.items() if self.lapse_due(c, after)]
        self.act(("ok",) + ("Lapsed",) * len(due), lambda: self.ledger.sweep_lapses(
            list(self.clients), as_of=self.today, after_days=after))
        for ident in due:
            self.clients[ident].status = "lapsed"

    def lapse_due(self, c: MClient, after: int) -> bool:
        """C4, as the model reads it."""
        since = c.last_visit or c.intake
        ahead = any(at >= self.today for at, _ in c.scheduled.values())
        return c.status not in ("lapsed", "erased") and (
            self.today - since).days > after and not ahead

    @precondition(lambda self: len(self.clients) > 1 + 2 * sum(
        c.status == "erased" for c in self.clients.values()))  # rarely: it ends a client
    @rule(i=st.integers(0, 99))
    def erase(self, i: int) -> None:
        ident = self.pick(self.clients, i)
        c = self.clients[ident]
        verdict: Verdict = ("ok",) if c.status == "erased" else ("ok", "ClientErased")
        self.act(verdict, lambda: self.ledger.erase_client(ident, reason="asked"))
        c.status, c.open = "erased", {}

    # -- visits -----------------------------------------------------------------------------

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), offset=st.integers(-10, 30), p=st.integers(0, 9) | st.none())
    def schedule(self, i: int, offset: int, p: int | None) -> None:
        ident = self.pick(self.clients, i)
        c, at = self.clients[ident], self.today + timedelta(days=offset)
        program = self.pick(self.programs, p) if p is not None and self.programs else None
        taken = any(other == at for other, _ in c.scheduled.values())
        verdict = (("refused", "C3") if at < c.intake else ("refused", "V2") if taken
                   else self.program_check(ident, program) or self.client_checks(c, None)
                   or ("ok", "VisitScheduled"))
        visit = self.act(verdict, lambda: self.ledger.schedule_visit(
            ident, at=when(at), program=program, on=self.on(0)))
        if verdict[0] == "ok":
            c.scheduled[visit] = (at, program)

    def program_check(self, client: UUID, program: UUID | None) -> Verdict | None:
        """C3: a visit for a program is for an active program of the same client."""
        if program is None:
            return None
        p = self.programs[program]
        return None if p.client == client and p.status == "active" else ("refused", "C3")

    def completion(self, ident: UUID, day: date, program: UUID | None) -> Verdict:
        c = self.clients[ident]
        if c.open:
            return ("refused", "C2")
        if day < c.intake:
            return ("refused", "C3")
        return self.program_check(ident, program) or self.client_checks(c, None) or (
            ("ok", "VisitCompleted") + (("Reactivated",) if c.status == "lapsed" else ()))

    def completed(self, ident: UUID, day: date) -> None:
        c = self.clients[ident]
        c.last_visit = max(day, c.last_visit or day)
        c.status = "active"

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), back=st.integers(0, 3), p=st.integers(0, 9) | st.none())
    def walk_in(self, i: int, back: int, p: int | None) -> None:
        ident = self.pick(self.clients, i)
        program = self.pick(self.programs, p) if p is not None and self.programs else None
        day, c = self.today - timedelta(days=back), self.clients[ident]
        # A visit done without its id completes that day's earliest open booking, if any.
        booked = min(((at, str(v), v) for v, (at, _) in c.scheduled.items() if at == day),
                     default=None)
        visit = booked[2] if booked else None
        verdict = self.completion(ident, day, program or (
            c.scheduled[visit][1] if visit else None))
        self.act(verdict, lambda: self.ledger.complete_visit(
            ident, program=program, measures={"pain": 3}, on=self.on(back)))
        if verdict[0] == "ok":
            if visit is not None:
                c.scheduled.pop(visit)
                c.closed.append(visit)
            self.completed(ident, day)

    def visits(self) -> list[tuple[UUID, UUID]]:
        return [(c, v) for c, m in self.clients.items() for v in (*m.scheduled, *m.closed)]

    @precondition(lambda self: self.visits())
    @rule(i=st.integers(0, 999), cancel=st.booleans())
    def close_booked(self, i: int, cancel: bool) -> None:
        ident, visit = self.visits()[i % len(self.visits())]
        c = self.clients[ident]
        if visit in c.closed:
            verdict: Verdict = ("refused", "V1")
        elif cancel:
            verdict = self.client_checks(c, None) or ("ok", "VisitCancelled")
        else:
            verdict = self.completion(ident, self.today, c.scheduled[visit][1])
        call = self.ledger.cancel_visit if cancel else self.ledger.complete_visit
        self.act(verdict, lambda: call(ident, visit_id=visit, on=self.on(0)))
        if verdict[0] == "ok":
            c.scheduled.pop(visit)
            c.closed.append(visit)
            if not cancel:
                self.completed(ident, self.today)

    # -- programs of care -------------------------------------------------------------------

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), visits=st.integers(0, 3),
          per_week=st.sampled_from((0.0, 0.5, 2.0, 2.0, 8.0)), goal=RARELY.map(lambda b: not b),
          rationale=RARELY.map(lambda b: not b), anyone=RARELY)
    def recommend(self, i: int, visits: int, per_week: float, goal: bool,
                  rationale: bool, anyone: bool) -> None:
        assessed = {k: c for k, c in self.clients.items() if c.assessed}
        ident = self.pick(self.clients if anyone or not assessed else assessed, i)
        c = self.clients[ident]
        verdict: Verdict = (
            ("refused", "P1") if not c.assessed else ("refused", "C2") if c.open
            else ("refused", "P2") if visits < 1 or not 0 < per_week <= 7 or not goal
            else ("refused", "P3") if not rationale
            else ("refused", "E1") if c.status == "erased" else ("ok", "ProgramRecommended"))
        program = self.act(verdict, lambda: self.ledger.recommend_program(
            ident, phase="relief", visits=visits, per_week=per_week, goals=["g"] * goal,
            rationale="r" * rationale, on=self.on(0)))
        if verdict[0] == "ok":
            self.programs[program] = MProgram(ident)

    @precondition(lambda self: self.programs)
    @rule(p=st.integers(0, 99), how=st.sampled_from(sorted(DECISIONS)))
    def decide(self, p: int, how: str) -> None:
        program = self.pick(self.programs, p)
        m = self.programs[program]
        wanted = "recommended" if how in ("accept", "decline") else "active"
        rule_name = "P4" if wanted == "recommended" else "P5"
        others = [q for i, q in self.programs.items()
                  if q.client == m.client and q.status == "active" and i != program]
        verdict: Verdict = (("refused", rule_name) if m.status != wanted
                            else ("refused", "P5") if how == "accept" and others
                            else ("ok", DECISIONS[how][0]))
        call = getattr(self.ledger, f"{how}_program")
        self.act(verdict, lambda: call(program, on=self.on(0)))
        if verdict[0] == "ok":
            m.status = DECISIONS[how][1]

    @precondition(lambda self: self.programs)
    @rule(p=st.integers(0, 99), outcome=st.sampled_from(("continue", "new-program",
                                                         "discharge")))
    def reevaluate(self, p: int, outcome: str) -> None:
        program = self.pick(self.programs, p)
        m = self.programs[program]
        ends = () if outcome == "continue" else ("ProgramCompleted",)
        verdict: Verdict = (("refused", "P5") if m.status != "active"
                            else ("refused", "E1") if self.clients[m.client].status == "erased"
                            else ("ok", "ProgramReevaluated", *ends))
        self.act(verdict, lambda: self.ledger.reevaluate_program(
            program, findings="better", outcome=outcome, on=self.on(0)))
        if verdict[0] == "ok" and ends:
            m.status = "completed"

    # -- referrals --------------------------------------------------------------------------

    @precondition(lambda self: len(self.inbound) < 3)
    @rule()
    def receive_referral(self) -> None:
        ident = self.act(("ok", "ReferralReceived"), lambda: self.ledger.receive_referral(
            source="doctor", referrer="Dr K", prospect="Pat", on=self.on(0)))
        self.inbound[ident] = False

    @precondition(lambda self: self.clients)
    @rule(i=st.integers(0, 99), reason=st.sampled_from(CONDITIONS))
    def refer_out(self, i: int, reason: str) -> None:
        ident = self.pick(self.clients, i)
        c = self.clients[ident]
        verdict = self.client_checks(c, None) or ("ok", "ReferralMade")
        out = self.act(verdict, lambda: self.ledger.make_referral(
            ident, to="dr k", reason=reason, on=self.on(0)))
        if verdict[0] == "ok":
            linked = [v for k, v in c.open.items() if k == normalise_condition(reason)]
            self.outbound[out] = MReferral(ident, linked)

    @precondition(lambda self: self.outbound)
    @rule(r=st.integers(0, 99), cleared=st.booleans())
    def outcome(self, r: int, cleared: bool) -> None:
        ident = self.pick(self.outbound, r)
        m = self.outbound[ident]
        c = self.clients[m.client]
        linked = [n for n in m.linked if normalise_condition(n) in c.open]
        clears = (linked if m.linked else list(c.open.values())) if cleared else []
        verdict: Verdict = ("refused", "R3") if m.answered else (
            "ok", "ReferralOutcomeRecorded", *("ContraindicationCleared",) * len(clears))
        self.act(verdict, lambda: self.ledger.record_referral_outcome(
            ident, cleared=cleared, on=self.on(0)))
        if verdict[0] == "ok":
            m.answered = True
            for name in clears:
                c.open.pop(normalise_condition(name))

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def the_ledger_knows_what_the_model_knows(self) -> None:
        for ident, m in self.clients.items():
            client = self.ledger.client(ident)
            assert (client.status, set(client.open_contraindications)) == (m.status, set(m.open))
        for ident, p in self.programs.items():
            assert self.ledger.program(ident).status == p.status

    def check_replay(self) -> None:
        fresh = PracticeLedger(Settings(db_url=self.ledger.settings.db_url, actor="replay",
                                        zone=UTC_ZONE))
        try:
            for ident in [*self.clients, *self.programs, *self.inbound, *self.outbound]:
                replayed: Any = None
                for event in self.ledger.events.get(ident):
                    replayed = event.mutate(replayed)
                loaded = self.ledger.repository.get(ident)
                assert comparable(replayed) == comparable(loaded) == comparable(
                    fresh.repository.get(ident))
        finally:
            fresh.close()


def comparable(aggregate: Any) -> dict[str, Any]:
    state = aggregate.snapshot_state()
    if "closed_visit_ids" in state:  # a set: its order in a snapshot is not its meaning
        state["closed_visit_ids"] = sorted(state["closed_visit_ids"])
    return {"version": aggregate.version, **state}


@pytest.mark.parametrize("examples", quick_and_soak(50, 500))
def test_the_ledger_follows_the_rules_of_spec_section_2(examples: int) -> None:
    run_machine(LedgerMachine, settings=settings(
        max_examples=examples, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
