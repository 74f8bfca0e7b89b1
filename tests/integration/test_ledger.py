"""The ledger on a real store, SQLite and PostgreSQL alike (the `db_url` fixture)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Recording

from practice_es.application import PracticeLedger
from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput, NotFound, RuleRefused
from practice_es.domain.events import PracticeSnapshot
from practice_es.domain.keys import program_id
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.snapshots import (
    ARCHIVE_AFTER,
    ARCHIVE_TOPIC,
    SNAPSHOT_EVERY,
    archive_id,
)
from tests.conftest import count_events, fixed_clock

# The events SPEC §2 names (EntryCorrected and erasure belong to later issues).
SPEC_EVENTS = {
    "IntakeRecorded", "ContactUpdated", "HealthHistoryUpdated", "AssessmentRecorded",
    "ContraindicationCleared", "VisitScheduled", "VisitRescheduled", "VisitCancelled",
    "VisitMissed", "VisitCompleted", "Lapsed", "RecallSent", "Reactivated",
    "ProgramRecommended", "ProgramAccepted", "ProgramDeclined", "ProgramReevaluated",
    "ProgramCompleted", "ProgramDiscontinued",
    "ReferralReceived", "ReferralConverted", "ReferralMade", "ReferralOutcomeRecorded",
    "CareReportSent",
}


def on(text: str) -> datetime:
    return datetime.fromisoformat(text)


def open_ledger(db_url: str) -> PracticeLedger:
    return PracticeLedger(Settings(db_url=db_url, actor="tester"), clock=fixed_clock)


def spy_on_saves(ledger: PracticeLedger) -> list[DomainEventProtocol[Any]]:
    """Every event the ledger saves, in the order it saved them."""
    saved: list[DomainEventProtocol[Any]] = []
    original: Callable[..., list[Recording[UUID]]] = ledger.save

    def save(*objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = original(*objs, **kwargs)
        saved.extend(r.domain_event for r in recordings)
        return recordings

    ledger.save = save  # type: ignore[method-assign]
    return saved


def program_of(ledger: PracticeLedger, client: UUID, when: str, **fields: Any) -> UUID:
    values: dict[str, Any] = {"phase": "relief", "visits": 4, "per_week": 2.0,
                              "goals": ["sleep through the night"], "rationale": "acute pain"}
    values.update(fields)
    return ledger.recommend_program(client, on=on(when), **values)


def every_kind_of_event(ledger: PracticeLedger) -> UUID:
    """A client's story that records each event of SPEC §2 at least once."""
    inbound = ledger.receive_referral(source="doctor", referrer=" Dr  Jones ", prospect="Ann",
                                      on=on("2026-01-02"))
    client = ledger.record_intake(
        name="Ann Smith", date_of_birth=date(1980, 2, 29), email="ann@example.org",
        reasons=["neck pain"], goals=["sleep"], conditions=["migraine"],
        contraindications=["whiplash"], referral_id=inbound, on=on("2026-01-05T09:00"))
    ledger.update_contact(client, phone="555-0101", on=on("2026-01-05"))
    ledger.update_health_history(client, medications=["ibuprofen"], on=on("2026-01-05"))
    ledger.record_assessment(client, findings="reduced rotation", measures={"pain": 6.5},
                             on=on("2026-01-05"))
    outbound = ledger.make_referral(client, to="Dr Jones", reason="whiplash", on=on("2026-01-05"))
    ledger.record_referral_outcome(outbound, cleared=True, note="x-ray clear",
                                   on=on("2026-01-09"))
    ledger.send_care_report(outbound, summary="progressing", on=on("2026-02-01"))
    declined = program_of(ledger, client, "2026-01-10")
    ledger.decline_program(declined, reason="too many visits", on=on("2026-01-10"))
    completed = program_of(ledger, client, "2026-01-11", visits=2)
    ledger.accept_program(completed, on=on("2026-01-11"))
    ledger.reevaluate_program(completed, findings="better", measures={"pain": 3},
                              outcome="continue", on=on("2026-01-20"))
    ledger.complete_program(completed, reason="goals met", on=on("2026-01-25"))
    stopped = program_of(ledger, client, "2026-01-26", phase="maintenance")
    ledger.accept_program(stopped, on=on("2026-01-26"))
    ledger.discontinue_program(stopped, reason="moved", on=on("2026-01-27"))
    visit = ledger.schedule_visit(client, at=on("2026-01-12T10:00"), on=on("2026-01-10"))
    ledger.reschedule_visit(client, visit_id=visit, at=on("2026-01-13T10:00"),
                            on=on("2026-01-11"))
    ledger.cancel_visit(client, visit_id=visit, reason="ill", on=on("2026-01-12"))
    missed = ledger.schedule_visit(client, at=on("2026-01-14T10:00"), on=on("2026-01-12"))
    ledger.miss_visit(client, visit_id=missed, on=on("2026-01-14"))
    kept = ledger.schedule_visit(client, at=on("2026-01-15T10:00"), on=on("2026-01-14"))
    ledger.complete_visit(client, visit_id=kept, measures={"pain": 4}, notes="good",
                          on=on("2026-01-15T10:40"))
    ledger.sweep_lapses([client], as_of=date(2026, 6, 1))
    ledger.send_recall(client, channel="sms", on=on("2026-06-02"))
    ledger.complete_visit(client, on=on("2026-06-10"))
    return client


