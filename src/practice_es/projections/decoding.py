"""Reading the event log for a replay: raw rows, a page at a time, decoded fast.

A rebuild decodes every event of the log, so the mapper's per-event work dominates it. This
module makes exactly the events `PydanticMapper.to_domain_event` makes (tested over every
topic), with less work per event:
- the rows come straight from the store's cursor (no `Notification` objects, no UUID made and
  printed again), on SQLite; other stores go through the recorder;
- an event class is resolved once per topic;
- a state with nothing sealed and nothing to upcast is validated from its stored JSON as it is
  (`model_validate_json`, the envelope's two fields spliced in front), never built as a dict;
- anything else (sealed personal fields, an older class version, a cipher or a compressor)
  takes the mapper's own steps; anything that fails goes through `to_domain_event` itself, so
  an unreadable event fails with the mapper's own message;
- a replay whose projections read no personal field of a topic
  (`Projection.reads_personal_of`) leaves that topic's usual sealed block shut: no key is
  read, and its fields are left out of the event, so a projection that reads one it did not
  name fails (AttributeError) instead of reading a default;
- in a long replay, a state is validated by its class's replay model (`_replay_model`): the
  same fields and configuration without the domain's check of new text, which runs per field
  (a Python call each) and passes any stored text as it is anyway.
"""

from __future__ import annotations

import copy
import re
from base64 import b64decode
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from pydantic import BaseModel, ConfigDict, create_model

from practice_es.domain.events import STORED
from practice_es.infrastructure.crypto import unseal
from practice_es.infrastructure.sealing import SEALED, aad
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper, upcast

if TYPE_CHECKING:
    from practice_es.domain.events import DomainEvent
    from practice_es.infrastructure.ledger_store import LedgerStore

_SEALED = f'"{SEALED}"'.encode()
_CLASS_VERSION = b'"class_version"'
_OWNER = re.compile(rb'"_sealed":\{"o":"([0-9a-f-]{36})"')  # whose key opens the block


class RawEvent(NamedTuple):
    position: int
    topic: str
    originator_id: UUID | str  # a UUID, or its text as the store keeps it
    originator_version: int
    state: bytes


class LogReader:
    """Pages of raw events from the ledger's log, by position."""

    def __init__(self, ledger: LedgerStore) -> None:
        self.recorder: Any = ledger.recorder
        self.direct = ledger.location.backend == "sqlite" and hasattr(
            self.recorder, "datastore")

    def page(self, after: int, stop: int, limit: int, topics: Sequence[str] = ()
             ) -> list[RawEvent]:
        """Up to `limit` events with after < position <= stop (only `topics`, if given)."""
        if not self.direct:
            notes = self.recorder.select_notifications(
                start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False)
            return [RawEvent(n.id, n.topic, n.originator_id, n.originator_version, n.state)
                    for n in notes]
        statement = (f"SELECT rowid, topic, originator_id, originator_version, state "
                     f"FROM {self.recorder.events_table_name} WHERE rowid > ? AND rowid <= ?")
        params: list[Any] = [after, stop]
        if topics:
            statement += f" AND topic IN ({','.join('?' * len(topics))})"
            params += topics
        params.append(limit)
        with self.recorder.datastore.transaction(commit=False) as cursor:
            plain = cursor.sqlite_cursor
            plain.row_factory = None  # tuples: the library's rows are slower to make and read
            plain.execute(statement + " ORDER BY rowid LIMIT ?", params)
            return list(map(RawEvent._make, plain.fetchall()))


REPLAY_MODELS_FROM = 1_000  # events in a page from which replay models repay building them


