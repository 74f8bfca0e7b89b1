"""References as people type them (SPEC §9): full ids, unique prefixes, client names."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest

from practice_es.application import PracticeLedger
from practice_es.projections.references import (
    AmbiguousReference,
    UnknownReference,
    complete,
    resolve,
    resolve_reference,
    short_id,
)
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner

ANN = UUID("63b8f270-ca88-49c5-893a-000000000001")
ANNA = UUID("63b8f270-cb00-49c5-893a-000000000002")  # shares ANN's first 9 hex digits
BOB = UUID("a1000000-0000-4000-8000-000000000003")
ON = datetime(2026, 3, 2, 9)


@pytest.fixture
def runner(ledger: PracticeLedger) -> ProjectionRunner:
    for ident, name in ((ANN, "Ann Lee"), (ANNA, "Anna Lee"), (BOB, "Bob Stone")):
        ledger.record_intake(client_id=ident, name=name, on=ON)
    found = ProjectionRunner(ledger, all_projections())
    found.catch_up()
    return found


def resolved(runner: ProjectionRunner, kind: str, text: str) -> UUID:
    with runner.engine.connect() as conn:
        return resolve(conn, kind, text)


def test_a_full_id_in_any_case_with_or_without_dashes(runner: ProjectionRunner) -> None:
    assert resolved(runner, "client", str(ANN).upper()) == ANN
    assert resolved(runner, "client", ANN.hex) == ANN


@pytest.mark.parametrize("typed", ["a10000", "A1000000", "a1000000-00", "a100000000"])
def test_a_unique_prefix_of_six_or_more_hex_digits_dashes_ignored(
        runner: ProjectionRunner, typed: str) -> None:
    assert resolved(runner, "client", typed) == BOB


def test_the_short_id_tables_print_is_accepted(runner: ProjectionRunner) -> None:
    assert short_id(BOB) == "a1000000"
    assert resolved(runner, "client", short_id(BOB)) == BOB


def test_an_ambiguous_prefix_lists_each_candidate_with_its_short_id_and_name(
        runner: ProjectionRunner) -> None:
    with pytest.raises(AmbiguousReference) as raised:
        resolved(runner, "client", "63b8f270c")
    message = str(raised.value)
    assert "63b8f270  Ann Lee" in message and "63b8f270  Anna Lee" in message
    assert resolved(runner, "client", "63b8f270-ca") == ANN


def test_fewer_than_six_hex_digits_are_not_a_prefix(runner: ProjectionRunner) -> None:
    with pytest.raises(UnknownReference):
        resolved(runner, "client", "a1000")


def test_a_client_by_exact_name_case_and_spacing_aside(runner: ProjectionRunner) -> None:
    assert resolved(runner, "client", "  bob   STONE ") == BOB
    with pytest.raises(UnknownReference, match="no client is named 'Bob'"):
        resolved(runner, "client", "Bob")


def test_a_name_shared_by_two_clients_is_ambiguous(ledger: PracticeLedger,
                                                   runner: ProjectionRunner) -> None:
    other = ledger.record_intake(name="bob stone", on=ON)
    runner.catch_up()
    with pytest.raises(AmbiguousReference) as raised:
        resolved(runner, "client", "Bob Stone")
    assert {c.ident for c in raised.value.candidates} == {str(BOB), str(other)}


def test_an_erased_client_is_not_found_by_name(ledger: PracticeLedger,
                                               runner: ProjectionRunner) -> None:
    ledger.erase_client(BOB, reason="client request", on=ON)
    runner.catch_up()
    with pytest.raises(UnknownReference):
        resolved(runner, "client", "Bob Stone")


def test_programs_visits_and_referrals_by_prefix(ledger: PracticeLedger,
                                                 runner: ProjectionRunner) -> None:
    visit = ledger.schedule_visit(BOB, at=datetime(2026, 3, 9, 10), on=ON)
    referral = ledger.make_referral(BOB, to="Dr Jones", reason="check", on=ON)
    ledger.record_assessment(BOB, findings="stiff", on=ON)
    program = ledger.recommend_program(BOB, phase="relief", visits=3, per_week=1,
                                       goals=["walk"], rationale="acute", on=ON)
    assert resolve_reference(runner, "visit", visit.hex[:10]) == visit
    assert resolve_reference(runner, "referral", short_id(referral)) == referral
    assert resolve_reference(runner, "program", short_id(program)) == program
    with pytest.raises(UnknownReference, match="no visit has an id starting"):
        resolve_reference(runner, "visit", short_id(program))


def test_what_was_recorded_a_moment_ago_is_found(ledger: PracticeLedger,
                                                 runner: ProjectionRunner) -> None:
    new = ledger.record_intake(name="Cleo Park", on=ON)
    assert resolve_reference(runner, "client", "cleo park") == new


def test_completion_offers_names_and_ids(runner: ProjectionRunner) -> None:
    with runner.engine.connect() as conn:
        by_name = complete(conn, "client", "ann")
        by_id = complete(conn, "client", "a10")
        every = complete(conn, "client", "")
    assert [(c.label, c.by_name) for c in by_name] == [("Ann Lee", True), ("Anna Lee", True)]
    assert [c.ident for c in by_id] == [str(BOB)]
    assert {c.label for c in every} == {"Ann Lee", "Anna Lee", "Bob Stone"}
