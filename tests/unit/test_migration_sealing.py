"""Sealing as an import does it, a field after another: the random nonces it fetches in bulk
are never handed out twice, whether threads seal at once or a process forks (a repeated nonce
under one key would give AES-GCM away)."""

from __future__ import annotations

import os
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from practice_es.infrastructure.crypto import _NONCES, seal, unseal


def test_a_sealed_field_opens_and_no_two_seals_share_a_nonce() -> None:
    key = AESGCM.generate_key(bit_length=256)
    sealed = [seal(key, b"low back pain", b"aad") for _ in range(10_000)]
    assert {unseal(key, s, b"aad") for s in sealed} == {b"low back pain"}
    assert len({s[:12] for s in sealed}) == len(sealed)


def test_threads_sealing_at_once_never_get_the_same_nonce() -> None:
    taken: list[bytes] = []

    def work() -> None:
        taken.extend([_NONCES.take() for _ in range(10_000)])  # extend is atomic

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(taken)) == len(taken) == 40_000


def test_a_forked_child_does_not_repeat_its_parent_s_next_nonces() -> None:
    _NONCES.take()  # the parent has nonces fetched and not yet handed out
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and leaves
        os.write(write, b"".join(_NONCES.take() for _ in range(10)))
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 120)
    os.close(read)
    os.close(write)
    from_parent = b"".join(_NONCES.take() for _ in range(10))
    assert len(from_child) == 120 and from_child != from_parent


def test_a_child_forked_without_python_s_hooks_does_not_repeat_them_either(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork made in C (no `os.register_at_fork` hook run) copies the parent's buffer into
    the child: there it is fetched anew, because the process id changed."""
    _NONCES.take()
    copied = (_NONCES._buffer, _NONCES._used)  # the memory such a fork copies
    from_parent = [_NONCES.take() for _ in range(10)]
    _NONCES._buffer, _NONCES._used = copied
    parent = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent + 1)
    from_child = [_NONCES.take() for _ in range(10)]
    assert not set(from_child) & set(from_parent)