class EventDecoder:
    """Raw events to domain events, exactly as the ledger's mapper decodes them."""

    def __init__(self, mapper: PydanticMapper) -> None:
        self.mapper = mapper
        self.plain = isinstance(mapper.transcoder, OrjsonTranscoder)
        self._classes: dict[str, tuple[type[Any], bool]] = {}
        self.replay_models = False  # whether this page's states are validated by replay models
        self._keys: dict[str, bytes] = {}  # data keys by their owner's id as text
        self.opened: frozenset[str] | None = None  # topics whose sealed fields are read; None: all
        # Events this process recorded, by position: their topic and state before sealing.
        self.known: dict[int, tuple[str, bytes]] = {}

    def _class(self, topic: str) -> tuple[type[Any], bool]:
        """The event class of a topic, and whether its stored states may need upcasting."""
        found = self._classes.get(topic)
        if found is None:
            event_class = resolve_topic(topic)
            found = self._classes[topic] = (
                event_class, getattr(event_class, "class_version", 1) > 1)
        return found

    def decode_page(self, page: Sequence[RawEvent]) -> list[DomainEvent]:
        known = self.known
        self._load_keys([raw for raw in page if raw.position not in known] if known else page)
        self.replay_models = len(page) >= REPLAY_MODELS_FROM
        self._keys.clear()  # (a page's worth: never kept past a key's destruction)
        decode = self.decode if not known else self._recorded
        return [decode(raw) for raw in page]

    def _recorded(self, raw: RawEvent) -> DomainEvent:
        """An event this process recorded, from its state as encoded before its class
        version and sealing were added (what `_opened` validates once it has opened the
        sealed block and upcast); any other event, or one that fails so, from the log."""
        known = self.known.pop(raw.position, None)
        if known is None or known[0] != raw.topic:
            return self.decode(raw)
        try:
            return self._from_json(raw, self._class(raw.topic)[0], known[1])
        except Exception:  # (the log's own bytes name the failure, if any)
            return self.decode(raw)

    def _load_keys(self, page: Sequence[RawEvent]) -> None:
        """The data keys of the people whose sealed fields the page holds, in a few queries
        (the sealer would ask for each new one alone). Only a speed-up: a key not found here
        is still read by the sealer when it opens the block."""
        keys = getattr(self.mapper.sealer, "keys", None)
        if keys is None or self.mapper.cipher or self.mapper.compressor:
            return
        opened = self.opened
        owners = {match.group(1) for raw in page if _SEALED in raw.state
                  and (opened is None or raw.topic in opened)
                  for match in [_OWNER.search(raw.state)] if match is not None}
        keys.load_data_keys([UUID(owner.decode()) for owner in sorted(owners)])

    def decode(self, raw: RawEvent) -> DomainEvent:
        if not self.plain:
            return self._mapped(raw)
        try:
            return self._decode(raw)
        except Exception:  # the mapper's own path names the failure
            return self._mapped(raw)

    def _decode(self, raw: RawEvent) -> DomainEvent:
        event_class, versioned = self._class(raw.topic)
        data = raw.state
        if self.mapper.cipher:
            data = self.mapper.cipher.decrypt(data)
        if self.mapper.compressor:
            data = self.mapper.compressor.decompress(data)
        if versioned or _SEALED in data or _CLASS_VERSION in data:
            return self._opened(raw, event_class, data)
        return self._from_json(raw, event_class, data)

    def _from_json(self, raw: RawEvent, event_class: type[Any], data: bytes) -> DomainEvent:
        """The event of a state at its class's version with nothing sealed, validated from
        its JSON as it is, the envelope's two fields spliced in front."""
        head = b'{"originator_id":"%s","originator_version":%d,' % (
            str(raw.originator_id).encode(), raw.originator_version)
        if self.replay_models:
            return _as_event(event_class, _replay_model(event_class).model_validate_json(
                head + data[1:]))
        return cast("DomainEvent", event_class.model_validate_json(head + data[1:],
                                                                   context=STORED))

    def _opened(self, raw: RawEvent, event_class: type[Any], data: bytes) -> DomainEvent:
        """The mapper's own steps: open the sealed fields, upcast, validate the dict."""
        state = orjson.loads(data)
        shut = self._open_plainly(raw, state) if self.replay_models else None
        if shut is not None:
            event = self._validated(raw, event_class, state, plainly=True)
            for name in shut:  # never read as a default: reading it fails
                event.__dict__.pop(name, None)
            return event
        ident = raw.originator_id if isinstance(raw.originator_id, UUID) else UUID(
            raw.originator_id)
        if self.mapper.sealer is not None:
            self.mapper.sealer.open(raw.topic, ident, raw.originator_version, state)
        return self._validated(raw, event_class, state)

    def _validated(self, raw: RawEvent, event_class: type[Any], state: dict[str, Any],
                   plainly: bool = False) -> DomainEvent:
        """The event of an opened state: upcast, then validated (by the replay model in a
        long replay; `plainly`: the id's text is validated in Rust, no UUID made first)."""
        state = upcast(event_class, state)
        if self.replay_models and plainly:
            state["originator_id"] = raw.originator_id
            state["originator_version"] = raw.originator_version
            return _as_event(event_class, _replay_model(event_class).model_validate(state))
        ident = raw.originator_id if isinstance(raw.originator_id, UUID) else UUID(
            raw.originator_id)
        state["originator_id"] = ident
        state["originator_version"] = raw.originator_version
        if self.replay_models:
            return _as_event(event_class, _replay_model(event_class).model_validate(state))
        return cast("DomainEvent", event_class.model_validate(state, context=STORED))

    def _open_plainly(self, raw: RawEvent, state: dict[str, Any]) -> Sequence[str] | None:
        """`Sealer.open` of the usual block, with less work per event (a long replay opens
        one per visit): the owner's key found by the id's text, not a UUID made each time.
        Returns the fields left shut: those of a topic whose sealed fields no projection here
        reads. Anything else (no key: the person was erased; a correction's nested fields;
        another sealer) is left as it is for `Sealer.open` (None)."""
        block = state.get(SEALED)
        keys = getattr(self.mapper.sealer, "keys", None)
        if type(block) is not dict or keys is None or any("." in f for f in block["f"]):
            return None
        if self.opened is not None and raw.topic not in self.opened:
            del state[SEALED]
            return cast("list[str]", block["f"])
        owner = block["o"]
        key = self._keys.get(owner)
        if key is None:
            key = keys.data_key(UUID(owner), create=False)
            if key is None:
                return None
            self._keys[owner] = key
        bound = aad(_dashed(raw.originator_id), raw.originator_version, raw.topic)
        fields = orjson.loads(unseal(key, b64decode(block["d"]), bound))
        del state[SEALED]
        state.update(fields)
        return ()

    def _mapped(self, raw: RawEvent) -> DomainEvent:
        ident = raw.originator_id if isinstance(raw.originator_id, UUID) else UUID(
            raw.originator_id)
        stored = StoredEvent(originator_id=ident, originator_version=raw.originator_version,
                             topic=raw.topic, state=raw.state)
        return cast("DomainEvent", self.mapper.to_domain_event(stored))


