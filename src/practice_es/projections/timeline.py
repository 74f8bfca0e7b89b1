"""Progress timelines: every event that concerns a client (their own, their programs' and
their referrals'), one row each, with a summary and any measures taken."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from practice_es.domain.events import DomainEvent
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.infrastructure.crypto import PERSONAL_FIELDS
from practice_es.infrastructure.transcoding import erased_copy
from practice_es.projections.base import (
    Position,
    Projection,
    Rows,
    Write,
    hexid,
    insert_all,
    read_models,
    text_id,
    topics_of,
    wall,
)
from practice_es.projections.personal import PersonalText
from practice_es.projections.summaries import corrected_summary, summarise

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
    lookups = ("client_id",)  # a correction or an erasure finds the client's entries

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        known = Rows(owners, "aggregate_id")
        known.preload_touched(
            conn, (text_id(e.originator_id) for _, e in events if _aggregate(e) != "Client"),
            (text_id(e.originator_id) for _, e in events if isinstance(e, _OWNS)))
        entries = []
        for position, event in events:
            mine = _aggregate(event) == "Client"
            client_id = text_id(event.originator_id) if mine else self._owner(known, event)
            if client_id is not None:
                entries.append(self._entry(known, position, event, client_id, mine))
        later = [e for _, e in events if isinstance(e, Client.EntryCorrected | Client.ClientErased)]

        def write(conn: Connection) -> None:
            known.flush(conn)
            insert_all(conn, timeline, entries)
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
               mine: bool) -> dict[str, Any]:
        """The entry of an event; `mine`: the client's own event (not a program's or a
        referral's)."""
        fields = vars(event)  # a field's value, or None if the event has no such field
        summary = summarise(event)
        erased = erased_copy(event) if _personal(type(event)) else event
        if isinstance(event, Referral.ReferralConverted):
            label = (known.peek(text_id(event.originator_id)) or {}).get("label")
            summary = f"came by referral from {label}" if label else "came by referral"
            erased = event
        erased_summary = None if erased is event else summarise(erased)
        occurred_on = event.occurred_on
        measures = fields.get("measures")
        return {
            "position": position, "client_id": client_id,
            "happened_on": wall(occurred_on), "on_iso": occurred_on.isoformat(),
            "event": type(event).__name__, "summary": summary,
            "erased_summary": None if erased_summary == summary else erased_summary,
            "program_id": hexid(event.originator_id if _aggregate(event) == "ProgramOfCare"
                                else fields.get("program_id")),
            "ref": hexid(fields.get("assessment_id")),
            "version": event.originator_version if mine else None,
            "measures": orjson.dumps(measures).decode() if measures else "{}",
        }


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
        values.update(happened_on=wall(moved), on_iso=moved.isoformat())
    summary = corrected_summary(event.corrected_event, changes)
    if summary is not None:
        values["summary"] = summary
        # An erasure still shows what the original entry shows once erased: keep that
        # (none kept means the summary itself, about to change).
        values["erased_summary"] = func.coalesce(t.erased_summary, t.summary)
    if values:
        conn.execute(timeline.update().where(entry).values(**values))


@functools.cache
def _personal(event_class: type) -> bool:
    """Whether events of the class may say something personal (else erasure leaves them)."""
    return bool(PERSONAL_FIELDS.get(getattr(event_class, "TOPIC", ""), ()))


@functools.cache
def _aggregate_of(topic: str) -> str:
    return topic.split(":", 1)[-1].split(".", 1)[0]


def _aggregate(event: DomainEvent) -> str:
    """The aggregate an event belongs to, from its stable topic ("practice:Client.…")."""
    return _aggregate_of(event.TOPIC)
