"""A desk playing random valid steps on a fresh ledger (SQLite, or a PostgreSQL schema
dropped after), for the properties that compare read models and reports built two ways."""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

from practice_es.application import PracticeLedger
from practice_es.domain.errors import PracticeError
from practice_es.domain.keys import outbound_referral_id
from practice_es.infrastructure.settings import Settings
from tests.conftest import fixed_clock

POSTGRES_URL = os.environ.get("PRACTICE_TEST_POSTGRES_URL", "")
OPS = ("intake", "walk_in", "book", "attend", "cancel", "no_show", "sweep", "recall",
       "program", "reevaluate", "referral", "refer_out", "care_report", "correct",
       "contact", "history", "erase")
STEPS = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 3), st.integers(0, 25)),
                 min_size=1, max_size=25)
START = date(2026, 1, 1)


@contextmanager
def fresh_ledger(backend: str, sealed: bool = False) -> Iterator[PracticeLedger]:
    """A new, empty ledger for one example (a temporary file, or a schema dropped after),
    its personal data sealed at rest when `sealed`."""
    key = base64.b64encode(os.urandom(32)).decode() if sealed else None
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder, _opened(f"sqlite:///{folder}/p.db",
                                                              key) as ledger:
            yield ledger
        return
    import psycopg

    base = POSTGRES_URL.split("?")[0]
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    schema = f"practice_prop_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with _opened(f"{base}?schema={schema}", key) as ledger:
            yield ledger
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def _opened(url: str, key: str | None) -> Iterator[PracticeLedger]:
    ledger = PracticeLedger(Settings(db_url=url, actor="t", cipher_key=key), clock=fixed_clock)
    try:
        yield ledger
    finally:
        ledger.close()


