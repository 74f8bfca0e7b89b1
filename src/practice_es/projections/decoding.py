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
  an unreadable event fails with the mapper's own message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from practice_es.domain.events import STORED
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper, upcast

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger
    from practice_es.domain.events import DomainEvent

_SEALED = b'"_sealed"'
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

    def __init__(self, ledger: PracticeLedger) -> None:
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


class EventDecoder:
    """Raw events to domain events, exactly as the ledger's mapper decodes them."""

    def __init__(self, mapper: PydanticMapper) -> None:
        self.mapper = mapper
        self.plain = isinstance(mapper.transcoder, OrjsonTranscoder)
        self._classes: dict[str, tuple[type[Any], bool]] = {}

    def _class(self, topic: str) -> tuple[type[Any], bool]:
        """The event class of a topic, and whether its stored states may need upcasting."""
        found = self._classes.get(topic)
        if found is None:
            event_class = resolve_topic(topic)
            found = self._classes[topic] = (
                event_class, getattr(event_class, "class_version", 1) > 1)
        return found

    def decode_page(self, page: Sequence[RawEvent]) -> list[DomainEvent]:
        self._load_keys(page)
        decode = self.decode
        return [decode(raw) for raw in page]

    def _load_keys(self, page: Sequence[RawEvent]) -> None:
        """The data keys of the people whose sealed fields the page holds, in a few queries
        (the sealer would ask for each new one alone). Only a speed-up: a key not found here
        is still read by the sealer when it opens the block."""
        keys = getattr(self.mapper.sealer, "keys", None)
        if keys is None or self.mapper.cipher or self.mapper.compressor:
            return
        owners = {match.group(1) for raw in page if _SEALED in raw.state
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
        head = b'{"originator_id":"%s","originator_version":%d,' % (
            str(raw.originator_id).encode(), raw.originator_version)
        return cast("DomainEvent", event_class.model_validate_json(head + data[1:],
                                                                   context=STORED))

    def _opened(self, raw: RawEvent, event_class: type[Any], data: bytes) -> DomainEvent:
        """The mapper's own steps: open the sealed fields, upcast, validate the dict."""
        state = orjson.loads(data)
        ident = raw.originator_id if isinstance(raw.originator_id, UUID) else UUID(
            raw.originator_id)
        if self.mapper.sealer is not None:
            self.mapper.sealer.open(raw.topic, ident, raw.originator_version, state)
        state = upcast(event_class, state)
        state["originator_id"] = ident
        state["originator_version"] = raw.originator_version
        return cast("DomainEvent", event_class.model_validate(state, context=STORED))

    def _mapped(self, raw: RawEvent) -> DomainEvent:
        ident = raw.originator_id if isinstance(raw.originator_id, UUID) else UUID(
            raw.originator_id)
        stored = StoredEvent(originator_id=ident, originator_version=raw.originator_version,
                             topic=raw.topic, state=raw.state)
        return cast("DomainEvent", self.mapper.to_domain_event(stored))
