"""The PracticeLedger: one method per thing a practitioner does, over the event store.

Each method loads the aggregates it needs, lets the domain decide, and saves every new event
of the action in one transaction (a refused action saves nothing). Ids are made here, never in
the domain, so imports can derive them and tests can fix them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID, uuid4

from practice_es.domain.client import Client
from practice_es.domain.duplicates import KnownClient, check_not_duplicate
from practice_es.domain.errors import ConcurrentChange, InvalidInput
from practice_es.domain.events import DomainEvent, PracticeSnapshot, Stamp
from practice_es.domain.keys import normalise_condition, outbound_referral_id, program_id
from practice_es.domain.moments import check_day_not_future
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.domain.retention import Destruction, RetentionRule
from practice_es.infrastructure.aggregates import AggregateStore
from practice_es.infrastructure.clock import BusinessTime, Clock
from practice_es.infrastructure.crypto import parse_master_key
from practice_es.infrastructure.rotation import (
    NEW_KEY_VARIABLE,
    Rotation,
    Step,
    rotate_master_key,
)
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.snapshots import SNAPSHOT_EVERY, project

SWEEP_ATTEMPTS = 5  # a lapse sweep that met a concurrent change reads its clients again
RETENTION_REASON = "retention"  # a retention sweep's erasures say so (SPEC §12)
# Who records, when it is not the settings' actor: the signed-in user of a web request.
_ACTING: ContextVar[str | None] = ContextVar("practice_acting", default=None)


class PracticeLedger(AggregateStore):
    name = "practice"
    snapshotting_intervals = {Client: SNAPSHOT_EVERY}
    snapshotting_projectors = {Client: project}
    snapshot_class = PracticeSnapshot

    def __init__(self, settings: Settings | None = None, *, check_key: bool = True,
                 create: bool = True, clock: Clock | None = None) -> None:
        """`clock` tells the time (tests fix it); the default is the machine's."""
        super().__init__(settings, check_key=check_key, create=create)
        self.time = BusinessTime(self.settings.zone, self._actor, clock)

    @contextlib.contextmanager
    def acting_as(self, actor: str) -> Iterator[None]:
        """Record what is done inside as done by `actor` (one web request's signed-in user)."""
        token = _ACTING.set(actor)
        try:
            yield
        finally:
            _ACTING.reset(token)

    def _actor(self) -> str:
        return _ACTING.get() or self.settings.actor

    def stamp(self, on: datetime | None) -> Stamp:
        return self.time.stamp(on)

    # -- loading --------------------------------------------------------------------------

    def client(self, client_id: UUID) -> Client:
        return self.load(Client, client_id, "client")

    def program(self, ident: UUID) -> ProgramOfCare:
        return self.load(ProgramOfCare, ident, "program")

    def referral(self, ident: UUID) -> Referral:
        return self.load(Referral, ident, "referral")

    def programs_of(self, client_id: UUID) -> list[ProgramOfCare]:
        """A client's programs, found by their derived ids (no scan of the log)."""
        return [self.program(ident) for ident in self.recorded_ids(program_id, client_id)]

    # -- clients -------------------------------------------------------------------------

    def record_intake(
        self, *, on: datetime | None = None, client_id: UUID | None = None,
        referral_id: UUID | None = None, known: Iterable[KnownClient] = (),
        allow_duplicate: bool = False, **intake: Any,
    ) -> UUID:
        """Record a new client; naming a referral converts it in the same transaction (R1).
        `known`: the clients on record who may be the same person: D1 refuses the intake,
        unless `allow_duplicate` (kept on record: the user said it is another person)."""
        stamp = self.time.fact(on)
        if allow_duplicate:
            intake["duplicate_allowed"] = True
        else:
            check_not_duplicate(str(intake.get("name") or ""), intake.get("date_of_birth"),
                                intake.get("email"), known)
        referral = self.referral(referral_id) if referral_id else None
        if referral is not None:
            # The intake counts for the referral's source unless it names its own.
            intake["referral_source"] = intake.get("referral_source") or referral.source_kind
            intake["referrer"] = intake.get("referrer") or referral.referrer
        client = Client.record_intake(stamp, client_id or uuid4(), referral_id=referral_id,
                                      **intake)
        if referral is None:
            self.save(client)
        else:
            referral.convert(stamp, client.id)
            self.save(client, referral)
        return client.id

    def update_contact(self, client_id: UUID, *, on: datetime | None = None,
                       name: str | None = None, email: str | None = None,
                       phone: str | None = None) -> UUID:
        client = self.client(client_id)
        client.update_contact(self.time.fact(on), name, email, phone)
        self.save(client)
        return client_id

    def correct_entry(self, client_id: UUID, *, version: int, changes: dict[str, str],
                      reason: str, on: datetime | None = None) -> UUID:
        """Record EntryCorrected for the client's entry at `version` (domain/corrections.py)."""
        client = self.client(client_id)
        stored = self.recorder.select_events(client_id, gt=version - 1, lte=version)
        if not stored:
            raise InvalidInput("version", f"client {client_id} has no entry {version}")
        original = cast(DomainEvent, self.mapper.to_domain_event(stored[0]))
        client.correct_entry(self.time.fact(on), original, changes, reason)
        self.save(client)
        return client_id

    def erase_client(self, client_id: UUID, *, reason: str, on: datetime | None = None) -> bool:
        """Right to erasure (ADR 9): destroy the keys of the client and of the referral they
        came by, then record ClientErased. Key first, so an interruption fails closed; running
        it again completes it. False if SQLite could not yet clear the old key from its WAL."""
        return self._erase(self.client(client_id), reason, self.time.fact(on))

    def _erase(self, client: Client, reason: str, stamp: Stamp) -> bool:
        already = client.status == "erased"
        if not already:
            client.erase(stamp, reason)
        clean = self.keys.destroy([client.id, *filter(None, [client.referral_id])])
        if not already:
            self.save(client)
        return clean

    def sweep_retention(self, candidates: Iterable[tuple[UUID, date]], rule: RetentionRule,
                        *, as_of: date, dry_run: bool = False) -> Iterator[Destruction]:
        """Erase (reason `retention`) each candidate `rule` says is due on `as_of`, one client
        after another, yielding each once its erasure is recorded: a sweep stopped half way
        has erased exactly the clients it yielded, and running it again finishes it."""
        stamp = self.time.fact(None)
        check_day_not_future("--as-of", as_of, stamp.day)
        for client_id, last_activity in candidates:
            client = self.client(client_id)
            if rule.is_due(client, last_activity, as_of):
                if not dry_run:
                    self._erase(client, RETENTION_REASON, stamp)
                yield Destruction(client_id, last_activity, None if dry_run else stamp.day)

    def rotate_master_key(self, new_key: str, after_step: Step | None = None) -> Rotation:
        """Re-wrap the ledger's keys from PRACTICE_CIPHER_KEY to `new_key` (ADR 19). The
        ledger must be opened with `check_key=False`: half way, the check says the old key."""
        new = parse_master_key(new_key, NEW_KEY_VARIABLE)
        return rotate_master_key(self.keys, new, after_step=after_step)

    def update_health_history(
        self, client_id: UUID, *, on: datetime | None = None, conditions: Sequence[str] = (),
        medications: Sequence[str] = (), contraindications: Sequence[str] = (),
    ) -> UUID:
        client = self.client(client_id)
        client.update_health_history(
            self.time.fact(on), list(conditions), list(medications), list(contraindications)
        )
        self.save(client)
        return client_id

    def record_assessment(
        self, client_id: UUID, *, findings: str, on: datetime | None = None,
        measures: dict[str, float] | None = None, contraindications: Sequence[str] = (),
    ) -> UUID:
        client = self.client(client_id)
        assessment_id = uuid4()
        client.record_assessment(self.time.fact(on), assessment_id, findings, measures or {},
                                 list(contraindications))
        self.save(client)
        return assessment_id

    def clear_contraindication(self, client_id: UUID, *, contraindication: str, by: str,
                               on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.clear_contraindication(self.time.fact(on), contraindication, by)
        self.save(client)
        return client_id

    def send_recall(self, client_id: UUID, *, channel: str, on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        recall_id = uuid4()
        client.send_recall(self.time.fact(on), recall_id, channel)
        self.save(client)
        return recall_id

    def sweep_lapses(self, client_ids: Sequence[UUID], *, as_of: date,
                     after_days: int = 90) -> list[UUID]:
        """C4: record `Lapsed` once for each of the given clients that has lapsed by `as_of`."""
        if after_days < 1:
            raise InvalidInput("after-days", f"must be at least 1, not {after_days}")
        check_day_not_future("--as-of", as_of, self.time.now().date())
        stamp = self.stamp(datetime.combine(as_of, datetime.min.time()))
        attempts = 0
        while True:
            # One transaction: a sweep records every lapse or none. A conflict means a client
            # changed meanwhile (a visit completed): read them all again and decide again.
            lapsed = [client for client in map(self.client, client_ids)
                      if client.record_lapse(stamp, as_of, after_days)]
            try:
                if lapsed:
                    self.save(*lapsed)
            except ConcurrentChange:
                attempts += 1
                if attempts == SWEEP_ATTEMPTS:
                    raise
                continue
            return [client.id for client in lapsed]

    # -- visits --------------------------------------------------------------------------

    def _program_for(self, program_ident: UUID | None) -> ProgramOfCare | None:
        return self.program(program_ident) if program_ident else None

    def schedule_visit(self, client_id: UUID, *, at: datetime, on: datetime | None = None,
                       program: UUID | None = None, visit_id: UUID | None = None,
                       practitioner: str | None = None) -> UUID:
        client = self.client(client_id)
        visit_id = visit_id or uuid4()
        client.schedule_visit(self.time.fact(on), visit_id, self.time.booking(at),
                              self._program_for(program), practitioner)
        self.save(client)
        return visit_id

    def reschedule_visit(self, client_id: UUID, *, visit_id: UUID, at: datetime,
                         on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.reschedule_visit(self.time.fact(on), visit_id, self.time.booking(at))
        self.save(client)
        return visit_id

    def complete_visit(
        self, client_id: UUID, *, on: datetime | None = None, visit_id: UUID | None = None,
        program: UUID | None = None, measures: dict[str, float] | None = None,
        notes: str | None = None, practitioner: str | None = None,
    ) -> UUID:
        """Complete a booked visit (`visit_id`, else the client's earliest open booking on
        that day) or a walk-in; reactivates a lapsed client (C5). Who treated is the
        `practitioner` given, else whom the visit was booked with."""
        client = self.client(client_id)
        stamp = self.time.fact(on)
        visit_id = visit_id or client.booking_on(stamp.day)
        booked = visit_id is not None
        visit_id = visit_id or uuid4()
        if program is None and visit_id in client.scheduled:
            # C3 holds for the program the visit was booked for, too: it must still be active.
            program = client.scheduled[visit_id].program_id
        client.complete_visit(stamp, visit_id, self._program_for(program),
                              measures or {}, notes, booked, practitioner)
        self.save(client)
        return visit_id

    def cancel_visit(self, client_id: UUID, *, visit_id: UUID, reason: str | None = None,
                     on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.cancel_visit(self.time.fact(on), visit_id, reason)
        self.save(client)
        return visit_id

    def miss_visit(self, client_id: UUID, *, visit_id: UUID, reason: str | None = None,
                   on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.miss_visit(self.time.fact(on), visit_id, reason)
        self.save(client)
        return visit_id

    # -- programs of care ----------------------------------------------------------------

    def recommend_program(
        self, client_id: UUID, *, phase: str, visits: int, per_week: float,
        goals: Sequence[str], rationale: str, reevaluate_after: int | None = None,
        assessment_id: UUID | None = None, on: datetime | None = None,
    ) -> UUID:
        client = self.client(client_id)
        number, ident = self.next_free_id(program_id, client_id)
        program = ProgramOfCare.recommend(
            self.time.fact(on), client, ident, number, assessment_id, phase, visits, per_week,
            list(goals), rationale, reevaluate_after,
        )
        self.save(program)
        return program.id

    def accept_program(self, program_ident: UUID, *, on: datetime | None = None,
                       reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.accept(self.time.fact(on), self.programs_of(program.client_id), reason)
        self.save(program)
        return program.id

    def decline_program(self, program_ident: UUID, *, on: datetime | None = None,
                        reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.decline(self.time.fact(on), reason)
        self.save(program)
        return program.id

    def withdraw_program(self, program_ident: UUID, *, reason: str,
                         on: datetime | None = None) -> UUID:
        program = self.program(program_ident)
        program.withdraw(self.time.fact(on), reason)
        self.save(program)
        return program.id

    def complete_program(self, program_ident: UUID, *, on: datetime | None = None,
                         reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.complete(self.time.fact(on), reason)
        self.save(program)
        return program.id

    def discontinue_program(self, program_ident: UUID, *, on: datetime | None = None,
                            reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.discontinue(self.time.fact(on), reason)
        self.save(program)
        return program.id

    def reevaluate_program(
        self, program_ident: UUID, *, findings: str, outcome: str,
        measures: dict[str, float] | None = None, on: datetime | None = None,
    ) -> UUID:
        program = self.program(program_ident)
        program.reevaluate(self.time.fact(on), findings, measures or {}, outcome)
        self.save(program)
        return program.id

    # -- referrals -----------------------------------------------------------------------

    def receive_referral(self, *, source: str, referrer: str, prospect: str,
                         on: datetime | None = None, referral_id: UUID | None = None) -> UUID:
        referral = Referral.receive(self.time.fact(on), referral_id or uuid4(), source, referrer,
                                    prospect)
        self.save(referral)
        return referral.id

    def make_referral(self, client_id: UUID, *, to: str, reason: str,
                      on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        number, ident = self.next_free_id(outbound_referral_id, client_id)
        referral = Referral.make(self.time.fact(on), ident, number, client, to, reason)
        self.save(referral)
        return referral.id

    def record_referral_outcome(self, referral_ident: UUID, *, cleared: bool,
                                note: str | None = None, on: datetime | None = None) -> UUID:
        """A "cleared" answer also records ContraindicationCleared on the client, atomically."""
        stamp = self.time.fact(on)
        referral = self.referral(referral_ident)
        named = referral.record_outcome(stamp, cleared, note)
        if not cleared or referral.client_id is None:
            self.save(referral)
            return referral.id
        client = self.client(referral.client_id)
        still_open = client.open_contraindications
        # Clear what the referral was for and is still open (it may have been cleared since).
        to_clear = ([c for c in named if normalise_condition(c) in still_open] if named
                    else list(still_open.values()))
        provider = referral.provider or "provider"
        for contraindication in to_clear:
            client.clear_contraindication(stamp, contraindication, provider)
        self.save(referral, client)
        return referral.id

    def send_care_report(self, referral_ident: UUID, *, summary: str,
                         on: datetime | None = None) -> UUID:
        referral = self.referral(referral_ident)
        referral.send_care_report(self.time.fact(on), summary)
        self.save(referral)
        return referral.id