# -- the store -------------------------------------------------------------------------------

def test_the_store_round_trips_every_event_type(db_url: str) -> None:
    ledger = open_ledger(db_url)
    saved = spy_on_saves(ledger)
    every_kind_of_event(ledger)
    ledger.close()
    reader = open_ledger(db_url)
    try:
        stored = reader.recorder.select_notifications(start=1, limit=1000)
        read_back = [reader.mapper.to_domain_event(n) for n in stored]
    finally:
        reader.close()
    assert {type(e).__name__ for e in read_back} >= SPEC_EVENTS
    assert read_back == saved  # every field, type and time zone survives the store


def test_stored_topics_are_the_stable_explicit_topics(ledger: PracticeLedger) -> None:
    client = ledger.record_intake(name="Ann Smith")
    ledger.complete_visit(client)
    topics = [e.topic for e in ledger.recorder.select_events(client)]
    assert topics == ["practice:Client.IntakeRecorded", "practice:Client.VisitCompleted"]


def test_replay_gives_the_state_the_actions_built(db_url: str) -> None:
    ledger = open_ledger(db_url)
    client = every_kind_of_event(ledger)
    ledger.close()
    reopened = open_ledger(db_url)
    try:
        found = reopened.client(client)
        assert (found.status, found.completed_visits, found.phone) == ("active", 2, "555-0101")
        assert found.open_contraindications == {}
        assert found.referrer == "dr jones"
        assert [p.status for p in reopened.programs_of(client)] == [
            "declined", "completed", "discontinued"]
    finally:
        reopened.close()


FIRST_VISIT = on("2025-01-02T09:00+00:00")


def frequent_visitor(ledger: PracticeLedger, visits: int) -> UUID:
    """A client with `visits` completed visits, a week apart, and one cancelled."""
    client = ledger.record_intake(name="Frequent Flyer", on=on("2025-01-01"))
    booked = ledger.schedule_visit(client, at=on("2025-01-02T09:00"), on=on("2025-01-01"))
    ledger.cancel_visit(client, visit_id=booked, on=on("2025-01-01"))
    for week in range(visits):
        ledger.complete_visit(client, on=FIRST_VISIT + timedelta(weeks=week))
    return client


def replay_of(ledger: PracticeLedger, client: UUID) -> Client:
    replayed: Any = None
    for event in ledger.events.get(client):
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert isinstance(replayed, Client)
    return replayed


