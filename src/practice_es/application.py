"""The PracticeLedger: one method per thing a practitioner does, over the event store.

Each method loads the aggregates it needs, lets the domain decide, and saves every new event
of the action in one transaction (a refused action saves nothing). Ids are made here, never in
the domain, so imports can derive them and tests can fix them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    OperationalError,
    PersistenceError,
    Recording,
)
from eventsourcing.utils import Environment, EnvType

from practice_es.domain.client import Client
from practice_es.domain.duplicates import KnownClient, check_not_duplicate
from practice_es.domain.errors import ConcurrentChange, InvalidInput, NotFound
from practice_es.domain.events import DomainEvent, PracticeAggregate, PracticeSnapshot, Stamp
from practice_es.domain.keys import normalise_condition, outbound_referral_id, program_id
from practice_es.domain.moments import check_booking, check_day_not_future, check_not_future
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.infrastructure.chain import RECORDER_TOPICS, unsynced_transaction
from practice_es.infrastructure.crypto import KeyStore, parse_master_key
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.store import StoreLocation, parse_store_url, prepare_sqlite_file
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper, Sealer

TAggregate = TypeVar("TAggregate", bound=PracticeAggregate)
Clock = Callable[[], datetime]
# Events of a client between snapshots: loading replays fewer than that after the latest (each
# about 17 µs; at 100, a client acted on between two snapshots took 1.7× a new client's CPU).
SNAPSHOT_EVERY = 10
# A client's past visits move out of its snapshot into an archive of their own (a row of the
# snapshot table, `archive_id`) once more than this many are not in one: a snapshot stays the
# size of a new client's, and the archive is written once per that many visits (ADR 16).
ARCHIVE_AFTER = 20
ARCHIVE_TOPIC = "practice:Archive"  # (no event's topic: a snapshot row's, never resolved)
DDL_ATTEMPTS = 5  # processes that collide on the store's DDL when they start retry (__init__)
_DDL_COLLISIONS = ("concurrently updated", "pg_type_typname_nsp_index")


def _ddl_collision(error: Exception) -> bool:
    return any(words in str(error) for words in _DDL_COLLISIONS)


class StoreUnavailable(InvalidInput):
    """The database cannot be opened or reached (exit code 2, nothing written)."""


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its `isinstance` check of each event
    against a runtime Protocol: typing's slow path took a quarter of loading a client."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _snapshot_statements(recorder: Any, backend: str) -> tuple[Any, Any]:
    """Insert a snapshot row; delete an aggregate's snapshots before a version."""
    if backend == "sqlite":
        table = recorder.events_table_name
        return (f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                f"DELETE FROM {table} WHERE originator_id = ? AND originator_version < ?")
    from psycopg.sql import SQL, Identifier

    name = SQL("{}.{}").format(Identifier(recorder.datastore.schema),
                               Identifier(recorder.events_table_name))
    return (SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)").format(name),
            SQL("DELETE FROM {} WHERE originator_id = %s AND originator_version < %s")
            .format(name))


def archive_id(ident: UUID) -> UUID:
    """The id under which an aggregate's archive is kept in the snapshot table."""
    return uuid5(ident, "archive")


