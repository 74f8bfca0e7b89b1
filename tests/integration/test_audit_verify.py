"""The hash chain on both backends: kept as events are recorded, and any row edited, deleted,
inserted or moved straight in the database is found by verify, at its position."""

from __future__ import annotations

import base64
import os
from typing import Any
from uuid import uuid4

import pytest

from practice_es.application import PracticeLedger
from practice_es.audit.api import verify_ledger
from practice_es.audit.verify import ALTERED, DELETED, INSERTED
from practice_es.infrastructure.settings import Settings
from tests.integration.raw_log import RawLog


def record_some(ledger: PracticeLedger, clients: int = 3) -> None:
    for n in range(clients):
        client = ledger.record_intake(name=f"Ann {n}", email="ann@example.org")
        ledger.record_assessment(client, findings="tight", measures={"pain": 6})
        ledger.complete_visit(client, measures={"pain": 4})


@pytest.fixture
def raw(ledger: PracticeLedger) -> RawLog:
    record_some(ledger)  # 9 events, positions 1-9
    return RawLog(ledger)


def test_an_untouched_ledger_verifies_with_the_same_head_every_time(
        ledger: PracticeLedger, raw: RawLog) -> None:
    first, second = verify_ledger(ledger), verify_ledger(ledger)
    assert first.ok and first.failure is None and first.events == 9
    assert first.head == second.head and len(first.head) == 64


def test_an_empty_ledger_verifies(ledger: PracticeLedger) -> None:
    result = verify_ledger(ledger)
    assert result.ok and result.events == 0


def test_an_edited_event_is_found_at_its_position(ledger: PracticeLedger, raw: RawLog) -> None:
    raw.edit_state(5)
    result = verify_ledger(ledger)
    assert not result.ok and result.failure is not None
    assert (result.failure.position, result.failure.problem) == (5, ALTERED)
    assert result.events == 4


def test_a_deleted_event_is_found_at_its_position(ledger: PracticeLedger, raw: RawLog) -> None:
    raw.delete(4)
    failure = verify_ledger(ledger).failure
    assert failure is not None and (failure.position, failure.problem) == (4, DELETED)


def test_a_deleted_last_event_is_found_too(ledger: PracticeLedger, raw: RawLog) -> None:
    raw.delete(9)
    failure = verify_ledger(ledger).failure
    assert failure is not None and (failure.position, failure.problem) == (9, DELETED)


def test_a_forged_event_is_found_at_its_position(ledger: PracticeLedger, raw: RawLog) -> None:
    raw.forge()
    failure = verify_ledger(ledger).failure
    assert failure is not None and (failure.position, failure.problem) == (10, INSERTED)


def test_two_reordered_events_are_found_at_the_first(ledger: PracticeLedger,
                                                     raw: RawLog) -> None:
    raw.swap(3, 6)
    failure = verify_ledger(ledger).failure
    assert failure is not None and (failure.position, failure.problem) == (3, ALTERED)


def test_events_recorded_after_verify_extend_the_chain(ledger: PracticeLedger,
                                                       raw: RawLog) -> None:
    earlier = verify_ledger(ledger)
    record_some(ledger, clients=1)
    later = verify_ledger(ledger, expect_head=earlier.head)
    assert later.ok and later.events == 12 and later.head != earlier.head
    assert later.expected_at == 9  # the log it vouched for is still there, unchanged


def test_an_expected_head_that_is_not_in_the_chain_fails(ledger: PracticeLedger,
                                                         raw: RawLog) -> None:
    result = verify_ledger(ledger, expect_head="ab" * 32)
    assert result.failure is None and not result.ok and result.expected_at is None


def test_a_rewritten_event_fails_an_expected_head_kept_elsewhere(ledger: PracticeLedger,
                                                                 raw: RawLog) -> None:
    kept = verify_ledger(ledger).head
    raw.edit_state(2)
    assert not verify_ledger(ledger, expect_head=kept).ok


def test_the_chain_covers_the_encrypted_bytes_as_stored(db_url: str) -> None:
    key = base64.b64encode(os.urandom(32)).decode()  # as `practice key generate` prints
    secret = PracticeLedger(Settings(db_url=db_url, actor="tester", cipher_key=key))
    try:
        record_some(secret)
        raw = RawLog(secret)
        (state,), = raw.execute("SELECT state FROM {table} WHERE {pos} = 1")
        assert b"ann@example.org" not in bytes(state)  # the chain hashes ciphertext
        intact = verify_ledger(secret)
        raw.edit_state(7)
        failure = verify_ledger(secret).failure
    finally:
        secret.close()
    assert intact.ok and intact.events == 9
    assert failure is not None and failure.position == 7


def record_in_bulk(ledger: PracticeLedger, raw: RawLog, events: int) -> None:
    """Events as an import records them (`insert_rows`: binary COPY on PostgreSQL), copying
    the topic and bytes of the genuine events for new aggregates."""
    genuine = raw.execute("SELECT topic, state FROM {table} ORDER BY {pos}")
    ledger.recorder.insert_rows([  # type: ignore[attr-defined]
        (uuid4().bytes, 1, topic, bytes(state)) for topic, state in genuine[:events]])


@pytest.fixture
def mixed(ledger: PracticeLedger, raw: RawLog) -> RawLog:
    """Positions 1-9 saved one action at a time, 10-15 in bulk, 16-18 one at a time again."""
    record_in_bulk(ledger, raw, 6)
    record_some(ledger, clients=1)
    return raw


def test_events_recorded_in_bulk_between_actions_verify(ledger: PracticeLedger,
                                                        mixed: RawLog) -> None:
    result = verify_ledger(ledger)
    assert result.ok and result.events == 18
    assert [p for (p,) in mixed.execute("SELECT {pos} FROM {table} ORDER BY {pos}")] == list(
        range(1, 19))


@pytest.mark.parametrize(("tamper", "position", "problem"), [
    (lambda raw: raw.edit_state(12), 12, ALTERED),
    (lambda raw: raw.delete(15), 15, DELETED),
    (lambda raw: raw.swap(10, 16), 10, ALTERED),
])
def test_a_change_to_events_recorded_in_bulk_is_found_at_its_position(
        ledger: PracticeLedger, mixed: RawLog, tamper: Any, position: int,
        problem: str) -> None:
    tamper(mixed)
    failure = verify_ledger(ledger).failure
    assert failure is not None and (failure.position, failure.problem) == (position, problem)
