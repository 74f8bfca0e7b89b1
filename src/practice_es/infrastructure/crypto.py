"""Keys and ciphers: the master key (`PRACTICE_CIPHER_KEY`), sealing, and wrapping keys (ADR 9).

A person's personal fields are sealed under their own data key; erasing the person destroys
the key (crypto-shredding) and leaves every stored event byte as it was. The data keys are
wrapped by the master key here and kept by `infrastructure.keystore.KeyStore`.
"""

from __future__ import annotations

import binascii
import os
from base64 import b64decode, b64encode
from functools import lru_cache
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.cryptography import AESCipher

from practice_es.domain.errors import InvalidInput, RuleRefused

KEY_VARIABLE = "PRACTICE_CIPHER_KEY"
CHECK_PLAINTEXT = b"practice-es key check v1"
LEDGER_KEY_AAD = b"practice-es ledger key"
_NONCE = 12


class WrongKey(InvalidInput):
    """The master key is missing, malformed, or not the one the ledger was written with."""

    def __init__(self, message: str) -> None:
        super().__init__(KEY_VARIABLE, message)


def erased_refusal(owner: UUID) -> RuleRefused:
    return RuleRefused("E1", f"{owner} is erased: nothing personal can be recorded for them")


def parse_master_key(text: str, variable: str = KEY_VARIABLE) -> bytes:
    """The raw bytes of a key printed by `practice key generate`, or InvalidInput naming
    the variable that held it."""
    try:
        key = b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        key = b""
    if len(key) not in (16, 24, 32):
        raise InvalidInput(variable, "is not a key made by `practice key generate` "
                                     "(base64 of 16, 24 or 32 bytes)")
    return key


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-GCM with a fresh 96-bit random nonce: nonce ‖ ciphertext ‖ tag.

    The nonce is the operating system's, one system call per seal: no buffer of our own, so
    no nonce can repeat across threads, forks or a memory image restored twice (a guarded
    buffer of nonces was tried and was slower: docs/performance.md)."""
    nonce = os.urandom(_NONCE)
    return nonce + _cipher(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext, or InvalidTag if the key or the associated data is not the sealer's."""
    return _cipher(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)


@lru_cache(maxsize=1024)
def _cipher(key: bytes) -> AESGCM:
    """One AESGCM per recent key: making one costs more than sealing a field with it, and
    an import seals the fields of one client after another. Emptied when keys are destroyed."""
    return AESGCM(key)


class LedgerCipher(AESCipher):
    """eventsourcing's AES-GCM over each stored payload, keyed by the ledger key once the key
    store has read it (ADR 19): it starts on the master key, which is the ledger key of a
    ledger made before ledger keys existed."""

    def use(self, key: bytes) -> None:
        self.key = key


class CellCipher:
    """Seals the personal text read models keep (a client's name for `client list --search`),
    under a key derived from the master key: read models are rebuilt from the log at will, so
    they need no key of their own to keep (ADR 5)."""

    PREFIX = "sealed:"

    def __init__(self, master: bytes) -> None:
        self.key = HKDF(algorithm=SHA256(), length=32, salt=None,
                        info=b"practice-es read models").derive(master)

    def seal_text(self, text: str) -> str:
        return self.PREFIX + b64encode(seal(self.key, text.encode(), b"cell")).decode("ascii")

    def open_text(self, stored: str) -> str:
        if not stored.startswith(self.PREFIX):
            return stored  # written before the key was there (a scratch copy): as it is
        try:
            return unseal(self.key, b64decode(stored[len(self.PREFIX):]), b"cell").decode()
        except InvalidTag:
            raise WrongKey("cannot open the read models: rebuild them "
                           "(`practice projections rebuild`)") from None


def forget_ciphers() -> None:
    """Drop every cipher kept by `_cipher`: no destroyed key stays in this process."""
    _cipher.cache_clear()


def new_key() -> bytes:
    """A fresh 256-bit key (a data key, a ledger key)."""
    return AESGCM.generate_key(bit_length=256)


def key_aad(owner: UUID | str) -> bytes:
    return b"practice-es data key|" + str(owner).encode()


def wrap_data_key(master: bytes | None, owner: UUID, key: bytes) -> bytes:
    """The owner's data key as stored: sealed by the master key, or as it is without one."""
    return seal(master, key, key_aad(owner)) if master else key


def unwrap_data_key(master: bytes | None, owner: UUID, stored: bytes) -> bytes:
    """The owner's data key from its stored bytes; WrongKey if `master` does not open it."""
    if master is None:
        return stored
    try:
        return unseal(master, stored, key_aad(owner))
    except InvalidTag:
        raise WrongKey("cannot open the data keys: not the ledger's key") from None


def opens(key: bytes, sealed: bytes, aad: bytes) -> bool:
    """Whether `key` (with `aad`) opens `sealed`."""
    try:
        unseal(key, sealed, aad)
    except InvalidTag:
        return False
    return True

