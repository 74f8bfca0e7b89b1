"""`practice key rotate` (ADR 19), on both backends: the ledger key and every data key are
re-wrapped under the new master key; no stored event changes, `audit verify --expect-head`
passes, the new key opens everything and the old key nothing; a rotation interrupted after
any step is finished by running the command again."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.cryptography import AESCipher

from practice_es.application import PracticeLedger
from practice_es.infrastructure.crypto import LEDGER_KEY_AAD, WrongKey, key_aad, unseal
from practice_es.infrastructure.rotation import rotate_master_key
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice
from tests.integration.stored_bytes import events_table, execute, stored_bytes

NAMES = ("Ottoline Brackenbury", "Casimir Pendragon", "Wilhelmina Strood")
CONDITION = "ankylosing spondylitis"
STEPS = 4  # the ledger key, two batches of two data keys, the key check


class Interrupted(Exception):
    pass


def a_ledger(practice: Practice) -> list[str]:
    """Three clients (one erased: a destroyed key stays destroyed) and a referred prospect."""
    clients = [practice.new("client", "intake", "--name", name, "--condition", CONDITION,
                            "--on", "2026-03-01") for name in NAMES]
    practice.new("referral", "receive", "--source", "doctor", "--referrer", "dr-ng",
                 "--prospect", "Perpetua Vance", "--on", "2026-03-02")
    practice.new("visit", "complete", clients[0], "--notes", "better", "--on", "2026-03-03")
    practice.ok("client", "erase", clients[2], "--reason", "client request")
    return clients


def head(practice: Practice) -> str:
    return str(practice.json("audit", "verify", "--json")["head"])


def stored_events(db_url: str) -> set[tuple[object, ...]]:
    return {tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in execute(db_url, f"SELECT originator_id, originator_version, state "
                                       f"FROM {events_table(db_url)}")}


def assert_rotated(db_url: str, old: str, new: str, clients: list[str], before: str,
                   events: set[tuple[object, ...]]) -> None:
    rotated = Practice(db_url, key=new)
    assert rotated.json("audit", "verify", "--expect-head", before, "--json")["ok"]
    assert stored_events(db_url) == events  # not one stored byte of an event changed
    assert NAMES[0] in rotated.ok("client", "show", clients[0])
    assert NAMES[1] in rotated.ok("client", "list", "--search", "pendragon", "--format", "csv")
    refused = Practice(db_url, key=old).run("client", "show", clients[0])
    assert refused.exit_code == 2 and "PRACTICE_CIPHER_KEY" in refused.stderr
    old_key = base64.b64decode(old)
    for owner, wrapped in execute(db_url, "SELECT owner_id, data_key FROM practice_data_keys "
                                          "WHERE data_key IS NOT NULL"):
        with pytest.raises(InvalidTag):
            unseal(old_key, bytes(wrapped), key_aad(owner))
    (ledger_key,), = execute(db_url, "SELECT ledger_key FROM practice_ledger_key")
    with pytest.raises(InvalidTag):
        unseal(old_key, bytes(ledger_key), LEDGER_KEY_AAD)
    for _, _, state in events:  # the old key opens no event's stored payload either
        with pytest.raises(InvalidTag):
            unseal(old_key, state[:12] + state[28:] + state[12:28], b"")  # type: ignore[index]


@pytest.fixture
def keys() -> tuple[str, str]:
    return AESCipher.create_key(32), AESCipher.create_key(32)


def test_a_rotated_ledger_opens_with_the_new_key_only_and_no_event_changed(
        db_url: str, keys: tuple[str, str]) -> None:
    old, new = keys
    practice = Practice(db_url, key=old, env={"PRACTICE_NEW_CIPHER_KEY": new})
    clients = a_ledger(practice)
    before, events = head(practice), stored_events(db_url)
    wrapped = [bytes(k) for k, in execute(
        db_url, "SELECT data_key FROM practice_data_keys WHERE data_key IS NOT NULL")]

    run = practice.run("key", "rotate", "--json")

    assert run.exit_code == 0, run.output
    assert '"rewrapped": 4' in run.stdout  # the ledger key, two clients', one prospect's
    assert_rotated(db_url, old, new, clients, before, events)
    raw = stored_bytes(db_url)  # (SQLite: the file and its write-ahead log, byte for byte)
    assert len(wrapped) == 3 and not any(k in raw for k in wrapped)


@pytest.mark.parametrize("step", range(STEPS))
def test_a_rotation_interrupted_after_any_step_is_finished_by_running_it_again(
        db_url: str, keys: tuple[str, str], step: int) -> None:
    old, new = keys
    practice = Practice(db_url, key=old, env={"PRACTICE_NEW_CIPHER_KEY": new})
    clients = a_ledger(practice)
    before, events = head(practice), stored_events(db_url)
    done: list[str] = []

    def interrupt(name: str) -> None:
        done.append(name)
        if len(done) > step:
            raise Interrupted(name)

    ledger = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=old),
                            check_key=False)
    try:
        with pytest.raises(Interrupted):
            rotate_master_key(ledger.keys, base64.b64decode(new), batch=2,
                              after_step=interrupt)
    finally:
        ledger.close()
    assert len(done) == step + 1
    assert done[-1] == ("ledger key", "data keys", "data keys", "key check")[step]

    again = practice.run("key", "rotate")

    assert again.exit_code == 0, again.output
    assert_rotated(db_url, old, new, clients, before, events)
    assert practice.run("key", "rotate").exit_code == 0  # a third run finds nothing to do


def test_rotating_needs_both_keys_and_a_new_one(db_url: str, keys: tuple[str, str]) -> None:
    old, new = keys
    practice = Practice(db_url, key=old)
    a_ledger(practice)
    assert "PRACTICE_NEW_CIPHER_KEY" in practice.fails(2, "key", "rotate").stderr
    same = Practice(db_url, key=old, env={"PRACTICE_NEW_CIPHER_KEY": old})
    assert "same key" in same.fails(2, "key", "rotate").stderr
    wrong = Practice(db_url, key=new, env={"PRACTICE_NEW_CIPHER_KEY": AESCipher.create_key(32)})
    assert wrong.run("key", "rotate").exit_code == 2
    plain = Practice(db_url.replace("practice.db", "plain.db") if "sqlite" in db_url
                     else db_url, env={"PRACTICE_NEW_CIPHER_KEY": new})
    if "sqlite" in db_url:
        plain.ok("init")
        assert "not encrypted" in plain.run("key", "rotate").stderr


def test_a_process_still_on_the_old_key_adds_no_key_after_the_rotation(
        db_url: str, keys: tuple[str, str]) -> None:
    """A process opened before the rotation (the web front desk left running) would wrap a
    new client's key under the old key: it is refused instead, and records nothing."""
    old, new = keys
    practice = Practice(db_url, key=old, env={"PRACTICE_NEW_CIPHER_KEY": new})
    a_ledger(practice)
    stale = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=old))
    try:
        practice.ok("key", "rotate")
        events = Practice(db_url, key=new).events()
        with pytest.raises(WrongKey, match="restart"):
            stale.record_intake(name="Late Arrival")
    finally:
        stale.close()
    rotated = Practice(db_url, key=new)
    assert rotated.events() == events
    rotated.new("client", "intake", "--name", "Next", "--on", "2026-03-05")
    assert "Next" in rotated.ok("client", "list", "--format", "csv")
