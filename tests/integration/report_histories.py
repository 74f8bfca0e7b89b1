"""Small hand-worked histories for the report tests, recorded through the application service.
Every date is fixed (UTC), so the expected figures in the tests can be worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from practice_es.application import PracticeLedger
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner


def at(text: str) -> datetime:
    """`2026-01-10 09:00` as a business time (the tests' practice zone is UTC)."""
    return datetime.fromisoformat(text.replace(" ", "T") + "+00:00")


def build_report(ledger: PracticeLedger, make: Any) -> Any:
    """Catch the live read models up and build a report from them, as the CLI does."""
    runner = ProjectionRunner(ledger, all_projections())
    try:
        runner.catch_up()
        with runner.engine.connect() as conn:
            return make(conn)
    finally:
        runner.close()


@dataclass
class Clinic:
    """The ids of the retention/referral history (see `record_clinic`)."""

    a: UUID
    b: UUID
    c: UUID
    d: UUID
    p1: UUID
    p2: UUID
    p3: UUID


def record_clinic(ledger: PracticeLedger) -> Clinic:
    """Three clients who come and go in early 2026, one prospect who never comes.

    A  referred by doctor "Dr Jones" (referral R1, converted); program P1 (relief, 3 visits at
       1/week) accepted; visits 01-10 (booked the next one at 10:30 that day), 02-05, 03-20;
       re-evaluated 03-20 with outcome discharge; referred out to dr jones, care report sent.
    B  referred by the advertising "flyer" (R3, converted); visit 01-20, next visit booked only
       the next day (not a rebooking) and cancelled; lapses at the 05-01 sweep; recalled by
       sms 05-03; walks in 05-10 (reactivated); program P3 recommended and accepted 05-10.
    C  names "DR JONES" as source at intake with no referral record; visits 02-03 (next one
       booked 18:00 that day: a rebooking) and 02-10 (next one booked and cancelled the same
       day: not a rebooking); program P2 recommended 02-03 and declined 02-04.
    D  intake 06-15 from an online source, no visit yet.
    R2 a second referral from dr jones (01-15) that never converted.
    Sweeps: 05-01 lapses B; 07-01 lapses A and C (D's intake is only 16 days old).
    """
    r1 = ledger.receive_referral(source="doctor", referrer="Dr Jones", prospect="Ann",
                                 on=at("2026-01-08 09:00"))
    ledger.receive_referral(source="doctor", referrer="dr jones ", prospect="Zed",
                            on=at("2026-01-15 09:00"))
    r3 = ledger.receive_referral(source="advertising", referrer="flyer", prospect="Bob",
                                 on=at("2026-01-18 09:00"))
    a = ledger.record_intake(name="Ann", referral_id=r1, on=at("2026-01-10 09:00"))
    ledger.record_assessment(a, findings="low back", measures={"pain": 7, "ndi": 40},
                             on=at("2026-01-10 09:30"))
    p1 = ledger.recommend_program(a, phase="relief", visits=3, per_week=1, goals=["walk"],
                                  rationale="acute", on=at("2026-01-10 09:40"))
    ledger.accept_program(p1, on=at("2026-01-10 09:45"))
    ledger.complete_visit(a, program=p1, measures={"pain": 6}, on=at("2026-01-10 10:00"))
    booked = ledger.schedule_visit(a, at=at("2026-02-05 10:00"), program=p1,
                                   on=at("2026-01-10 10:30"))
    ledger.make_referral(a, to="Dr Jones", reason="co-management", on=at("2026-01-12 09:00"))

    b = ledger.record_intake(name="Bob", referral_id=r3, on=at("2026-01-20 09:00"))
    ledger.complete_visit(b, on=at("2026-01-20 10:00"))
    b_next = ledger.schedule_visit(b, at=at("2026-01-27 10:00"), on=at("2026-01-21 09:00"))
    ledger.cancel_visit(b, visit_id=b_next, on=at("2026-01-26 09:00"))

    c = ledger.record_intake(name="Cat", referral_source="doctor", referrer="DR JONES",
                             on=at("2026-02-01 09:00"))
    ledger.complete_visit(c, on=at("2026-02-03 10:00"))
    ledger.record_assessment(c, findings="neck", on=at("2026-02-03 10:30"))
    p2 = ledger.recommend_program(c, phase="corrective", visits=6, per_week=1, goals=["turn"],
                                  rationale="chronic", on=at("2026-02-03 10:40"))
    ledger.decline_program(p2, on=at("2026-02-04 09:00"))
    c_next = ledger.schedule_visit(c, at=at("2026-02-10 10:00"), on=at("2026-02-03 18:00"))
    ledger.complete_visit(a, visit_id=booked, measures={"pain": 5}, on=at("2026-02-05 10:00"))
    ledger.make_referral(c, to="Dr Smith", reason="imaging", on=at("2026-02-04 09:00"))
    ledger.complete_visit(c, visit_id=c_next, on=at("2026-02-10 10:00"))
    c_again = ledger.schedule_visit(c, at=at("2026-02-17 10:00"), on=at("2026-02-10 11:00"))
    ledger.cancel_visit(c, visit_id=c_again, on=at("2026-02-10 15:00"))

    ledger.complete_visit(a, program=p1, measures={"pain": 3}, on=at("2026-03-20 10:00"))
    ledger.reevaluate_program(p1, findings="better", measures={"pain": 3, "ndi": 30},
                              outcome="discharge", on=at("2026-03-20 11:00"))
    ledger.send_care_report(_first_referral_out(a), summary="discharged",
                            on=at("2026-03-21 09:00"))

    ledger.sweep_lapses([a, b, c], as_of=date(2026, 5, 1))
    ledger.send_recall(b, channel="sms", on=at("2026-05-03 09:00"))
    ledger.complete_visit(b, on=at("2026-05-10 10:00"))
    ledger.record_assessment(b, findings="flare-up", measures={"pain": 6},
                             on=at("2026-05-10 10:30"))
    p3 = ledger.recommend_program(b, phase="relief", visits=6, per_week=2, goals=["sleep"],
                                  rationale="flare-up", on=at("2026-05-10 10:40"))
    ledger.accept_program(p3, on=at("2026-05-10 10:45"))
    d = ledger.record_intake(name="Dee", referral_source="online", on=at("2026-06-15 09:00"))
    ledger.sweep_lapses([a, b, c, d], as_of=date(2026, 7, 1))
    return Clinic(a, b, c, d, p1, p2, p3)


def _first_referral_out(client_id: UUID) -> UUID:
    from practice_es.domain.keys import outbound_referral_id

    return outbound_referral_id(client_id, 1)
