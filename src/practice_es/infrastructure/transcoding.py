"""Pydantic events to stored bytes and back, with orjson (eventsourcing's aggregate8 pattern).

Upcasting: an event class with `class_version = N` stores that number with its state; a stored
state of an older version is brought forward by the class's `upcast_vK_vK+1(state)` static
methods before the model is validated, so old events replay as today's classes.

Sealing (ADR 9): before a state is encoded, its personal fields move into one block sealed
under the data key of the person the event is about; reading opens the block again, or, once
that key is destroyed (erasure), puts the `[erased]` marker in each field.
"""

from __future__ import annotations

from base64 import b64decode
from binascii import b2a_base64
from collections.abc import Callable
from functools import cache
from typing import Any, cast
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel, ValidationError

from practice_es.domain.erasure import marker
from practice_es.domain.events import STORED
from practice_es.domain.personal import filled_paths, personal_paths, pop_path, put_path
from practice_es.infrastructure.crypto import (
    erased_refusal,
    seal,
    unseal,
)
from practice_es.infrastructure.keystore import KeyStore

_ENVELOPE = {"originator_id", "originator_version"}
_SNAPSHOT = "practice:Snapshot"
SEALED = "_sealed"  # the key of the sealed block in a stored state
_SELF_OWNED = ("practice:Client", "practice:Referral.ReferralReceived")  # the person is the id
_NAMES_CLIENT = ("practice:ProgramOfCare.ProgramRecommended", "practice:Referral.ReferralMade")


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper):  # type: ignore[type-arg]
    sealer: Sealer | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        event_class = type(domain_event)
        state = cast(BaseModel, domain_event).model_dump(exclude=_ENVELOPE)
        class_version = getattr(event_class, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        topic = get_topic(event_class)
        ident, version = domain_event.originator_id, domain_event.originator_version
        return StoredEvent(originator_id=ident, originator_version=version, topic=topic,
                           state=self.sealed_state(topic, ident, version, state))

    def sealed_state(self, topic: str, ident: UUID, version: int,
                     state: dict[str, Any]) -> bytes:
        """The stored bytes of a state as `to_stored_event` dumps it (class version
        included): sealed, then encoded. The import's fast path builds such states straight
        from each event's fields, with no pydantic event."""
        if self.sealer is not None:
            self.sealer.seal(topic, ident, version, state)
        return self.encode_state(state)

    def encode_state(self, state: dict[str, Any]) -> bytes:
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return stored

    def state_encoder(self) -> Callable[[dict[str, Any]], bytes]:
        """`encode_state` as one call: orjson itself when nothing is compressed or
        encrypted: an import encodes millions of states, and each layer of calls around
        orjson adds to every one."""
        if type(self.transcoder) is OrjsonTranscoder and not (self.compressor or self.cipher):
            return orjson.dumps
        return self.encode_state

    def seals(self, topic: str) -> bool:
        """Whether `sealed_state` may seal a state of this topic (else it only encodes)."""
        return self.sealer is not None and (topic == _SNAPSHOT or bool(_event_target(topic)[0]))

    def decode_state(self, stored: StoredEvent) -> dict[str, Any]:
        data = stored.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            state = self.transcoder.decode(data)
        except Exception as error:
            raise _unreadable(stored, error) from error
        if not isinstance(state, dict):
            raise _unreadable(stored, TypeError("not an object"))
        return state

    def to_domain_event(self, stored: StoredEvent) -> DomainEventProtocol[Any]:
        event_class = resolve_topic(stored.topic)
        state = self.decode_state(stored)
        try:
            if self.sealer is not None:
                ident = stored.originator_id  # a UUID from either store: made once per row
                if type(ident) is not UUID:
                    ident = UUID(str(ident))
                self.sealer.open(stored.topic, ident, stored.originator_version, state)
            state = upcast(event_class, state)
            state["originator_id"] = stored.originator_id
            state["originator_version"] = stored.originator_version
            return cast(DomainEventProtocol[Any],
                        event_class.model_validate(state, context=STORED))
        except (InvalidTag, ValueError, KeyError, TypeError, AttributeError) as error:
            # Never the payload in the message: only whose event it is (ValidationError and
            # orjson errors would quote the values).
            raise _unreadable(stored, error) from None


def _unreadable(stored: StoredEvent, error: Exception) -> MapperDeserialisationError:
    kind = "ValidationError" if isinstance(error, ValidationError) else type(error).__name__
    return MapperDeserialisationError(
        f"cannot read the stored event {stored.originator_id} v{stored.originator_version} "
        f"({kind})")


def upcast(event_class: type[Any], state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored state of an older class version forward to the class's version."""
    version = state.pop("class_version", 1)
    target = getattr(event_class, "class_version", 1)
    while version < target:
        getattr(event_class, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state


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
        if topic != _SNAPSHOT and not _event_target(topic)[0]:
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
