"""Pydantic events to stored bytes and back, with orjson (eventsourcing's aggregate8 pattern).

Upcasting: an event class with `class_version = N` stores that number with its state; a stored
state of an older version is brought forward by the class's `upcast_vK_vK+1(state)` static
methods before the model is validated, so old events replay as today's classes.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

_ENVELOPE = {"originator_id", "originator_version"}


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper):  # type: ignore[type-arg]
    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        event_class = type(domain_event)
        state = cast(BaseModel, domain_event).model_dump(exclude=_ENVELOPE)
        class_version = getattr(event_class, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(event_class),
            state=self.encode_state(state),
        )

    def encode_state(self, state: dict[str, Any]) -> bytes:
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return stored

    def decode_state(self, stored: StoredEvent) -> dict[str, Any]:
        data = stored.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            return cast(dict[str, Any], self.transcoder.decode(data))
        except Exception as error:
            raise MapperDeserialisationError(
                f"cannot read the stored event {stored.originator_id} v{stored.originator_version}"
                f" ({type(error).__name__})"
            ) from error

    def to_domain_event(self, stored: StoredEvent) -> DomainEventProtocol[Any]:
        event_class = resolve_topic(stored.topic)
        state = upcast(event_class, self.decode_state(stored))
        state["originator_id"] = stored.originator_id
        state["originator_version"] = stored.originator_version
        return cast(DomainEventProtocol[Any], event_class.model_validate(state))


def upcast(event_class: type[Any], state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored state of an older class version forward to the class's version."""
    version = state.pop("class_version", 1)
    target = getattr(event_class, "class_version", 1)
    while version < target:
        getattr(event_class, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state
