"""Programs of care: plan, phase and the dates of each step (recommended, accepted, ended)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, DateTime, Float, Integer, String, Table

from practice_es.domain.events import DomainEvent
from practice_es.domain.program import ProgramOfCare
from practice_es.projections.base import (
    Projection,
    Rows,
    Write,
    dispatch,
    local_time,
    read_models,
    text_id,
    topics_of,
)

programs = Table(
    "rm_programs",
    read_models,
    Column("program_id", String(36), primary_key=True),
    Column("client_id", String(36), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("assessment_id", String(36)),
    Column("phase", String(16), nullable=False),
    Column("visits", Integer, nullable=False),
    Column("per_week", Float, nullable=False),
    Column("reevaluate_after", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("recommended_on", DateTime, nullable=False),
    Column("accepted_on", DateTime),
    Column("declined_on", DateTime),
    Column("withdrawn_on", DateTime),  # a recommendation entered by mistake
    Column("ended_on", DateTime),  # completed or discontinued
    Column("end_reason", String),  # discharge, new-program, or the reason given
)


class ProgramBook(Projection):
    name = "programs"
    version = 2  # 2: withdrawn
    tables = (programs,)
    weight = 0.4
    topics = topics_of(ProgramOfCare)
    reads_personal_of = frozenset()

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        rows = Rows(programs, "program_id")
        rows.preload_touched(
            conn, (text_id(e.originator_id) for _, e in events),
            (text_id(e.originator_id) for _, e in events
             if isinstance(e, ProgramOfCare.ProgramRecommended)))
        for _, event in events:
            dispatch(self, event, rows)
        return rows.flush

    def _on_ProgramRecommended(self, rows: Rows, event: ProgramOfCare.ProgramRecommended
                               ) -> None:
        rows.add(text_id(event.originator_id), {
            "client_id": text_id(event.client_id), "number": event.number,
            "assessment_id": text_id(event.assessment_id), "phase": event.phase,
            "visits": event.visits, "per_week": event.per_week,
            "reevaluate_after": event.reevaluate_after, "status": "recommended",
            "recommended_on": local_time(event.occurred_on), "accepted_on": None,
            "declined_on": None, "withdrawn_on": None, "ended_on": None, "end_reason": None,
        })

    def _set(self, rows: Rows, event: DomainEvent, **values: object) -> None:
        row = rows.get(text_id(event.originator_id))
        if row is not None:
            row.update(values)

    def _on_ProgramAccepted(self, rows: Rows, event: DomainEvent) -> None:
        self._set(rows, event, status="active", accepted_on=local_time(event.occurred_on))

    def _on_ProgramDeclined(self, rows: Rows, event: DomainEvent) -> None:
        self._set(rows, event, status="declined", declined_on=local_time(event.occurred_on))

    def _on_ProgramWithdrawn(self, rows: Rows, event: DomainEvent) -> None:
        self._set(rows, event, status="withdrawn", withdrawn_on=local_time(event.occurred_on))

    def _on_ProgramCompleted(self, rows: Rows, event: ProgramOfCare.ProgramCompleted) -> None:
        self._set(rows, event, status="completed", ended_on=local_time(event.occurred_on),
                  end_reason=event.reason)

    def _on_ProgramDiscontinued(self, rows: Rows, event: ProgramOfCare.ProgramDiscontinued
                                ) -> None:
        self._set(rows, event, status="discontinued", ended_on=local_time(event.occurred_on),
                  end_reason=event.reason)
