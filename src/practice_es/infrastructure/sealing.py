"""Sealing (ADR 9): the personal fields of a state, under their person's own data key.

Before a state is encoded, its personal fields (those its class marks `Personal`) move into
one block sealed under the data key of the person the event is about; reading opens the block
again, or, once that key is destroyed (erasure), puts the erasure marker in each field.
"""

from __future__ import annotations

from base64 import b64decode
from binascii import b2a_base64
from collections.abc import Callable
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import TopicError, resolve_topic

from practice_es.domain.erasure import marker
from practice_es.domain.personal import filled_paths, personal_paths, pop_path, put_path
from practice_es.infrastructure.crypto import erased_refusal, seal, unseal
from practice_es.infrastructure.keystore import KeyStore

_SNAPSHOT = "practice:Snapshot"
SEALED = "_sealed"  # the key of the sealed block in a stored state
_SELF_OWNED = ("practice:Client", "practice:Referral.ReferralReceived")  # the person is the id
_NAMES_CLIENT = ("practice:ProgramOfCare.ProgramRecommended", "practice:Referral.ReferralMade")
_SEALS: dict[str, bool] = {_SNAPSHOT: True}  # by topic: whether `may_seal`


def may_seal(topic: str) -> bool:
    """Whether a state of this topic may have personal fields to seal (else it only encodes)."""
    seals = _SEALS.get(topic)
    if seals is None:
        seals = _SEALS[topic] = bool(_event_target(topic)[0])
    return seals


FirstState = Callable[[UUID], tuple[str, dict[str, Any]] | None]


class Sealer:
    """Seals the personal fields of a state under its person's data key, and opens them."""

    def __init__(self, keys: KeyStore, first_state: FirstState) -> None:
        self.keys = keys
        self.first_state = first_state  # the topic and state of an aggregate's first event
        self._owners: dict[UUID, UUID] = {}
        self._last: tuple[UUID | None, str] = (None, "")

    def seal(self, topic: str, ident: UUID, version: int, state: dict[str, Any]) -> None:
        """Move the personal fields into a block sealed under their person's data key."""
        if not (_SEALS[topic] if topic in _SEALS else may_seal(topic)):
            return  # nothing personal in it (most events: the import's hot path)
        container, paths, model = _target(topic, state)
        # Empty fields stay as they are: that a client gave no e-mail is no secret, and an
        # erased history then still shows which entries said something.
        filled = filled_paths(container, paths)
        if not filled:
            return
        owner = self.owner(topic, ident, state)
        key = self.keys.data_key(owner, create=True)
        if key is None:
            if all(value == marker(model, path) for path, value in filled.items()):
                return  # only erasure markers (a snapshot taken after the erasure)
            raise erased_refusal(owner)
        for path in filled:
            pop_path(container, path)
        ident_text = self._text(ident)
        sealed = seal(key, orjson.dumps(filled), aad(ident_text, version, topic))
        container[SEALED] = {"o": ident_text if owner is ident else str(owner),
                              "f": list(filled),
                              "d": b2a_base64(sealed, newline=False).decode("ascii")}

    def _text(self, ident: UUID) -> str:
        """`str(ident)`, kept for the aggregate sealed or opened last (an import seals one
        client's events one after another, a load opens them; a UUID's text is made in
        Python, slowly: an equal UUID is a cheaper test)."""
        last = self._last  # (one read: another thread may replace it)
        if last[0] is not ident and last[0] != ident:
            last = self._last = (ident, str(ident))
        return last[1]

    def open(self, topic: str, ident: UUID, version: int, state: dict[str, Any]) -> None:
        """Put the personal fields back: as sealed, or erasure markers if the key is gone."""
        container, _, model = _target(topic, state)
        block = container.pop(SEALED, None)
        if block is None:
            return
        ident_text = self._text(ident)
        # Most blocks are their own aggregate's person's (a client's events): no UUID to make.
        owner = ident if block["o"] == ident_text else UUID(block["o"])
        key = self.keys.data_key(owner, create=False)
        if key is None:
            values = {path: marker(model, path) for path in block["f"]}
        else:
            plain = unseal(key, b64decode(block["d"]), aad(ident_text, version, topic))
            values = orjson.loads(plain)
        for path, value in values.items():
            put_path(container, path, value)

    def owner(self, topic: str, ident: UUID, state: dict[str, Any]) -> UUID:
        """The person an aggregate's events are about: a client, or a referred prospect."""
        if topic == _SNAPSHOT:
            topic = state["topic"]
        if topic.startswith(_SELF_OWNED):
            return ident
        if topic in _NAMES_CLIENT:
            self._owners[ident] = UUID(str(state["client_id"]))
        if ident not in self._owners:
            first = self.first_state(ident)
            if first is None:
                raise KeyError(f"whose events are those of {ident}?")
            self._owners[ident] = self.owner(first[0], ident, first[1])
        return self._owners[ident]


def _target(topic: str, state: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...], Any]:
    """The dict that holds the personal fields, their paths, and the model that types them."""
    if topic == _SNAPSHOT:
        inner = state["topic"]
        model = getattr(resolve_topic(inner), "State", None)
        return state["state"], personal_paths(model), model
    paths, model = _event_target(topic)
    return state, paths, model


@cache
def _event_target(topic: str) -> tuple[tuple[str, ...], Any]:
    """An event topic's personal paths and its class (resolved once per topic)."""
    try:
        event_class = resolve_topic(topic)
    except TopicError:
        return (), None  # no such class: nothing to seal (reading it fails on its own)
    paths = personal_paths(event_class)
    return paths, event_class if paths else None


def aad(ident: UUID | str, version: int, topic: str) -> bytes:
    """What a sealed block is bound to: its event (id as `str(UUID)` prints it), version, topic."""
    return f"{ident}|{version}|{topic}".encode()
