"""Sealing as an import does it, a field after another: no two seals ever share a nonce,
whether threads seal at once or a process forks (a repeated nonce under one key would give
AES-GCM away)."""

from __future__ import annotations

import os
import threading

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from practice_es.infrastructure.crypto import seal, unseal

KEY = AESGCM.generate_key(bit_length=256)


def _nonces(count: int) -> list[bytes]:
    return [seal(KEY, b"low back pain", b"aad")[:12] for _ in range(count)]


def test_a_sealed_field_opens_and_no_two_seals_share_a_nonce() -> None:
    sealed = [seal(KEY, b"low back pain", b"aad") for _ in range(10_000)]
    assert {unseal(KEY, s, b"aad") for s in sealed} == {b"low back pain"}
    assert len({s[:12] for s in sealed}) == len(sealed)


def test_threads_sealing_at_once_never_get_the_same_nonce() -> None:
    taken: list[bytes] = []

    def work() -> None:
        taken.extend(_nonces(10_000))  # extend is atomic

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(taken)) == len(taken) == 40_000


def test_a_forked_child_does_not_repeat_its_parent_s_next_nonces() -> None:
    _nonces(1)  # the parent has sealed before it forks
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and leaves
        os.write(write, b"".join(_nonces(10)))
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 120)
    os.close(read)
    os.close(write)
    from_parent = b"".join(_nonces(10))
    assert len(from_child) == 120 and from_child != from_parent