class CurrentSnapshots(EventStore[UUID]):
    """The snapshot store, giving only snapshots of the shape this code stores: an aggregate
    whose latest snapshot is older replays from its events (a snapshot is a cache, ADR 16).
    Each snapshot it gives can read the aggregate's archive (`read_archive`)."""

    def __init__(self, mapper: PydanticMapper, recorder: Any, events: EventStore[UUID]) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.events = events

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        found = super().get(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        reader = partial(self.read_archive, originator_id)
        for snapshot in cast(Iterator[PracticeSnapshot], found):
            if snapshot.is_current:
                snapshot.read_archives_with(reader)
                yield snapshot

    def read_archive(self, ident: UUID, version: int) -> str:
        """The text an aggregate archived at `version`. A newer archive may have replaced it
        since its snapshot was read (or the table was cleared: a cache): then the events up
        to that version say the same."""
        found = self.recorder.select_events(archive_id(ident), gt=version - 1, lte=version)
        if found:
            return str(cast(PydanticMapper, self.mapper).decode_state(found[0])["text"])
        replayed = project(None, self.events.get(ident, lte=version))
        return str(replayed.past_visits.all_text())


class PracticeLedger(Application):  # type: ignore[type-arg]
    name = "practice"
    snapshotting_intervals = {Client: SNAPSHOT_EVERY}
    snapshotting_projectors = {Client: project}
    snapshot_class = PracticeSnapshot

    def __init__(self, settings: Settings | None = None, *, check_key: bool = True,
                 clock: Clock | None = None) -> None:
        """`check_key=False` opens the store without the master-key check, for `audit verify`:
        it hashes stored bytes and decodes nothing, so an auditor needs no key (ADR 8).
        `clock` tells the time (tests fix it); the default is the machine's."""
        self.settings = settings or Settings.from_env()
        self.clock: Clock = clock or partial(datetime.now, self.settings.zone)
        self._saving: dict[UUID, PracticeAggregate] = {}  # the aggregates `save` is saving
        self._due: list[PracticeAggregate] | None = None  # those its save snapshots
        self.location: StoreLocation = parse_store_url(self.settings.db_url)
        master = parse_master_key(self.settings.cipher_key) if self.settings.cipher_key else None
        if self.location.path is not None:
            prepare_sqlite_file(self.location.path)
        # Every start re-runs the store's idempotent DDL (eventsourcing's tables, type and
        # function, the snapshots, the key tables). On PostgreSQL processes starting at once can
        # collide on it: CREATE OR REPLACE FUNCTION ("tuple concurrently updated"), or two
        # CREATE TYPE/TABLE IF NOT EXISTS in a fresh schema (the loser's row in pg_type's unique
        # index). Running it again is safe (the winner's objects exist by then): retried.
        for attempt in range(1, DDL_ATTEMPTS + 1):
            try:
                super().__init__(env=self.location.env)
                self.keys = self._open_keys(master, check_key)
                return
            except (PersistenceError, sqlite3.DatabaseError) as error:
                self._close_partly_open()
                if attempt < DDL_ATTEMPTS and _ddl_collision(error):
                    continue
                # sqlite3's own error escapes eventsourcing when the file is not a database.
                raise StoreUnavailable("db", f"cannot open {self._safe_url()}: {error}") from None

    def _close_partly_open(self) -> None:
        """Close what an open that failed half way had opened (its connection pools)."""
        for part in ("recorder", "snapshots"):
            store = getattr(self, part, None)
            recorder = getattr(store, "recorder", store)
            datastore = getattr(recorder, "datastore", None)
            if datastore is not None:
                with contextlib.suppress(Exception):
                    datastore.close()

    def _safe_url(self) -> str:
        """The URL without its password, for messages."""
        url = self.location.url
        return url.split("@", 1)[-1] if "@" in url else url

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Only what the URL says: a stray variable in the shell must not move the ledger.
        settings = dict(env or {})
        settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        # The recorder keeps the audit hash chain in the insert transaction (ADR 0008).
        settings["APPLICATION_RECORDER_TOPIC"] = RECORDER_TOPICS[self.location.backend]
        if self.settings.cipher_key:
            # The `cryptography` AES-GCM (eventsourcing.cipher needs pycryptodome, not installed).
            settings["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
            settings["CIPHER_KEY"] = self.settings.cipher_key
        return Environment(name, settings)

    def _open_keys(self, master: bytes | None, check_key: bool = True) -> KeyStore:
        """Check the master key, then seal personal fields under per-person keys (ADR 9)."""
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        keys = KeyStore(datastore, self.location.backend, master)
        if not check_key:
            return keys  # no sealer either: this ledger reads stored bytes, never payloads
        try:
            keys.open(has_events=bool(self.recorder.max_notification_id()))
        except BaseException:
            self.close()
            raise
        cast(PydanticMapper, self.mapper).sealer = Sealer(keys, self._first_state)
        return keys

    def _first_state(self, ident: UUID) -> tuple[str, dict[str, Any]] | None:
        """The topic and stored state of an aggregate's first event (it names the client)."""
        stored = self.recorder.select_events(ident, limit=1)
        if not stored:
            return None
        return stored[0].topic, cast(PydanticMapper, self.mapper).decode_state(stored[0])

    def construct_mapper(self) -> PydanticMapper:
        return PydanticMapper(
            transcoder=OrjsonTranscoder(),
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
        )

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return CurrentSnapshots(cast(PydanticMapper, self.mapper), recorder, self.events)

    def take_snapshot(self, aggregate_id: UUID, version: int | None = None,
                      projector_func: Any = project) -> None:
        """Snapshot the aggregate: as it was just saved when the snapshot is due on a save
        (no reload), and in place of its older snapshots (`_replace_snapshots`)."""
        aggregate: Any = self._saving.get(aggregate_id)
        if aggregate is None or aggregate.version != version:
            aggregate = self.repository.get(aggregate_id, version=version,
                                            projector_func=projector_func)
        if self._due is not None:
            self._due.append(aggregate)  # written as the save ends
        else:
            self._replace_snapshots([aggregate])

    def _replace_snapshots(self, aggregates: Sequence[PracticeAggregate]) -> None:
        """Store the aggregates' snapshots, with the archives due (`ARCHIVE_AFTER`), and drop
        their older ones, in one transaction: loading reads only the latest, so the rest was
        storage growing with the square of a busy client's history, and each commit costs."""
        if not aggregates:
            return
        assert self.snapshots is not None
        recorder: Any = self.snapshots.recorder
        mapper = cast(PydanticMapper, self.mapper)
        insert, drop = _snapshot_statements(recorder, self.location.backend)
        sqlite = self.location.backend == "sqlite"  # (its recorder stores ids as hex text)
        rows: list[tuple[Any, int, str, bytes]] = []
        for aggregate in aggregates:
            archived = aggregate.archive(ARCHIVE_AFTER)  # (before the snapshot: it names it)
            stored = mapper.to_stored_event(PracticeSnapshot.take(aggregate))
            ident, version = aggregate.id, aggregate.version
            rows.append((ident.hex if sqlite else ident, version, stored.topic, stored.state))
            if archived is not None:
                archive = archive_id(ident)
                rows.append((archive.hex if sqlite else archive, version, ARCHIVE_TOPIC,
                             mapper.encode_state({"text": archived})))
        with self._unsynced_transaction(recorder.datastore) as cursor:
            cursor.executemany(insert, rows)
            cursor.executemany(drop, [row[:2] for row in rows])

    @contextlib.contextmanager
    def _unsynced_transaction(self, datastore: Any) -> Iterator[Any]:
        """A transaction whose commit does not wait for the disk: a snapshot is a cache of
        events already committed and synced, so a machine crash may lose it (loading then
        replays those events), never corrupt the store. A synced commit of a busy client's
        60 kB snapshot took 0.5-0.7 ms CPU, most of an action (ADR 16)."""
        if self.location.backend != "sqlite":
            with datastore.transaction(commit=True) as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                yield cursor
            return
        with unsynced_transaction(datastore) as cursor:
            yield cursor

    # -- time and who --------------------------------------------------------------------

    def stamp(self, on: datetime | None) -> Stamp:
        """Business time in the practice's zone (now, if not given) and the actor."""
        when = on or self.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.settings.zone)
        return Stamp(on=when.astimezone(self.settings.zone), actor=self.settings.actor)

    def now(self) -> datetime:
        return self.clock().astimezone(self.settings.zone)

    def fact(self, on: datetime | None) -> Stamp:
        """The stamp of a fact happening at `on` (now, if not given): T1, never later."""
        stamp = self.stamp(on or self.now())
        check_not_future("--on", stamp.on, self.now())
        return stamp

    def booking(self, at: datetime) -> datetime:
        """When a visit is booked for, in the practice's zone: at most two years ahead."""
        when = self.stamp(at).on
        check_booking("at", when, self.now())
        return when

    # -- loading and saving --------------------------------------------------------------

    def load(self, kind: type[TAggregate], ident: UUID, what: str) -> TAggregate:
        try:
            aggregate: object = self.repository.get(ident, projector_func=project)
        except AggregateNotFoundError:
            raise NotFound(what, ident) from None
        if not isinstance(aggregate, kind):
            raise NotFound(what, ident)
        return aggregate

    def exists(self, ident: UUID) -> bool:
        return bool(self.recorder.select_events(ident, limit=1))

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save every pending event in one transaction; a conflict is a ConcurrentChange.
        The snapshots due are written after, all in one more (a lapse sweep saves 500)."""
        self._saving = {obj.id: obj for obj in objs if isinstance(obj, PracticeAggregate)}
        self._due = []
        try:
            recordings = super().save(*objs, **kwargs)
            self._replace_snapshots(self._due)
            return recordings
        except IntegrityError:
            raise ConcurrentChange(
                "someone else changed the same record at the same moment; nothing was "
                "recorded, try again"
            ) from None
        except OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise ConcurrentChange(f"the ledger is busy ({error}); try again") from None
            raise
        finally:
            self._saving, self._due = {}, None

    def client(self, client_id: UUID) -> Client:
        return self.load(Client, client_id, "client")

    def program(self, ident: UUID) -> ProgramOfCare:
        return self.load(ProgramOfCare, ident, "program")

    def referral(self, ident: UUID) -> Referral:
        return self.load(Referral, ident, "referral")

    def _numbered(self, make_id: Any, client_id: UUID) -> Iterator[tuple[int, UUID]]:
        number = 1
        while True:
            yield number, make_id(client_id, number)
            number += 1

    def programs_of(self, client_id: UUID) -> list[ProgramOfCare]:
        """A client's programs, found by their derived ids (no scan of the log)."""
        found: list[ProgramOfCare] = []
        for _, ident in self._numbered(program_id, client_id):
            if not self.exists(ident):
                return found
            found.append(self.program(ident))
        return found  # pragma: no cover - the loop returns

    def _next_id(self, make_id: Any, client_id: UUID) -> tuple[int, UUID]:
        for number, ident in self._numbered(make_id, client_id):
            if not self.exists(ident):
                return number, ident
        raise AssertionError("unreachable")  # pragma: no cover

    # -- clients -------------------------------------------------------------------------

    def record_intake(
        self, *, on: datetime | None = None, client_id: UUID | None = None,
        referral_id: UUID | None = None, known: Iterable[KnownClient] = (),
        allow_duplicate: bool = False, **intake: Any,
    ) -> UUID:
        """Record a new client; naming a referral converts it in the same transaction (R1).
        `known`: the clients on record who may be the same person: D1 refuses the intake,
        unless `allow_duplicate` (kept on record: the user said it is another person)."""
        stamp = self.fact(on)
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
        client.update_contact(self.fact(on), name, email, phone)
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
        client.correct_entry(self.fact(on), original, changes, reason)
        self.save(client)
        return client_id

    def erase_client(self, client_id: UUID, *, reason: str, on: datetime | None = None) -> bool:
        """Right to erasure (ADR 9): destroy the keys of the client and of the referral they
        came by, then record ClientErased. Key first, so an interruption fails closed; running
        it again completes it. False if SQLite could not yet clear the old key from its WAL."""
        client = self.client(client_id)
        already = client.status == "erased"
        if not already:
            client.erase(self.fact(on), reason)
        clean = self.keys.destroy([client_id, *filter(None, [client.referral_id])])
        if not already:
            self.save(client)
        return clean

    def update_health_history(
        self, client_id: UUID, *, on: datetime | None = None, conditions: Sequence[str] = (),
        medications: Sequence[str] = (), contraindications: Sequence[str] = (),
    ) -> UUID:
        client = self.client(client_id)
        client.update_health_history(
            self.fact(on), list(conditions), list(medications), list(contraindications)
        )
        self.save(client)
        return client_id

    def record_assessment(
        self, client_id: UUID, *, findings: str, on: datetime | None = None,
        measures: dict[str, float] | None = None, contraindications: Sequence[str] = (),
    ) -> UUID:
        client = self.client(client_id)
        assessment_id = uuid4()
        client.record_assessment(self.fact(on), assessment_id, findings, measures or {},
                                 list(contraindications))
        self.save(client)
        return assessment_id

    def clear_contraindication(self, client_id: UUID, *, contraindication: str, by: str,
                               on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.clear_contraindication(self.fact(on), contraindication, by)
        self.save(client)
        return client_id

    def send_recall(self, client_id: UUID, *, channel: str, on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        recall_id = uuid4()
        client.send_recall(self.fact(on), recall_id, channel)
        self.save(client)
        return recall_id

    def sweep_lapses(self, client_ids: Sequence[UUID], *, as_of: date,
                     after_days: int = 90) -> list[UUID]:
        """C4: record `Lapsed` once for each of the given clients that has lapsed by `as_of`."""
        if after_days < 1:
            raise InvalidInput("after-days", f"must be at least 1, not {after_days}")
        check_day_not_future("--as-of", as_of, self.now().date())
        stamp = self.stamp(datetime.combine(as_of, datetime.min.time()))
        lapsed: list[Client] = []
        for client_id in client_ids:
            client = self.client(client_id)
            if client.record_lapse(stamp, as_of, after_days):
                lapsed.append(client)
        for start in range(0, len(lapsed), 500):
            self.save(*lapsed[start:start + 500])
        return [client.id for client in lapsed]

    # -- visits --------------------------------------------------------------------------

    def _program_for(self, program_ident: UUID | None) -> ProgramOfCare | None:
        return self.program(program_ident) if program_ident else None

    def schedule_visit(self, client_id: UUID, *, at: datetime, on: datetime | None = None,
                       program: UUID | None = None, visit_id: UUID | None = None) -> UUID:
        client = self.client(client_id)
        visit_id = visit_id or uuid4()
        client.schedule_visit(self.fact(on), visit_id, self.booking(at),
                              self._program_for(program))
        self.save(client)
        return visit_id

    def reschedule_visit(self, client_id: UUID, *, visit_id: UUID, at: datetime,
                         on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.reschedule_visit(self.fact(on), visit_id, self.booking(at))
        self.save(client)
        return visit_id

    def complete_visit(
        self, client_id: UUID, *, on: datetime | None = None, visit_id: UUID | None = None,
        program: UUID | None = None, measures: dict[str, float] | None = None,
        notes: str | None = None,
    ) -> UUID:
        """Complete a booked visit (`visit_id`, else the client's earliest open booking on
        that day) or a walk-in; reactivates a lapsed client (C5)."""
        client = self.client(client_id)
        stamp = self.fact(on)
        visit_id = visit_id or client.booking_on(stamp.day)
        booked = visit_id is not None
        visit_id = visit_id or uuid4()
        if program is None and visit_id in client.scheduled:
            # C3 holds for the program the visit was booked for, too: it must still be active.
            program = client.scheduled[visit_id].program_id
        client.complete_visit(stamp, visit_id, self._program_for(program),
                              measures or {}, notes, booked)
        self.save(client)
        return visit_id

    def cancel_visit(self, client_id: UUID, *, visit_id: UUID, reason: str | None = None,
                     on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.cancel_visit(self.fact(on), visit_id, reason)
        self.save(client)
        return visit_id

    def miss_visit(self, client_id: UUID, *, visit_id: UUID, reason: str | None = None,
                   on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        client.miss_visit(self.fact(on), visit_id, reason)
        self.save(client)
        return visit_id

    # -- programs of care ----------------------------------------------------------------

    def recommend_program(
        self, client_id: UUID, *, phase: str, visits: int, per_week: float,
        goals: Sequence[str], rationale: str, reevaluate_after: int | None = None,
        assessment_id: UUID | None = None, on: datetime | None = None,
    ) -> UUID:
        client = self.client(client_id)
        number, ident = self._next_id(program_id, client_id)
        program = ProgramOfCare.recommend(
            self.fact(on), client, ident, number, assessment_id, phase, visits, per_week,
            list(goals), rationale, reevaluate_after,
        )
        self.save(program)
        return program.id

    def accept_program(self, program_ident: UUID, *, on: datetime | None = None,
                       reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.accept(self.fact(on), self.programs_of(program.client_id), reason)
        self.save(program)
        return program.id

    def decline_program(self, program_ident: UUID, *, on: datetime | None = None,
                        reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.decline(self.fact(on), reason)
        self.save(program)
        return program.id

    def withdraw_program(self, program_ident: UUID, *, reason: str,
                         on: datetime | None = None) -> UUID:
        program = self.program(program_ident)
        program.withdraw(self.fact(on), reason)
        self.save(program)
        return program.id

    def complete_program(self, program_ident: UUID, *, on: datetime | None = None,
                         reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.complete(self.fact(on), reason)
        self.save(program)
        return program.id

    def discontinue_program(self, program_ident: UUID, *, on: datetime | None = None,
                            reason: str | None = None) -> UUID:
        program = self.program(program_ident)
        program.discontinue(self.fact(on), reason)
        self.save(program)
        return program.id

    def reevaluate_program(
        self, program_ident: UUID, *, findings: str, outcome: str,
        measures: dict[str, float] | None = None, on: datetime | None = None,
    ) -> UUID:
        program = self.program(program_ident)
        program.reevaluate(self.fact(on), findings, measures or {}, outcome)
        self.save(program)
        return program.id

    # -- referrals -----------------------------------------------------------------------

    def receive_referral(self, *, source: str, referrer: str, prospect: str,
                         on: datetime | None = None, referral_id: UUID | None = None) -> UUID:
        referral = Referral.receive(self.fact(on), referral_id or uuid4(), source, referrer,
                                    prospect)
        self.save(referral)
        return referral.id

    def make_referral(self, client_id: UUID, *, to: str, reason: str,
                      on: datetime | None = None) -> UUID:
        client = self.client(client_id)
        number, ident = self._next_id(outbound_referral_id, client_id)
        referral = Referral.make(self.fact(on), ident, number, client, to, reason)
        self.save(referral)
        return referral.id

    def record_referral_outcome(self, referral_ident: UUID, *, cleared: bool,
                                note: str | None = None, on: datetime | None = None) -> UUID:
        """A "cleared" answer also records ContraindicationCleared on the client, atomically."""
        stamp = self.fact(on)
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
        referral.send_care_report(self.fact(on), summary)
        self.save(referral)
        return referral.id
