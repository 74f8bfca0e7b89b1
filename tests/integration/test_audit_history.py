"""Audit history on both backends: what the ledger recorded about one client, in log order,
and what it knew at any past moment (record time, not business time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from practice_es.application import PracticeLedger
from practice_es.audit.api import history_of
from practice_es.audit.history import History, notes
from practice_es.domain.errors import NotFound
from practice_es.domain.events import DomainEvent
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Clock:
    """The record time of every event created while it is set (the library's `timestamp`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = NOW
        monkeypatch.setattr(DomainEvent, "create_timestamp", staticmethod(lambda: self.now),
                            raising=False)

    def set(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def runner(ledger: PracticeLedger) -> Iterator[ProjectionRunner]:
    projections = ProjectionRunner(ledger, all_projections())
    yield projections
    projections.close()


def events_of(history: History) -> list[tuple[str, str]]:
    return [(entry.aggregate, entry.name) for entry in history.entries]


def a_client_with_everything(ledger: PracticeLedger) -> tuple[UUID, UUID]:
    """A client brought by a doctor's referral, with a program, a referral out and a
    referral in they made; and a stranger whose events must not appear."""
    brought = ledger.receive_referral(source="doctor", referrer="Dr Jones", prospect="Ann")
    client = ledger.record_intake(name="Ann Smith", referral_id=brought, on=NOW)
    stranger = ledger.record_intake(name="Bob Stone", on=NOW)
    ledger.record_assessment(client, findings="tight neck", measures={"pain": 7}, on=NOW)
    ledger.record_assessment(stranger, findings="stranger", on=NOW)
    program = ledger.recommend_program(client, phase="relief", visits=3, per_week=1,
                                       goals=["turn the head"], rationale="neck pain", on=NOW)
    ledger.accept_program(program, on=NOW)
    ledger.complete_visit(client, program=program, measures={"pain": 5}, on=NOW)
    ledger.make_referral(client, to="Dr Who", reason="x-ray", on=NOW)
    ledger.receive_referral(source="client", referrer=str(client).upper(), prospect="Cy")
    ledger.receive_referral(source="client", referrer=str(stranger), prospect="Di")
    return client, stranger


def test_history_gathers_client_programs_and_referrals_in_log_order(
        ledger: PracticeLedger, runner: ProjectionRunner) -> None:
    client, _ = a_client_with_everything(ledger)
    history = history_of(ledger, runner, client)
    positions = [entry.position for entry in history.entries]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert events_of(history) == [
        ("Referral", "ReferralReceived"), ("Client", "IntakeRecorded"),
        ("Referral", "ReferralConverted"), ("Client", "AssessmentRecorded"),
        ("ProgramOfCare", "ProgramRecommended"), ("ProgramOfCare", "ProgramAccepted"),
        ("Client", "VisitCompleted"), ("Referral", "ReferralMade"),
        ("Referral", "ReferralReceived"),
    ]
    assert "Bob Stone" not in str(history.as_json())
    assert history.entries[-1].data()["prospect"] == "Cy"


def test_history_json_has_the_spec_shape(ledger: PracticeLedger,
                                         runner: ProjectionRunner) -> None:
    client, _ = a_client_with_everything(ledger)
    document = history_of(ledger, runner, client).as_json()
    assert set(document) == {"client_id", "as_of", "events", "state"}
    visit = next(e for e in document["events"] if e["event"] == "VisitCompleted")
    assert set(visit) == {"position", "recorded_at", "occurred_on", "actor", "aggregate",
                          "aggregate_id", "version", "event", "data"}
    assert visit["aggregate"] == "Client" and visit["aggregate_id"] == str(client)
    assert visit["actor"] == "tester" and visit["data"]["measures"] == {"pain": 5.0}
    state = document["state"]
    assert state["name"] == "Ann Smith" and state["status"] == "active"
    assert [p["status"] for p in state["programs"]] == ["active"]


def test_as_of_before_and_after_a_change_shows_the_old_and_new_state(
        ledger: PracticeLedger, runner: ProjectionRunner, clock: Clock) -> None:
    client = ledger.record_intake(name="Ann Smith", email="ann@old.example", on=NOW)
    clock.set(NOW + timedelta(days=2))
    ledger.update_contact(client, email="ann@new.example")
    before = history_of(ledger, runner, client, as_of=NOW + timedelta(days=1))
    after = history_of(ledger, runner, client, as_of=NOW + timedelta(days=3))
    assert before.state is not None and after.state is not None
    assert before.state["contact"]["email"] == "ann@old.example"
    assert after.state["contact"]["email"] == "ann@new.example"
    assert events_of(before) == [("Client", "IntakeRecorded")]
    assert history_of(ledger, runner, client, as_of=NOW - timedelta(days=1)).state is None


def test_a_back_dated_entry_is_absent_as_of_yesterday_and_present_today(
        ledger: PracticeLedger, runner: ProjectionRunner, clock: Clock) -> None:
    clock.set(NOW - timedelta(days=60))
    client = ledger.record_intake(name="Ann Smith", on=NOW - timedelta(days=60))
    clock.set(NOW)  # recorded today, occurred last month
    ledger.complete_visit(client, measures={"pain": 4}, on=NOW - timedelta(days=30))
    yesterday = history_of(ledger, runner, client, as_of=NOW - timedelta(days=1))
    today = history_of(ledger, runner, client, as_of=NOW)
    assert events_of(yesterday) == [("Client", "IntakeRecorded")]
    assert yesterday.state is not None and yesterday.state["completed_visits"] == 0
    assert events_of(today)[-1] == ("Client", "VisitCompleted")
    assert today.state is not None and today.state["status"] == "active"
    visit = today.entries[-1]
    assert notes(today)[visit.position] == ["back-dated 30 d"]


def test_as_of_without_a_zone_is_the_practices_local_time(
        ledger: PracticeLedger, runner: ProjectionRunner, clock: Clock) -> None:
    client = ledger.record_intake(name="Ann Smith", on=NOW)
    naive = NOW.replace(tzinfo=None)
    assert history_of(ledger, runner, client, as_of=naive).state is not None
    assert history_of(ledger, runner, client, as_of=naive - timedelta(seconds=1)).state is None


def test_the_history_of_an_unknown_client_is_not_found(ledger: PracticeLedger,
                                                       runner: ProjectionRunner) -> None:
    unknown = UUID(int=7)
    with pytest.raises(NotFound):
        history_of(ledger, runner, unknown)
    not_a_client = ledger.receive_referral(source="walk-in", referrer="desk", prospect="Eve")
    with pytest.raises(NotFound):
        history_of(ledger, runner, not_a_client)


def test_a_client_with_many_programs_and_referrals_out_has_them_all(
        ledger: PracticeLedger, runner: ProjectionRunner) -> None:
    client = ledger.record_intake(name="Ann Smith", on=NOW)
    ledger.record_assessment(client, findings="x", on=NOW)
    for _ in range(10):  # more than one batch of derived ids
        program = ledger.recommend_program(client, phase="relief", visits=1, per_week=1,
                                           goals=["g"], rationale="r", on=NOW)
        ledger.decline_program(program, on=NOW)
        ledger.make_referral(client, to="Dr Who", reason="check", on=NOW)
    history = history_of(ledger, runner, client)
    names = [entry.name for entry in history.entries]
    assert names.count("ProgramDeclined") == 10 and names.count("ReferralMade") == 10
    assert history.state is not None and len(history.state["programs"]) == 10
