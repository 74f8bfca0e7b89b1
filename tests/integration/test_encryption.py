"""Encryption at rest (ADR 9), on both backends: with PRACTICE_CIPHER_KEY no stored byte shows
a client's name or health details; without one, the file alone opens them; a wrong key is
exit 2 and writes nothing; messages about unreadable events name ids, never contents."""

from __future__ import annotations

import base64
import os
import stat
from uuid import UUID

import orjson
import pytest
from eventsourcing.cryptography import AESCipher

from practice_es.application import PracticeLedger
from practice_es.infrastructure.crypto import unseal
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice
from tests.integration.stored_bytes import events_table, execute, sqlite_files, stored_bytes

NAME = "Zebulon Quartermaine"
EMAIL = "zeb@quartermaine.example"
CONDITION = "hereditary angioedema"
CONTRAINDICATION = "recent fracture"
FINDINGS = "T4 syndrome suspected"
NOTES = "spoke about the divorce"
REFERRER = "dr okafor"  # a doctor's key: kept in clear for the referral report
SECRETS = (NAME, EMAIL, CONDITION, CONTRAINDICATION, FINDINGS, NOTES)


def record_a_client(practice: Practice) -> str:
    client = practice.new("client", "intake", "--name", NAME, "--email", EMAIL,
                          "--condition", CONDITION, "--contraindication", CONTRAINDICATION,
                          "--source", "doctor", "--referrer", REFERRER, "--on", "2026-03-01")
    practice.new("client", "assess", client, "--findings", FINDINGS, "--on", "2026-03-02")
    practice.ok("client", "clear", client, "--contraindication", CONTRAINDICATION,
                "--by", "dr okafor", "--on", "2026-03-03")
    practice.new("visit", "complete", client, "--notes", NOTES, "--on", "2026-03-04")
    return client


def test_with_a_key_no_stored_byte_shows_a_name_or_a_health_detail(db_url: str) -> None:
    practice = Practice(db_url, key=AESCipher.create_key(32))
    client = record_a_client(practice)

    raw = stored_bytes(db_url)
    assert REFERRER.encode() in raw  # the search finds what is meant to be in clear
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    shown = practice.ok("client", "show", client, "--format", "json")  # the key opens all
    assert NAME in shown and CONDITION in shown
    assert NAME in practice.ok("client", "list", "--search", "quarter", "--format", "csv")


def test_without_a_key_the_file_alone_opens_every_detail(db_url: str) -> None:
    """The control: no master key, no protection at rest. The directory keeps the name in
    clear, and the data keys lie unwrapped beside the sealed fields (ADR 9)."""
    practice = Practice(db_url)
    client = record_a_client(practice)

    assert NAME.encode() in stored_bytes(db_url)
    state, = execute(db_url, f"SELECT state FROM {events_table(db_url)} "
                             "WHERE originator_version = 1")[0]
    block = orjson.loads(bytes(state))["_sealed"]
    data_key, = execute(db_url, "SELECT data_key FROM practice_data_keys WHERE owner_id = ?",
                        (client,))[0]
    aad = f"{client}|1|practice:Client.IntakeRecorded".encode()
    opened = unseal(bytes(data_key), base64.b64decode(block["d"]), aad)
    assert CONDITION.encode() in opened and NAME.encode() in opened


def test_snapshots_are_sealed_and_encrypted_too(db_url: str) -> None:
    key = AESCipher.create_key(32)
    ledger = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=key))
    try:
        client = ledger.record_intake(name=NAME, conditions=[CONDITION])
        for _ in range(100):  # a snapshot every 100 events (ADR 10)
            ledger.send_recall(client, channel="sms")
        assert ledger.snapshots is not None
        snapshot, = ledger.snapshots.recorder.select_events(client)
    finally:
        ledger.close()
    assert NAME.encode() not in snapshot.state and CONDITION.encode() not in snapshot.state
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(snapshot.state)  # ciphertext, not JSON
    again = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=key))
    try:
        loaded = again.client(client)
        assert (loaded.version, loaded.name, loaded.conditions) == (101, NAME, [CONDITION])
    finally:
        again.close()


def test_a_wrong_missing_or_malformed_key_is_exit_2_and_writes_nothing(db_url: str) -> None:
    key = AESCipher.create_key(32)
    client = Practice(db_url, key=key).new("client", "intake", "--name", NAME)
    for wrong, says in ((AESCipher.create_key(32), "not the key this ledger was written with"),
                        (None, "this ledger is encrypted"),
                        ("not-a-key", "not a key made by `practice key generate`")):
        practice = Practice(db_url, key=wrong)
        practice.events = Practice(db_url, key=key).events  # type: ignore[method-assign]
        for args in (("client", "show", client), ("client", "intake", "--name", "Other"),
                     ("client", "list")):
            run = practice.fails(2, *args)
            assert "PRACTICE_CIPHER_KEY" in run.stderr and says in run.stderr, run.stderr
            assert NAME not in run.output


def test_a_key_on_a_ledger_made_without_one_is_exit_2(db_url: str) -> None:
    Practice(db_url).new("client", "intake", "--name", NAME)
    run = Practice(db_url, key=AESCipher.create_key(32)).run("client", "list")
    assert run.exit_code == 2 and "created without encryption" in run.stderr


def test_key_generate_prints_a_new_aes_256_key_and_key_check_tests_it(db_url: str) -> None:
    first, second = (Practice(db_url).ok("key", "generate") for _ in range(2))
    assert first != second and len(base64.b64decode(first, validate=True)) == 32
    Practice(db_url, key=first).new("client", "intake", "--name", NAME)
    assert Practice(db_url, key=first).run("key", "check").exit_code == 0
    assert Practice(db_url, key=second).run("key", "check").exit_code == 2


@pytest.mark.parametrize("encrypted", [True, False])
def test_an_unreadable_event_names_its_ids_never_its_contents(db_url: str,
                                                              encrypted: bool) -> None:
    key = AESCipher.create_key(32) if encrypted else None
    practice = Practice(db_url, key=key)
    client = practice.new("client", "intake", "--name", NAME, "--condition", CONDITION)
    table = events_table(db_url)
    state, = execute(db_url, f"SELECT state FROM {table}")[0]
    execute(db_url, f"UPDATE {table} SET state = ?", (_damage(bytes(state), encrypted),))

    run = practice.run("client", "show", client)
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert f"cannot read the stored event {UUID(client)} v1" in run.stderr, run.stderr
    for secret in (NAME, CONDITION):
        assert secret not in run.output


def _damage(state: bytes, encrypted: bool) -> bytes:
    if encrypted:  # one bit of the ciphertext
        return state[:40] + bytes([state[40] ^ 1]) + state[41:]
    stored = orjson.loads(state)  # one bit of the sealed block: it no longer opens
    sealed = bytearray(base64.b64decode(stored["_sealed"]["d"]))
    sealed[20] ^= 1
    stored["_sealed"]["d"] = base64.b64encode(bytes(sealed)).decode()
    return orjson.dumps(stored)


def test_the_sqlite_files_are_readable_by_their_owner_only(sqlite_url: str) -> None:
    ledger = PracticeLedger(Settings(db_url=sqlite_url, actor="t"))
    try:
        ledger.record_intake(name=NAME)
        files = sqlite_files(sqlite_url)  # while open: the database, its -wal and -shm
        assert len(files) == 3
        for path in files:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode & 0o077 == 0, f"{path.name} is {oct(mode)}"
    finally:
        ledger.close()
