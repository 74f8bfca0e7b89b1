"""Stored states straight from an event's fields: the import's hot path makes no pydantic
event. A test decodes what this and the aggregates' own path store and compares them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from practice_es.infrastructure.transcoding import PydanticMapper

_ENVELOPE = ("originator_id", "originator_version")


class StateEncoder:
    """An event's topic and stored state from its fields, exactly as
    `PydanticMapper.to_stored_event` stores the pydantic event: the state `model_dump` gives
    (same keys in the same order, the defaults of the fields not given, the class version),
    then the mapper's own sealing and encoding (`PydanticMapper.sealed_state`)."""

    def __init__(self, mapper: PydanticMapper) -> None:
        self.mapper = mapper
        self.dumps = mapper.state_encoder()
        self._plans: dict[type[Any], _Plan] = {}
        self._stored_is_plain = self.dumps is orjson.dumps

    def encode(self, event_class: type[Any], ident: UUID, version: int,
               fields: dict[str, Any], timestamp: datetime) -> tuple[str, bytes]:
        topic, stored, _ = self.encode_both(event_class, ident, version, fields, timestamp,
                                            plain=False)
        return topic, stored

    def encode_both(self, event_class: type[Any], ident: UUID, version: int,
                    fields: dict[str, Any], timestamp: datetime, plain: bool = True
                    ) -> tuple[str, bytes, bytes]:
        """The topic, the stored state and (if `plain`) the state as orjson alone dumps it,
        before its class version, sealing and any cipher are added: what the read models are
        fed from (`Recorded`)."""
        plan = self._plans.get(event_class) or self._plan(event_class)
        if tuple(fields) == plan.names:
            # Every field given, in the model's order (as `facts` builds the hot events).
            state = {"timestamp": timestamp, **fields}
        else:
            if not plan.required <= fields.keys():
                raise TypeError(f"{event_class.__name__} needs "
                                f"{sorted(plan.required - fields.keys())}")
            state = {name: fields.get(name, default) for name, default in plan.template}
            state["timestamp"] = timestamp
        opened = b""
        if plain and (plan.sealed or plan.class_version > 1 or not self._stored_is_plain):
            opened = orjson.dumps(state)  # (no class version: the class's own, validated as is)
        if plan.class_version > 1:
            state["class_version"] = plan.class_version
        if plan.sealed:  # (what `sealed_state` does, with the encoding in one call)
            self.mapper.sealer.seal(plan.topic, ident, version, state)  # type: ignore[union-attr]
        stored = self.dumps(state)
        return plan.topic, stored, opened or (stored if plain else b"")

    def _plan(self, event_class: type[Any]) -> _Plan:
        event_class.model_rebuild()  # events may be compiled lazily (defer_build)
        fields = {name: info for name, info in event_class.model_fields.items()
                  if name not in _ENVELOPE}
        template = tuple((name, None if info.is_required()
                          else info.get_default(call_default_factory=True))
                         for name, info in fields.items())
        required = frozenset(name for name, info in fields.items()
                             if info.is_required() and name != "timestamp")
        # The state starts with the record time; the shortcut needs it first.
        names = tuple(fields)[1:] if next(iter(fields), None) == "timestamp" else None
        topic = get_topic(event_class)
        plan = self._plans[event_class] = _Plan(
            topic, names, template, required, getattr(event_class, "class_version", 1),
            self.mapper.seals(topic))
        return plan


class _Plan(NamedTuple):
    """How one event class's states are made: its topic, its fields after the record time
    (None if that is not first), its state's keys in order with their defaults, the keys it
    needs, its class version, and whether the mapper may seal it (else orjson alone)."""

    topic: str
    names: tuple[str, ...] | None
    template: tuple[tuple[str, Any], ...]
    required: frozenset[str]
    class_version: int
    sealed: bool
