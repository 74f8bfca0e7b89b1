"""Visits: every visit booked or completed, with its booking time, visit time and outcome.

The retention, rebooking and drop-off figures are computed from these rows at report time, so
a back-dated visit changes them the moment it is recorded (nothing is pre-aggregated).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, Connection, DateTime, Index, String, Table

from practice_es.domain.client import Client
from practice_es.domain.events import DomainEvent
from practice_es.projections.base import (
    Projection,
    Rows,
    Write,
    dispatch,
    local_time,
    optional_text_id,
    read_models,
    text_id,
)

visits = Table(
    "rm_visits",
    read_models,
    Column("visit_id", String(36), primary_key=True),
    Column("client_id", String(36), nullable=False, index=True),
    Column("program_id", String(36), index=True),
    Column("booked_on", DateTime),  # VisitScheduled.occurred_on; null for a walk-in
    Column("at", DateTime, nullable=False),  # when it is to happen (walk-in: when it did)
    Column("status", String(10), nullable=False),  # scheduled completed cancelled missed
    Column("closed_on", DateTime),  # when it was completed, cancelled or missed
    Index("ix_rm_visits_status_closed", "status", "closed_on"),
    Index("ix_rm_visits_at", "at"),  # the day sheet: a day's bookings by time
)

_EVENTS = ("VisitScheduled", "VisitRescheduled", "VisitCancelled", "VisitMissed",
           "VisitCompleted", "EntryCorrected")


class VisitBook(Projection):
    name = "visits"
    version = 2  # 2: a corrected visit date moves the visit
    tables = (visits,)
    weight = 1.5
    topics = tuple(getattr(Client, e).TOPIC for e in _EVENTS)
    # (EntryCorrected for its changes: no personal field of it is read)
    reads_personal_of = frozenset({Client.EntryCorrected.TOPIC})

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        rows = Rows(visits, "visit_id")
        created, touched = set(), set()
        for _, event in events:  # (one pass: this runs for every visit of the log)
            if isinstance(event, Client.VisitScheduled):
                created.add(text_id(event.visit_id))
            else:
                fields = vars(event)
                touched.add(text_id(fields.get("visit_id") or fields.get("entry_id")))
        rows.preload(conn, touched - created)
        for _, event in events:
            dispatch(self, event, rows)
        return rows.flush

    def _on_VisitScheduled(self, rows: Rows, event: Client.VisitScheduled) -> None:
        rows.add(text_id(event.visit_id), {
            "client_id": text_id(event.originator_id),
            "program_id": optional_text_id(event.program_id),
            "booked_on": local_time(event.occurred_on), "at": local_time(event.at),
            "status": "scheduled", "closed_on": None,
        })

    def _on_VisitRescheduled(self, rows: Rows, event: Client.VisitRescheduled) -> None:
        row = rows.get(text_id(event.visit_id))
        if row is not None:
            row["at"] = local_time(event.at)

    def _close(self, rows: Rows, event: DomainEvent, visit_id: str, status: str) -> None:
        row = rows.get(visit_id)
        if row is not None:
            row.update(status=status, closed_on=local_time(event.occurred_on))

    def _on_VisitCancelled(self, rows: Rows, event: Client.VisitCancelled) -> None:
        self._close(rows, event, text_id(event.visit_id), "cancelled")

    def _on_VisitMissed(self, rows: Rows, event: Client.VisitMissed) -> None:
        self._close(rows, event, text_id(event.visit_id), "missed")

    def _on_VisitCompleted(self, rows: Rows, event: Client.VisitCompleted) -> None:
        visit_id = text_id(event.visit_id)
        if rows.peek(visit_id) is None:  # a walk-in: never booked
            rows.add(visit_id, {
                "client_id": text_id(event.originator_id),
                "program_id": optional_text_id(event.program_id), "booked_on": None,
                "at": local_time(event.occurred_on), "status": "completed",
                "closed_on": local_time(event.occurred_on),
            })
            return
        self._close(rows, event, visit_id, "completed")
        row = rows.get(visit_id)
        if row is not None and event.program_id is not None:
            row["program_id"] = text_id(event.program_id)

    def _on_EntryCorrected(self, rows: Rows, event: Client.EntryCorrected) -> None:
        """A completed visit's corrected date is the date every report uses."""
        moved = event.changes.get("occurred_on")
        if event.corrected_event != "VisitCompleted" or moved is None:
            return
        row = rows.get(text_id(event.entry_id))
        if row is not None:
            when = local_time(datetime.fromisoformat(moved))
            row["closed_on"] = when
            if row["booked_on"] is None:  # a walk-in happened when it was completed
                row["at"] = when