def test_a_client_of_many_events_loads_from_its_latest_snapshot_the_only_one_kept(
        db_url: str) -> None:
    ledger = open_ledger(db_url)
    client = frequent_visitor(ledger, 10 * SNAPSHOT_EVERY + 5)  # 3 events, then the visits
    ledger.close()
    fresh = open_ledger(db_url)
    try:
        assert fresh.snapshots is not None
        # The older ones were dropped as each was taken.
        assert [s.originator_version for s in fresh.snapshots.get(client)] == [10 * SNAPSHOT_EVERY]
        read_after: list[int | None] = []
        events = fresh.repository.event_store
        original_get = events.get

        def get(*args: Any, **kwargs: Any) -> Any:
            read_after.append(kwargs.get("gt"))
            return original_get(*args, **kwargs)

        events.get = get  # type: ignore[method-assign]
        loaded = fresh.client(client)
        events.get = original_get  # type: ignore[method-assign]
        assert read_after == [10 * SNAPSHOT_EVERY]  # only the events after the snapshot
        replayed = replay_of(fresh, client)
        assert loaded.version == replayed.version == 10 * SNAPSHOT_EVERY + 8
        fields = list(Client.State.model_fields)
        assert {f: getattr(loaded, f) for f in fields} == {f: getattr(replayed, f) for f in fields}
        assert (loaded.created_on, loaded.modified_on) == (replayed.created_on,
                                                           replayed.modified_on)
        assert loaded.completed_visits == 10 * SNAPSHOT_EVERY + 5
    finally:
        fresh.close()


def test_a_lapse_sweep_snapshots_each_client_it_brings_to_the_interval(db_url: str) -> None:
    """One save of many clients: the snapshots due are written together, each of the client
    as saved, and load as a replay of its events does."""
    ledger = open_ledger(db_url)
    try:
        clients = [frequent_visitor(ledger, SNAPSHOT_EVERY - 4) for _ in range(3)]
        assert ledger.sweep_lapses(clients, as_of=date(2027, 1, 1)) == clients
        assert ledger.snapshots is not None
        for client in clients:  # the Lapsed event is each one's SNAPSHOT_EVERY-th
            [snapshot] = ledger.snapshots.get(client)
            assert snapshot.originator_version == SNAPSHOT_EVERY
            assert ledger.client(client).snapshot_state() == replay_of(
                ledger, client).snapshot_state()
    finally:
        ledger.close()


def test_a_busy_client_s_past_visits_are_archived_out_of_its_snapshot(db_url: str) -> None:
    """The snapshot keeps only the visits closed since the archive (a new client's size);
    V1 and corrections still see every visit, from the archive or, were it gone, from the
    events (ADR 16, third round)."""
    visits = 3 * ARCHIVE_AFTER + 7
    ledger = open_ledger(db_url)
    try:
        client = frequent_visitor(ledger, visits)
        assert ledger.snapshots is not None
        recorder: Any = ledger.snapshots.recorder
        [snapshot] = recorder.select_events(client)
        [archive] = recorder.select_events(archive_id(client))
        assert archive.topic == ARCHIVE_TOPIC and len(snapshot.state) < 2500
        loaded, replayed = ledger.client(client), replay_of(ledger, client)
        assert loaded.past_visits.archived == archive.originator_version
        assert loaded.snapshot_state() == replayed.snapshot_state()
        booked = next(e for e in ledger.events.get(client, lte=2)
                      if isinstance(e, Client.VisitScheduled)).visit_id
        with pytest.raises(RuleRefused, match="V1"):  # cancelled long before the archive
            ledger.cancel_visit(client, visit_id=booked, on=on("2027-01-01"))
        table: Any = recorder.events_table_name
        delete = f"DELETE FROM {table} WHERE topic = ?"
        if ledger.location.backend != "sqlite":
            from psycopg.sql import SQL, Identifier
            delete = SQL("DELETE FROM {}.{} WHERE topic = %s").format(
                Identifier(recorder.datastore.schema), Identifier(table))
        with recorder.datastore.transaction(commit=True) as cursor:  # a cache, cleared
            cursor.execute(delete, (ARCHIVE_TOPIC,))
        assert not recorder.select_events(archive_id(client))
        with pytest.raises(RuleRefused, match="V1"):  # the events say it all the same
            ledger.cancel_visit(client, visit_id=booked, on=on("2027-01-01"))
        assert ledger.client(client).snapshot_state() == replayed.snapshot_state()
    finally:
        ledger.close()