_REPLAY_MODELS: dict[type[BaseModel], type[BaseModel]] = {}


def _replay_model(event_class: type[BaseModel]) -> type[BaseModel]:
    model = _REPLAY_MODELS.get(event_class)
    if model is None:
        model = _REPLAY_MODELS[event_class] = _make_replay_model(event_class)
    return model


def _make_replay_model(event_class: type[BaseModel]) -> type[BaseModel]:
    """A model of the event class's fields and configuration, without its validators: the
    domain's only one (`DomainEvent._storable`) passes stored text as it is. A class with
    validators of its own, private attributes or a post-init hook is its own replay model."""
    event_class.model_rebuild()
    own = event_class.__pydantic_decorators__
    if (event_class.__private_attributes__ or event_class.__pydantic_post_init__
            or set(own.field_validators) - {"_storable"} or own.model_validators
            or own.root_validators or own.validators):
        return event_class
    config = ConfigDict(**{k: v for k, v in event_class.model_config.items()  # type: ignore[typeddict-item]
                           if k != "defer_build"})
    fields: dict[str, Any] = {name: (field.annotation, copy.copy(field))
                              for name, field in event_class.model_fields.items()}
    return create_model(f"{event_class.__name__}Stored", __config__=config, **fields)


def _as_event(event_class: type[BaseModel], validated: BaseModel) -> DomainEvent:
    """The event its replay model validated: the same values and fields set, as
    `model_construct` makes an instance (without its per-field work: the values are whole
    already). The event class is frozen, hence `object.__setattr__`."""
    if type(validated) is event_class:
        return cast("DomainEvent", validated)
    event = event_class.__new__(event_class)
    object.__setattr__(event, "__dict__", validated.__dict__)
    object.__setattr__(event, "__pydantic_fields_set__", validated.__pydantic_fields_set__)
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return cast("DomainEvent", event)


def _dashed(ident: UUID | str) -> str:
    """An id as `str(UUID)` prints it (SQLite keeps its 32 hex digits)."""
    if isinstance(ident, str) and len(ident) == 32:
        return f"{ident[:8]}-{ident[8:12]}-{ident[12:16]}-{ident[16:20]}-{ident[20:]}"
    return str(ident)
