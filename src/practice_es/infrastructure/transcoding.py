"""Pydantic events to stored bytes and back, with orjson (eventsourcing's aggregate8 pattern).

Upcasting: an event class with `class_version = N` stores that number with its state; a stored
state of an older version is brought forward by the class's `upcast_vK_vK+1(state)` static
methods before the model is validated, so old events replay as today's classes.

Sealing (sealing.py, ADR 9): before a state is encoded, the mapper's sealer moves its
personal fields into a block sealed under their person's key, and opens it when reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ValidationError

from practice_es.domain.events import STORED
from practice_es.infrastructure.sealing import Sealer, may_seal

# Told of events once committed: their log positions, and each one's topic and state as orjson
# dumps it before its class version and sealing are added (what an import feeds read models).
Recorded = Callable[[Sequence[int], list[tuple[str, bytes]]], None]

_ENVELOPE = {"originator_id", "originator_version"}


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
        return self.sealer is not None and may_seal(topic)

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