def test_a_snapshot_s_unsynced_commit_leaves_every_connection_synced(tmp_path: Path) -> None:
    """A snapshot is committed without waiting for the disk (a cache, ADR 16); the events'
    own commits still are synced, whichever pooled connection makes them."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        client = frequent_visitor(ledger, SNAPSHOT_EVERY - 3)  # the last save snapshots
        assert ledger.snapshots is not None
        assert [s.originator_version for s in ledger.snapshots.get(client)] == [SNAPSHOT_EVERY]
        datastore: Any = ledger.recorder.datastore  # type: ignore[attr-defined]
        for writer in (True, False):
            with datastore.get_connection(commit=writer) as connection:
                cursor = connection.cursor()
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone()[0] == 2  # FULL, SQLite's own and eventsourcing's
    finally:
        ledger.close()


OLD_CLIENT_STATE = {
    "name", "date_of_birth", "email", "phone", "reasons", "goals", "conditions", "medications",
    "open_contraindications", "referral_source", "referrer", "referral_id", "legacy_id",
    "intake_on", "assessment_ids", "scheduled", "closed_visit_ids", "completed_visits",
    "last_completed_on", "status", "lapsed_on", "recall_since_lapse", "contact_set_at",
    "visit_dates", "_created_on", "_modified_on"}


@pytest.mark.parametrize(("shape", "read"), [(3, True), (2, False), ("0123456789ab", False)],
                         ids=["numbered-3", "numbered-2", "another-digest"])
def test_a_snapshot_is_read_only_if_stored_in_the_shape_the_state_has_now(
        db_url: str, shape: Any, read: bool) -> None:
    """Shapes are digests of the declared state now; snapshots stored before that say 3, and
    are read as long as the state is what it was then (domain/shapes.py)."""
    ledger = open_ledger(db_url)
    try:
        client = frequent_visitor(ledger, SNAPSHOT_EVERY - 4)  # at SNAPSHOT_EVERY - 1
        assert ledger.snapshots is not None
        stored = replay_of(ledger, client).stored_state()
        stored.update(_shape=shape, completed_visits=999)  # shows, if the snapshot is read
        ledger.snapshots.put([PracticeSnapshot(
            originator_id=client, originator_version=SNAPSHOT_EVERY - 1,
            timestamp=PracticeSnapshot.create_timestamp(), topic="practice:Client",
            state=stored)])
        assert ledger.client(client).completed_visits == (999 if read else SNAPSHOT_EVERY - 4)
    finally:
        ledger.close()


def test_a_snapshot_of_the_old_shape_is_not_read_the_client_replays(db_url: str) -> None:
    """Snapshots stored before ADR 16 held every closed visit id in a list and every visit
    date in a dict, and no shape: such a snapshot is passed over, never misread."""
    ledger = open_ledger(db_url)
    try:
        client = frequent_visitor(ledger, SNAPSHOT_EVERY - 4)  # at SNAPSHOT_EVERY - 1
        assert ledger.snapshots is not None
        assert not list(ledger.snapshots.get(client))  # no snapshot of ours yet
        old = replay_of(ledger, client).snapshot_state()  # the old shape, as it was stored
        del old["_shape"]
        assert set(old) == OLD_CLIENT_STATE  # ClientState's fields at 15057e2, record times
        old["completed_visits"] = 999  # would show, were the snapshot read
        ledger.snapshots.put([PracticeSnapshot(
            originator_id=client, originator_version=SNAPSHOT_EVERY - 1,
            timestamp=PracticeSnapshot.create_timestamp(), topic="practice:Client", state=old)])
        loaded = ledger.client(client)
        assert loaded.completed_visits == SNAPSHOT_EVERY - 4
        assert loaded.snapshot_state() == replay_of(ledger, client).snapshot_state()
        ledger.update_contact(client, phone="555", on=on("2027-01-01"))  # the interval's end
        [latest] = ledger.snapshots.get(client, desc=True, limit=1)
        assert latest.originator_version == SNAPSHOT_EVERY
        assert ledger.client(client).snapshot_state() == replay_of(
            ledger, client).snapshot_state()
    finally:
        ledger.close()


def test_a_visit_s_date_corrected_after_a_snapshot_moves_the_last_visit_as_a_replay(
        db_url: str) -> None:
    ledger = open_ledger(db_url)
    try:
        client = frequent_visitor(ledger, SNAPSHOT_EVERY + 5)
        last = [e for e in ledger.events.get(client) if isinstance(e, Client.VisitCompleted)][-1]
        ledger.correct_entry(client, version=last.originator_version, reason="typo",
                             changes={"occurred_on": "2025-01-01T12:00+00:00"})
        loaded = ledger.client(client)
        assert loaded.last_completed_on == replay_of(ledger, client).last_completed_on == (
            FIRST_VISIT + timedelta(weeks=SNAPSHOT_EVERY + 3))
        assert loaded.snapshot_state() == replay_of(ledger, client).snapshot_state()
        booked = ledger.events.get(client, lte=2)
        visit = next(e for e in booked if isinstance(e, Client.VisitScheduled)).visit_id
        with pytest.raises(RuleRefused, match="V1"):  # closed before the snapshot
            ledger.complete_visit(client, visit_id=visit, on=on("2027-01-01"))
    finally:
        ledger.close()


def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "practice.db"
    ledger = open_ledger(f"sqlite:///{path}")
    try:
        ledger.record_intake(name="Ann Smith")
    finally:
        ledger.close()
    for file in [path, *tmp_path.glob("practice.db-*")]:
        assert stat.S_IMODE(os.stat(file).st_mode) == 0o600, file


# -- one action, one transaction -------------------------------------------------------------

def positions_of(ledger: PracticeLedger, names: set[str]) -> list[int]:
    notes = ledger.recorder.select_notifications(start=1, limit=1000)
    return [n.id for n in notes if ledger.mapper.to_domain_event(n).__class__.__name__ in names]


def test_r1_the_intake_and_the_conversion_are_saved_together(ledger: PracticeLedger) -> None:
    referral = ledger.receive_referral(source="client", referrer="Bob", prospect="Ann")
    client = ledger.record_intake(name="Ann Smith", referral_id=referral)
    intake_at, converted_at = positions_of(ledger, {"IntakeRecorded", "ReferralConverted"})
    assert converted_at == intake_at + 1
    found = ledger.client(client)
    assert (found.referral_id, found.referral_source, found.referrer) == (
        referral, "client", "bob")
    assert ledger.referral(referral).converted_client_id == client


def test_r1_a_second_intake_for_the_same_referral_records_nothing(db_url: str) -> None:
    ledger = open_ledger(db_url)
    try:
        referral = ledger.receive_referral(source="online", referrer="ads", prospect="Ann")
        ledger.record_intake(name="Ann Smith", referral_id=referral)
        before = count_events(db_url)
        with pytest.raises(RuleRefused, match="R1"):
            ledger.record_intake(name="Ann Smith again", referral_id=referral)
        assert count_events(db_url) == before
    finally:
        ledger.close()


def test_c5_the_visit_and_the_reactivation_are_saved_together(ledger: PracticeLedger) -> None:
    client = ledger.record_intake(name="Ann Smith", on=on("2026-01-05"))
    ledger.complete_visit(client, on=on("2026-01-06"))
    assert ledger.sweep_lapses([client], as_of=date(2026, 6, 1)) == [client]
    assert ledger.sweep_lapses([client], as_of=date(2026, 6, 2)) == []  # recorded once
    recall = ledger.send_recall(client, channel="phone", on=on("2026-06-03"))
    ledger.complete_visit(client, on=on("2026-06-10"))
    completed_at, reactivated_at = positions_of(ledger, {"VisitCompleted", "Reactivated"})[1:]
    assert reactivated_at == completed_at + 1
    [*_, last] = ledger.events.get(client)
    assert isinstance(last, Client.Reactivated)
    assert last.recall_id == recall


def test_a_cleared_outcome_clears_the_contraindication_atomically(
    ledger: PracticeLedger,
) -> None:
    client = ledger.record_intake(name="Ann Smith", contraindications=["DVT"])
    referral = ledger.make_referral(client, to="Dr Jones", reason="DVT")
    ledger.record_referral_outcome(referral, cleared=True)
    outcome_at, cleared_at = positions_of(
        ledger, {"ReferralOutcomeRecorded", "ContraindicationCleared"})
    assert cleared_at == outcome_at + 1
    [*_, cleared] = ledger.events.get(client)
    assert isinstance(cleared, Client.ContraindicationCleared)
    assert (cleared.contraindication, cleared.by) == ("DVT", "dr jones")
    ledger.complete_visit(client)  # no longer blocked (C2)


def test_an_outcome_after_the_client_was_cleared_by_hand_still_records(
    ledger: PracticeLedger,
) -> None:
    client = ledger.record_intake(name="Ann Smith", contraindications=["DVT"])
    referral = ledger.make_referral(client, to="Dr Jones", reason="DVT")
    ledger.clear_contraindication(client, contraindication="DVT", by="Dr Smith")
    ledger.record_referral_outcome(referral, cleared=True)
    assert ledger.referral(referral).cleared is True
    names = [type(e).__name__ for e in ledger.events.get(client)]
    assert names.count("ContraindicationCleared") == 1


def test_c3_a_booked_visit_of_a_finished_program_is_refused(ledger: PracticeLedger) -> None:
    client = ledger.record_intake(name="Ann Smith", on=on("2026-01-05"))
    ledger.record_assessment(client, findings="stiff", on=on("2026-01-05"))
    program = program_of(ledger, client, "2026-01-05")
    ledger.accept_program(program, on=on("2026-01-05"))
    visit = ledger.schedule_visit(client, at=on("2026-01-09T10:00"), program=program,
                                  on=on("2026-01-05"))
    ledger.discontinue_program(program, on=on("2026-01-06"))
    with pytest.raises(RuleRefused, match=r"C3.*discontinued"):
        ledger.complete_visit(client, visit_id=visit, on=on("2026-01-09"))


def test_p5_a_second_program_is_refused_until_the_first_ends(ledger: PracticeLedger) -> None:
    client = ledger.record_intake(name="Ann Smith")
    ledger.record_assessment(client, findings="stiff")
    first = program_of(ledger, client, "2026-01-05")
    second = program_of(ledger, client, "2026-01-05")
    assert (first, second) == (program_id(client, 1), program_id(client, 2))
    ledger.accept_program(first)
    with pytest.raises(RuleRefused, match="P5"):
        ledger.accept_program(second)
    ledger.reevaluate_program(first, findings="ready for the next phase", outcome="new-program")
    ledger.accept_program(second)
    assert [p.status for p in ledger.programs_of(client)] == ["completed", "active"]


# -- ids that name nothing -------------------------------------------------------------------

def test_ids_that_name_nothing_or_something_else_are_not_found(ledger: PracticeLedger) -> None:
    client = ledger.record_intake(name="Ann Smith")
    with pytest.raises(NotFound, match="client"):
        ledger.schedule_visit(uuid4(), at=on("2026-03-01T10:00"))
    with pytest.raises(NotFound, match="program"):
        ledger.accept_program(client)  # a client's id is no program's
    with pytest.raises(NotFound, match="referral"):
        ledger.record_intake(name="Bob", referral_id=uuid4())
    with pytest.raises(InvalidInput, match="after-days"):
        ledger.sweep_lapses([client], as_of=date(2026, 6, 1), after_days=0)
    assert count_events(ledger.settings.db_url) == 1
