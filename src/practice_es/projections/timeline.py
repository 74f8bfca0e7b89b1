"""Progress timelines: every event that concerns a client (their own, their programs' and
their referrals'), one row each, with a summary and any measures taken."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
)

from practice_es.domain.client import Client
from practice_es.domain.erasure import erased_copy, erased_markers
from practice_es.domain.events import DomainEvent
from practice_es.domain.personal import personal_paths
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.projections import indexes
from practice_es.projections.base import (
    Position,
    Projection,
    Rows,
    Write,
    insert_all,
    local_time,
    optional_text_id,
    read_models,
    text_id,
    topics_of,
)
from practice_es.projections.personal import PersonalText
from practice_es.projections.summaries import corrected_summary, summarise, summarise_as

timeline = Table(
    "rm_timeline",
    read_models,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("client_id", String(36), nullable=False, index=True),
    Column("happened_on", DateTime, nullable=False),  # wall-clock time, for ordering
    Column("on_iso", String(40), nullable=False),  # the occurred_on as recorded, with offset
    Column("event", String(40), nullable=False),
    Column("summary", PersonalText, nullable=False),  # findings, notes: sealed at rest
    # The summary as it will read once the client is erased (ADR 5), if that is another:
    # ClientErased copies it over `summary`, which is exactly what a rebuild reads then.
    Column("erased_summary", PersonalText),
    Column("program_id", String(36), index=True),
    Column("ref", String(36)),  # an assessment's id: programs cite it as their baseline
    Column("version", Integer),  # the client's own events: their version (corrections name it)
    Column("measures", Text, nullable=False),  # JSON object
)

_by_client = next(i for i in timeline.indexes if [c.name for c in i.columns] == ["client_id"])

# Whose timeline an aggregate's events go to: programs and referrals name their client once.
owners = Table(
    "rm_timeline_owners",
    read_models,
    Column("aggregate_id", String(36), primary_key=True),
    Column("client_id", String(36)),
    Column("label", String),  # a referral in: its source, for the conversion's summary
)


# The events that say whose an aggregate is: the first of each program or referral.
_OWNS = (ProgramOfCare.ProgramRecommended, Referral.ReferralMade, Referral.ReferralReceived)


class Timeline(Projection):
    name = "timeline"
    # 2: summaries sealed at rest, erased_summary; 3: corrections applied; 4: the position
    # is SQLite's row id; 5: no erased_summary where erasure leaves the summary as it is
    version = 5
    tables = (timeline, owners)
    topics = topics_of(Client, ProgramOfCare, Referral)
    weight = 3.0  # a row for every event of the log
    # A correction or an erasure finds the client's entries by their client_id: its index
    # is built before one is written (`_by_client`), not kept up row by row in a rebuild
    # (a B-tree of random keys: every page's commit rewrote most of it).

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        known = Rows(owners, "aggregate_id")
        others = [e for _, e in events if _kind(type(e)).aggregate != "Client"]
        known.preload_touched(conn, (text_id(e.originator_id) for e in others),
                              (text_id(e.originator_id) for e in others if isinstance(e, _OWNS)))
        entries, later = [], []
        for position, event in events:
            kind = _kind(type(event))
            mine = kind.aggregate == "Client"
            client_id = text_id(event.originator_id) if mine else self._owner(known, event)
            if client_id is not None:
                entries.append(self._entry(known, position, event, client_id, kind))
            if kind.later:
                later.append(event)

        def write(conn: Connection) -> None:
            known.flush(conn)
            insert_all(conn, timeline, entries)
            if later:
                indexes.build_missing(conn, [_by_client])
            for event in later:  # they change rows written before them: after the inserts
                if isinstance(event, Client.EntryCorrected):
                    _correct(conn, event)
                else:
                    conn.execute(timeline.update().where(
                        timeline.c.client_id == text_id(event.originator_id)).values(
                        summary=func.coalesce(timeline.c.erased_summary,
                                              timeline.c.summary),
                        erased_summary=None))  # as a rebuild reads it now

        return write

    @staticmethod
    def _owner(known: Rows, event: DomainEvent) -> str | None:
        """The client a program's or a referral's event concerns, learning owners from the
        events that name them."""
        ident = text_id(event.originator_id)
        if isinstance(event, ProgramOfCare.ProgramRecommended | Referral.ReferralMade):
            known.add(ident, {"client_id": text_id(event.client_id), "label": None})
        elif isinstance(event, Referral.ReferralReceived):
            known.add(ident, {"client_id": None,
                              "label": f"{event.source_kind} {event.referrer}"})
        elif isinstance(event, Referral.ReferralConverted):
            row = known.get(ident)
            if row is not None:
                row["client_id"] = text_id(event.client_id)
        row = known.peek(ident)
        return row["client_id"] if row is not None else None

    @staticmethod
    def _entry(known: Rows, position: int, event: DomainEvent, client_id: str,
               kind: _Kind) -> dict[str, Any]:
        """The entry of an event (`kind`: what its class says about it)."""
        fields = vars(event)  # a field's value, or None if the event has no such field
        summary = summarise(event)
        erased_summary = _erased_summary(event, kind, summary) if kind.personal else None
        if isinstance(event, Referral.ReferralConverted):
            label = (known.peek(text_id(event.originator_id)) or {}).get("label")
            summary = f"came by referral from {label}" if label else "came by referral"
        occurred_on = event.occurred_on
        measures = fields.get("measures")
        return {
            "position": position, "client_id": client_id,
            "happened_on": local_time(occurred_on), "on_iso": occurred_on.isoformat(),
            "event": kind.name, "summary": summary, "erased_summary": erased_summary,
            "program_id": optional_text_id(event.originator_id if kind.aggregate == "ProgramOfCare"
                                else fields.get("program_id")),
            "ref": optional_text_id(fields.get("assessment_id")),
            "version": event.originator_version if kind.aggregate == "Client" else None,
            "measures": orjson.dumps(measures).decode() if measures else "{}",
        }


class _Kind(NamedTuple):
    """What the timeline needs to know of an event class, worked out once per class."""

    name: str
    aggregate: str  # the aggregate it belongs to, from its stable topic ("practice:Client.…")
    personal: bool  # it has fields that may say something personal (ADR 5)
    later: bool  # it changes entries written before it (a correction, an erasure)


@functools.cache
def _kind(event_class: type) -> _Kind:
    topic = getattr(event_class, "TOPIC", "")
    return _Kind(event_class.__name__, topic.split(":", 1)[-1].split(".", 1)[0],
                 bool(personal_paths(event_class)),
                 issubclass(event_class, Client.EntryCorrected | Client.ClientErased))


class _AsErased:
    """An event's fields as they read once its person is erased: the markers in the filled
    personal fields (as `erased_copy` puts them), the event's own values elsewhere. Only
    read by the event's summary: no copy of the event is made and validated."""

    def __init__(self, event: DomainEvent, markers: dict[str, Any]) -> None:
        self._event = event
        self._markers = markers

    def __getattr__(self, name: str) -> Any:
        markers = self._markers
        return markers[name] if name in markers else getattr(self._event, name)