class Desk:
    """Plays one step at a time, choosing among what exists; refusals are simply skipped."""

    def __init__(self, ledger: PracticeLedger) -> None:
        self.ledger = ledger
        self.day = START
        self.minute = 0
        self.clients: list[uuid.UUID] = []
        self.booked: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.programs: dict[uuid.UUID, uuid.UUID] = {}
        self.referrals: list[uuid.UUID] = []

    def when(self) -> datetime:
        self.minute += 7
        return datetime.combine(self.day, time(8)) + timedelta(minutes=self.minute)

    def play(self, op: str, pick: int, gap: int) -> None:
        self.day += timedelta(days=gap)
        self.minute = 0
        if op not in ("intake", "referral", "sweep") and not self.clients:
            return
        client = self.clients[pick % len(self.clients)] if self.clients else None
        # A refusal (e.g. a second active program, P5) records nothing: skip the step.
        with contextlib.suppress(PracticeError):
            getattr(self, f"_{op}")(client, pick)

    def _intake(self, _: Any, pick: int) -> None:
        referral = self.referrals.pop() if self.referrals and pick % 2 else None
        source = ("doctor", "client", "online", None)[pick]
        client = self.ledger.record_intake(
            name=f"client {len(self.clients)}", referral_id=referral, on=self.when(),
            referral_source=None if referral else source,
            referrer="dr a" if source == "doctor" and not referral else None)
        self.clients.append(client)

    def _walk_in(self, client: uuid.UUID, pick: int) -> None:
        self.ledger.complete_visit(client, measures={"pain": pick + 2}, on=self.when(),
                                   program=self.programs.get(client) if pick % 2 else None)

    def _book(self, client: uuid.UUID, pick: int) -> None:
        at = datetime.combine(self.day + timedelta(days=3 * pick + 1), time(10))
        visit = self.ledger.schedule_visit(client, at=at, on=self.when(),
                                           program=self.programs.get(client))
        self.booked.setdefault(client, []).append(visit)

    def _close(self, client: uuid.UUID, how: str) -> None:
        if self.booked.get(client):
            getattr(self.ledger, how)(client, visit_id=self.booked[client].pop(0),
                                      on=self.when())

    def _attend(self, client: uuid.UUID, _: int) -> None:
        self._close(client, "complete_visit")

    def _cancel(self, client: uuid.UUID, _: int) -> None:
        self._close(client, "cancel_visit")

    def _no_show(self, client: uuid.UUID, _: int) -> None:
        self._close(client, "miss_visit")

    def _sweep(self, _: Any, pick: int) -> None:
        self.ledger.sweep_lapses(self.clients, as_of=self.day, after_days=20 + pick * 10)

    def _recall(self, client: uuid.UUID, _: int) -> None:
        self.ledger.send_recall(client, channel="sms", on=self.when())

    def _program(self, client: uuid.UUID, pick: int) -> None:
        self.ledger.record_assessment(client, findings="f", measures={"pain": 8},
                                      on=self.when())
        program = self.ledger.recommend_program(
            client, phase="relief", visits=pick + 2, per_week=pick + 1, goals=["g"],
            rationale="r", reevaluate_after=1 + pick % 2, on=self.when())
        if pick == 3:
            self.ledger.decline_program(program, on=self.when())
            return
        if client in self.programs:  # a second one while the first is active: a mistake
            self.ledger.withdraw_program(program, reason="entered twice", on=self.when())
            return
        self.ledger.accept_program(program, reason="wants it" if pick else None,
                                   on=self.when())
        self.programs[client] = program

    def _reevaluate(self, client: uuid.UUID, pick: int) -> None:
        if client in self.programs:
            outcome = ("continue", "new-program", "discharge", "continue")[pick]
            self.ledger.reevaluate_program(self.programs[client], findings="f",
                                           measures={"pain": 3}, outcome=outcome,
                                           on=self.when())
            if outcome != "continue":
                del self.programs[client]

    def _referral(self, _: Any, pick: int) -> None:
        self.referrals.append(self.ledger.receive_referral(
            source=("doctor", "advertising", "client", "other")[pick],
            referrer=f"ref {pick}", prospect="p", on=self.when()))

    def _refer_out(self, client: uuid.UUID, pick: int) -> None:
        self.ledger.make_referral(client, to=f"dr {pick}", reason="check", on=self.when())

    def _care_report(self, client: uuid.UUID, pick: int) -> None:
        """To the provider the client was referred out to, or back to who referred them."""
        inbound = self.ledger.client(client).referral_id
        referral = inbound if pick % 2 and inbound else outbound_referral_id(client, 1)
        self.ledger.send_care_report(referral, summary="s", on=self.when())

    def _contact(self, client: uuid.UUID, pick: int) -> None:
        self.ledger.update_contact(client, name=f"renamed {pick}", email=f"c{pick}@example.org",
                                   phone=None if pick % 2 else "555-0100", on=self.when())

    def _history(self, client: uuid.UUID, pick: int) -> None:
        self.ledger.update_health_history(client, conditions=[f"condition {pick}"],
                                          contraindications=["dvt"] if pick % 2 else [],
                                          on=self.when())

    def _erase(self, client: uuid.UUID, pick: int) -> None:
        if pick == 3:  # now and then: most examples keep their clients
            self.ledger.erase_client(client, reason="asked", on=self.when())


    def _correct(self, client: uuid.UUID, pick: int) -> None:
        """Correct one of the client's completed visits (its date and a measure), or else
        the name, e-mail or phone of their intake or of a contact update."""
        stored = self.ledger.recorder.select_events(client)
        versions = [e.originator_version for e in stored if e.topic.endswith(".VisitCompleted")]
        if pick % 2:
            contact = [e.originator_version for e in stored
                       if e.topic.endswith((".IntakeRecorded", ".ContactUpdated"))]
            field = ("name", "email", "phone", "name")[pick]
            value = {"name": f"corrected {pick}", "email": f"k{pick}@example.org",
                     "phone": f"555-01{pick}"}[field]
            self.ledger.correct_entry(client, version=contact[pick // 2 % len(contact)],
                                      reason="typo", changes={field: value}, on=self.when())
        elif versions:
            day = self.day - timedelta(days=pick * 5)
            self.ledger.correct_entry(
                client, version=versions[pick % len(versions)], reason="wrong day",
                changes={"occurred_on": f"{day}T09:00", "measures.pain": str(pick)},
                on=self.when())
