"""Rotating the master key (ADR 19): the ledger key and every person's data key are
re-wrapped under the new master key; no stored event changes, so the hash chain holds.

Each step commits on its own and is safe to repeat: a wrapped key that already opens under
the new key is left alone, one that opens under the old key is re-wrapped. The key check
moves to the new key last, so an interrupted rotation still opens with the old key until a
re-run (with both keys set again) finishes it; a re-run after the end finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure.crypto import (
    CHECK_PLAINTEXT,
    LEDGER_KEY_AAD,
    WrongKey,
    key_aad,
    opens,
    seal,
    unseal,
)
from practice_es.infrastructure.keystore import KeyStore

NEW_KEY_VARIABLE = "PRACTICE_NEW_CIPHER_KEY"
BATCH = 500  # data keys re-wrapped per transaction
Step = Callable[[str], None]  # told the name of each step once it is committed


@dataclass
class Rotation:
    """What a run of `rotate_master_key` did."""

    rewrapped: int = 0  # keys it re-wrapped (the ledger key and data keys)
    finished_before: bool = False  # the ledger already checked against the new key
    clean: bool = True  # SQLite: the old wrapped bytes left the write-ahead log too


def rotate_master_key(keys: KeyStore, new: bytes, *, batch: int = BATCH,
                      after_step: Step | None = None) -> Rotation:
    """Re-wrap every key of the ledger from `keys.master` to `new`, step by step."""
    old = keys.master
    if old is None:
        raise WrongKey("this ledger is not encrypted at rest: there is no key to rotate")
    if new == old:
        raise InvalidInput(NEW_KEY_VARIABLE, "is the same key as PRACTICE_CIPHER_KEY")
    done = after_step or (lambda step: None)
    rotation = Rotation(finished_before=_checked_by(keys, old, new) == "new")
    rotation.rewrapped = _ledger_key(keys, old, new)
    done("ledger key")
    for count in _data_keys(keys, old, new, batch):
        rotation.rewrapped += count
        done("data keys")
    with keys.scrubbing_transaction() as c:
        c.execute(keys.sql(f"UPDATE {keys.check_table} SET verifier = ? WHERE id = 1"),
                  (seal(new, CHECK_PLAINTEXT, b""),))
    done("key check")
    rotation.clean = keys.checkpoint()
    return rotation


def _checked_by(keys: KeyStore, old: bytes, new: bytes) -> str:
    """Which key the ledger's key check opens with: "old" (not rotated, or half way), "new"
    (rotated: a re-run re-wraps whatever is still under the old key)."""
    with keys.transaction(commit=False) as c:
        c.execute(f"SELECT protected, verifier FROM {keys.check_table} WHERE id = 1")
        row = c.fetchone()
    if row is None or not row["protected"]:
        raise WrongKey("this ledger is not encrypted at rest: there is no key to rotate")
    verifier = bytes(row["verifier"])
    for name, key in (("old", old), ("new", new)):
        if opens(key, verifier, b""):
            return name
    raise WrongKey("is not the key this ledger was written with (nor is "
                   f"{NEW_KEY_VARIABLE})")


def _ledger_key(keys: KeyStore, old: bytes, new: bytes) -> int:
    """Re-wrap the ledger key; 1 if it did, 0 if it was done before."""
    wrapped = keys.wrapped_ledger_key()
    if wrapped is None:
        # Its events are sealed by the master key itself: a new key cannot lock the old
        # one out without rewriting every event, which the hash chain forbids.
        raise WrongKey("this ledger was made before ledger keys (ADR 19): its events are "
                       "sealed by the master key itself, so it cannot be re-keyed")
    rewrapped = _rewrapped(wrapped, old, new, LEDGER_KEY_AAD, "ledger")
    if rewrapped is None:
        return 0
    with keys.scrubbing_transaction() as c:
        c.execute(keys.sql(f"UPDATE {keys.ledger_table} SET ledger_key = ? WHERE id = 1"),
                  (rewrapped,))
    return 1


def _data_keys(keys: KeyStore, old: bytes, new: bytes, batch: int) -> Iterator[int]:
    """Re-wrap the data keys not yet destroyed, `batch` a transaction, in owner order."""
    after = ""
    while True:
        with keys.scrubbing_transaction() as c:
            c.execute(keys.sql(f"SELECT owner_id, data_key FROM {keys.keys_table} "
                                "WHERE owner_id > ? AND data_key IS NOT NULL "
                                "ORDER BY owner_id LIMIT ?"), (after, batch))
            rows = [(row["owner_id"], bytes(row["data_key"])) for row in c.fetchall()]
            if not rows:
                return
            updates = [(wrapped, owner) for owner, stored in rows
                       for wrapped in [_rewrapped(stored, old, new, key_aad(owner), owner)]
                       if wrapped is not None]
            c.executemany(keys.sql(f"UPDATE {keys.keys_table} SET data_key = ? "
                                    "WHERE owner_id = ?"), updates)
        after = rows[-1][0]
        yield len(updates)


def _rewrapped(stored: bytes, old: bytes, new: bytes, aad: bytes, whose: str) -> bytes | None:
    """The key wrapped under `new`, or None if it already is."""
    if opens(new, stored, aad):
        return None
    try:
        return seal(new, unseal(old, stored, aad), aad)
    except InvalidTag:
        raise WrongKey(f"the key of {whose} opens with neither key: not this ledger's "
                       "keys") from None