def _erased_summary(event: DomainEvent, kind: _Kind, summary: str) -> str | None:
    """The summary as it will read once the client is erased, if that is another."""
    markers = erased_markers(event)
    if not markers:
        return None
    if any("." in p for p in markers):  # a correction's changed values: rare, the long way
        erased = summarise(erased_copy(event))
    else:
        erased = summarise_as(kind.name, _AsErased(event, markers))
    return None if erased == summary else erased



def _correct(conn: Connection, event: Client.EntryCorrected) -> None:
    """The corrected entry shows the corrected values: its date, measures and summary
    (corrections are rare: a statement or two each is fine)."""
    t = timeline.c
    entry = ((t.client_id == text_id(event.originator_id))
             & (t.version == event.corrected_version))
    row = conn.execute(select(t.measures).where(entry)).first()
    if row is None:
        return
    changes, values = event.changes, dict[str, Any]()
    if "measures" in changes:
        values["measures"] = orjson.dumps({**orjson.loads(row.measures),
                                           **changes["measures"]}).decode()
    if "occurred_on" in changes:
        moved = datetime.fromisoformat(changes["occurred_on"])
        values.update(happened_on=local_time(moved), on_iso=moved.isoformat())
    summary = corrected_summary(event.corrected_event, changes)
    if summary is not None:
        values["summary"] = summary
        # An erasure still shows what the original entry shows once erased: keep that
        # (none kept means the summary itself, about to change).
        values["erased_summary"] = func.coalesce(t.erased_summary, t.summary)
    if values:
        conn.execute(timeline.update().where(entry).values(**values))
